// Package modeltest simulates Alibaba Cloud Model Studio (DashScope) for
// tests and demos, in the spirit of net/http/httptest.
//
// A Server speaks both chat protocols of the service on a loopback port
// (and its Files and Batches API, below):
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
//	[[sim:badjson]]     in JSON mode, a reply with a label outside the set
//	                    on the first ask (a request without an assistant
//	                    turn); a repair request gets a valid one
//	[[sim:badjson-always]] the invalid reply every time
//	[[sim:packdrop]]    a packed translation reply leaves out its last cell
//
// A translation request whose user message is a JSON object of numbered
// cells ("1": "...", "2": "...") is answered with the same keys; glossary
// lines "- source → target" in the system message are applied.
//
// In JSON mode the reply has the keys the request asks for: the
// properties of a json_schema response format, or the key lines of
// bulkgen's JSON instruction (`- "name": exactly one of "a", "b".`) in a
// system or user message; with neither, {"label","confidence","reason"}.
//
// A fault marker wins over the hook and FaultRate. Markers are removed from
// the text the reply echoes but count as prompt tokens.
//
// # Files and Batches
//
// The server also speaks the OpenAI-compatible Files and Batches API
// (notes §5), with the service's shapes (recorded *-compatible-nosse) and
// the same authentication as chat:
//
//	POST   /compatible-mode/v1/files                 upload (multipart: file, purpose=batch|file-extract)
//	GET    /compatible-mode/v1/files                 list (after, limit, purpose, create_after/before yyyyMMdd)
//	GET    /compatible-mode/v1/files/{id}            file object
//	GET    /compatible-mode/v1/files/{id}/content    the bytes; JSONL for result files
//	DELETE /compatible-mode/v1/files/{id}
//	POST   /compatible-mode/v1/batches               {input_file_id, endpoint, completion_window, metadata}
//	GET    /compatible-mode/v1/batches               list (after, limit, input_file_ids, status, ds_name,
//	                                                 create_after/before yyyyMMddHHmmss)
//	GET    /compatible-mode/v1/batches/{id}
//	POST   /compatible-mode/v1/batches/{id}/cancel
//
// Files live in memory. Ids look like the service's: file-batch-…,
// file-fe-…, batch_<uuid>, and file-batch_output-… for both result files
// of a batch. Create refuses at once (400) an endpoint other than
// /v1/chat/completions, a completion_window outside 24h–336h / 1d–14d,
// bad metadata, and an input file that does not exist or lacks purpose
// batch; an upload larger than BatchOptions.MaxFileBytes is refused too.
//
// A batch's state is computed from the clock, so it moves on whether or
// not anybody polls: validating (BatchOptions.ValidateTime), in_progress
// while its lines are answered in input order (LinesPerSecond; its
// request_counts grow), finalizing (FinalizeTime), completed. When the
// completion window (or BatchOptions.CompletionWindow) ends first it is
// expired: answered lines stay in the output file, the rest go to the
// error file as batch_expired. A cancel moves a validating or in-progress
// batch to cancelling and, FinalizeTime later, cancelled: answered lines
// are kept, the rest go to the error file as batch_cancelled and count as
// failed. A repeated cancel answers the batch as it is; cancelling a
// finished batch is a 400.
//
// Whole-batch failures (status failed, errors.data[] with code, message,
// param and line, no files): an empty file (empty_file), more lines than
// MaxFileLines (too_many_requests_in_file), a line longer than
// MaxLineBytes (line_too_large), a line that is not JSON
// (invalid_json_line), a missing custom_id, method, url or body
// (missing_required_parameter), a custom_id that is not a string
// (invalid_custom_id), a method other than POST (invalid_method), an
// unknown url (url_not_found, the service's wording) and a known url other
// than the endpoint (mismatched_url). Only url_not_found was recorded; the
// other codes are the simulator's.
//
// Per-line errors (an entry in the error file, the other lines run), as
// the notes place the batch-only codes in the error file:
// duplicate_custom_id (every repeat after the first), mismatched_model (a
// model other than the first line's), model_not_found (a model the
// server does not accept); these lines have "response": null. A body the
// real-time endpoint would refuse (invalid_parameter_error, ...) and a
// non-retryable fault marker ([[sim:inspect]] → data_inspection_failed,
// [[sim:arrearage]], [[sim:invalid-key]]) give a line whose response
// carries the real-time status and error body and whose error repeats
// its code and message. Markers of retryable faults (429, 500, 503,
// hang, reset, truncated, slow) are ignored in a batch, as are FaultRate,
// the Fault hook, latency and the quotas.
//
// Each answered line is exactly what the real-time compatible endpoint
// answers for the same body (the same text and usage; stream is ignored),
// wrapped as {"id","custom_id","response":{"status_code":200,
// "request_id","body":<chat.completion>},"error":null}. Results are not
// stored but generated again from the input when a file is read. Batch
// usage goes to Stats.BatchPromptTokens and BatchCompletionTokens, never
// to the real-time counters. BatchOptions.Hook sees every Files and
// Batches request before it takes effect and can hold or fail it.
//
// The package deliberately imports nothing from bulkgen/model, so that the
// model package's own tests can use it.
package modeltest
