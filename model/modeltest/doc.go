// Package modeltest simulates Alibaba Cloud Model Studio (DashScope) for
// tests and demos, in the spirit of net/http/httptest.
//
// A Server speaks both chat protocols of the service on a loopback port:
//
//	POST /compatible-mode/v1/chat/completions                 OpenAI-compatible
//	POST /api/v1/services/aigc/text-generation/generation      native DashScope
//
// with the service's request validation, response and stream shapes, error
// bodies and quotas, as described in the project's DashScope notes and
// checked against recorded exchanges (testdata/recorded). Replies are
// deterministic: the same request always gets the same text and usage. The
// text is marked "[simulated <model>]" and derived from the last user
// message: an excerpt, a pseudo-translation ("EN: ...") when the prompt asks
// to translate, or {"label","confidence","reason"} in json_object mode.
// Token counts come from EstimateTokens with ChatML framing.
//
// Faults are injected at random (Options.FaultRate), by a hook
// (Options.Fault), or by markers written into a user message, which lets an
// end-to-end run through the real CLI fail chosen rows deterministically:
//
//	[[sim:inspect]]     400 data_inspection_failed / DataInspectionFailed
//	[[sim:500]]         500 internal_error / InternalError
//	[[sim:NAME]]        any fault by its Fault.String name: 429, 429-quota,
//	                    500, 503, hang, reset, truncated, data-inspection,
//	                    arrearage, invalid-key
//	[[sim:NAME*K]]      the fault for the first K deliveries of the same
//	                    request body, then normal answers (retry tests)
//	[[sim:slow=300ms]]  adds that latency (any time.ParseDuration value up
//	                    to 1h)
//
// A fault marker wins over the hook and FaultRate. Markers are removed from
// the text the reply echoes but count as prompt tokens.
//
// The package deliberately imports nothing from bulkgen/model, so that the
// model package's own tests can use it.
package modeltest
