package model

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Hints for fatal errors. They say what the user can do, because the run
// stops on them and the raw service message rarely does.
const (
	hintAPIKey    = "check DASHSCOPE_API_KEY; keys are per region — a Beijing key fails on --region intl and vice versa"
	hintBilling   = "top up or check billing in the Model Studio console; waiting will not help"
	hintAccess    = "activate the model for this account, or check the workspace permissions of the key, in the Model Studio console"
	hintFreeTier  = "the free quota of this model is used up; turn off \"free tier only\" for the model in the Model Studio console or pick another model"
	hintModel     = "check --model; list models in the console"
	hintWorkspace = "check the workspace id (X-DashScope-WorkSpace header) and that the key belongs to it"
	hintNotFound  = "check --model and the base URL; list models in the console"
	hintURL       = "check the base URL and --model; every request would fail the same way"
	hintHost      = "check the host name in the base URL"
	hintTLS       = "the server's TLS certificate is not trusted; check the base URL"
)

// ErrTimeout is wrapped by the *APIError returned when one request got no
// complete answer within the client's per-request timeout. It deliberately
// does not wrap context.DeadlineExceeded, so that a caller testing its own
// context with errors.Is does not mistake one slow request for the end of
// the run.
var ErrTimeout = errors.New("model request timed out")

type verdict struct {
	class Class
	hint  string
}

// codeVerdicts maps lower-cased service error codes, native DashScope
// ("Throttling.RateQuota") and OpenAI-compatible ("limit_requests") alike,
// to a class. The two families never collide once lower-cased. Source:
// /work/shared/dashscope-api-notes.md §3.
var codeVerdicts = map[string]verdict{
	// Throttles. Throttling.AllocationQuota / insufficient_quota read like
	// billing problems but are DashScope's per-minute token limit and clear
	// within about a minute.
	"throttling":                   {Retryable, ""},
	"throttling.ratequota":         {Retryable, ""},
	"throttling.allocationquota":   {Retryable, ""},
	"throttling.serviceoverloaded": {Retryable, ""},
	"limit_requests":               {Retryable, ""},
	"insufficient_quota":           {Retryable, ""},
	"rate_limit_exceeded":          {Retryable, ""},
	// Server side.
	"requesttimeout":        {Retryable, ""},
	"internalerror":         {Retryable, ""},
	"internalerror.algo":    {Retryable, ""},
	"internalerror.timeout": {Retryable, ""},
	"systemerror":           {Retryable, ""},
	"modelservicefailed":    {Retryable, ""},
	"modelunavailable":      {Retryable, ""},
	"serviceunavailable":    {Retryable, ""},
	"internal_error":        {Retryable, ""},
	"server_error":          {Retryable, ""},
	// This row's input.
	"invalidparameter":                         {RowFinal, ""},
	"invalid_parameter_error":                  {RowFinal, ""},
	"invalid_request_error":                    {RowFinal, ""},
	"internalerror.algo.invalidparameter":      {RowFinal, ""},
	"datainspectionfailed":                     {RowFinal, ""},
	"data_inspection_failed":                   {RowFinal, ""},
	"internalerror.algo.datainspectionfailed":  {RowFinal, ""},
	"badrequest.toolarge":                      {RowFinal, ""},
	"badrequest.emptyinput":                    {RowFinal, ""},
	"badrequest.emptyparameters":               {RowFinal, ""},
	"context_length_exceeded":                  {RowFinal, ""},
	"string_above_max_length":                  {RowFinal, ""},
	"invalidparameter.datainspectionfailed":    {RowFinal, ""},
	"internalerror.algo.invalidparameterlimit": {RowFinal, ""},
	// The whole run.
	"invalidapikey":                {Fatal, hintAPIKey},
	"invalid_api_key":              {Fatal, hintAPIKey},
	"arrearage":                    {Fatal, hintBilling},
	"prepaidbilloverdue":           {Fatal, hintBilling},
	"postpaidbilloverdue":          {Fatal, hintBilling},
	"commoditynotpurchased":        {Fatal, hintBilling},
	"budgetlimitexceeded":          {Fatal, hintBilling},
	"accessdenied":                 {Fatal, hintAccess},
	"accessdenied.unpurchased":     {Fatal, hintAccess},
	"model.accessdenied":           {Fatal, hintAccess},
	"workspace.accessdenied":       {Fatal, hintAccess},
	"allocationquota.freetieronly": {Fatal, hintFreeTier},
	"modelnotfound":                {Fatal, hintModel},
	"model_not_found":              {Fatal, hintModel},
	"workspacenotfound":            {Fatal, hintWorkspace},
	"invalidurl":                   {Fatal, hintURL},
	"badrequest.emptymodel":        {Fatal, hintURL},
}

// genericRowCodes say only "something about the request was wrong".
var genericRowCodes = map[string]bool{
	"invalidparameter":        true,
	"invalid_parameter_error": true,
	"invalid_request_error":   true,
}

// embeddedCode finds a native code quoted inside a compatible-mode message,
// e.g. "<400> InternalError.Algo.DataInspectionFailed: Input data may
// contain inappropriate content."
var embeddedCode = regexp.MustCompile(`<(\d{3})>\s*([A-Za-z][A-Za-z0-9_.]*)`)

// Classify decides what the caller should do about an error answer from
// the service: retry it later, give up on this row, or stop the run. It is
// the one place that knows the retry policy.
//
// The service's error code decides first, because DashScope reuses HTTP
// statuses for unlike things (429 is both a one-minute throttle and an
// account in arrears); the HTTP status decides when the code is empty or
// unknown. hint, non-empty for most fatal errors, tells the user what to
// do. status is 0 or 200 when the error arrived inside a stream.
func Classify(status int, code, message string) (Class, string) {
	lcode := strings.ToLower(strings.TrimSpace(code))
	lmsg := strings.ToLower(message)

	// The older free-tier state shares its code with the transient TPM
	// throttle; only the message tells them apart.
	if strings.Contains(lmsg, "free allocated quota exceeded") {
		return Fatal, hintFreeTier
	}
	v, known := lookupCode(lcode)
	if known && v.class == Fatal {
		return v.class, v.hint
	}
	// Content moderation is often reported under a generic code with the
	// native code quoted in the message.
	if strings.Contains(lmsg, "datainspectionfailed") || strings.Contains(lmsg, "data_inspection_failed") {
		return RowFinal, ""
	}
	if strings.Contains(lmsg, "model not exist") {
		return Fatal, hintModel
	}
	generic := genericRowCodes[lcode]
	if !known || generic {
		// The compatible endpoint wraps native errors as
		// "<400> Native.Code: text" under a generic or no code; the
		// native code is the more precise.
		if m := embeddedCode.FindStringSubmatch(message); m != nil {
			if ev, ok := lookupCode(strings.ToLower(m[2])); ok && !genericRowCodes[strings.ToLower(m[2])] {
				return ev.class, ev.hint
			}
		}
	}
	if known {
		// A generic "bad request" code does not outweigh a status that says
		// the key, the permission or the URL is wrong.
		if generic {
			if c, hint := classifyStatus(status); c == Fatal {
				return c, hint
			}
		}
		return v.class, v.hint
	}
	if strings.Contains(lmsg, "request rate increased too quickly") {
		return Retryable, ""
	}
	return classifyStatus(status)
}

// lookupCode matches a lower-cased code exactly, then by family.
func lookupCode(lcode string) (verdict, bool) {
	if lcode == "" {
		return verdict{}, false
	}
	if v, ok := codeVerdicts[lcode]; ok {
		return v, true
	}
	switch {
	case strings.Contains(lcode, "datainspectionfailed"):
		return verdict{RowFinal, ""}, true
	case strings.Contains(lcode, "accessdenied"):
		return verdict{Fatal, hintAccess}, true
	case strings.Contains(lcode, "billoverdue") || strings.Contains(lcode, "arrearage"):
		return verdict{Fatal, hintBilling}, true
	case strings.HasSuffix(lcode, "invalidparameter"):
		return verdict{RowFinal, ""}, true
	case strings.HasPrefix(lcode, "throttling"):
		return verdict{Retryable, ""}, true
	case strings.HasPrefix(lcode, "internalerror"):
		return verdict{Retryable, ""}, true
	}
	return verdict{}, false
}

// classifyStatus is the fallback when the code says nothing we know.
// 401/403/404 without a known code are still fatal: a bad key, a missing
// permission or a wrong URL/model fails every row alike.
func classifyStatus(status int) (Class, string) {
	switch {
	case status == http.StatusUnauthorized:
		return Fatal, hintAPIKey
	case status == http.StatusForbidden:
		return Fatal, hintAccess
	case status == http.StatusNotFound:
		return Fatal, hintNotFound
	case status == http.StatusRequestTimeout, status == http.StatusConflict,
		status == http.StatusTooEarly, status == http.StatusTooManyRequests:
		return Retryable, ""
	case status >= 400 && status < 500:
		return RowFinal, ""
	}
	// 5xx, and statuses that are no error at all (an error frame inside a
	// 200 stream): try again.
	return Retryable, ""
}

// errorFields is what could be read out of an error answer.
type errorFields struct {
	code      string
	message   string
	requestID string
	// status is a numeric "code" some servers (vLLM) put in the body; it
	// stands in for the HTTP status of an error frame inside a stream.
	status int
	// json reports whether the body was a JSON object.
	json bool
}

// parseErrorBody reads the error shapes seen in the wild:
//
//	compatible: {"error":{"message","type","param","code"},"request_id"?}
//	native:     {"code","message","request_id"}
//	vLLM/other: {"object":"error","message","code":400}, {"error":"text"}, {"detail":"text"}
//
// Anything else is kept as text.
func parseErrorBody(body []byte) errorFields {
	body = trimBOM(body)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return errorFields{message: textSnippet(body)}
	}
	f := errorFields{json: true}
	f.requestID = rawString(top["request_id"])
	if f.requestID == "" {
		f.requestID = strings.TrimPrefix(rawString(top["id"]), "chatcmpl-")
	}
	obj := top
	if inner, ok := top["error"]; ok {
		var m map[string]json.RawMessage
		if json.Unmarshal(inner, &m) == nil && m != nil {
			obj = m
			if id := rawString(m["request_id"]); id != "" && f.requestID == "" {
				f.requestID = id
			}
		} else if s := rawString(inner); s != "" {
			f.message = s
		}
	}
	if c, ok := obj["code"]; ok {
		f.code = rawString(c)
		if f.code == "" {
			var n int
			if json.Unmarshal(c, &n) == nil && n >= 100 && n <= 599 {
				f.status = n
			}
		}
	}
	if f.message == "" {
		f.message = rawString(obj["message"])
	}
	if f.message == "" {
		f.message = rawString(top["detail"])
	}
	return f
}

// rawString decodes a JSON string, or returns "" for anything else.
func rawString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// textSnippet keeps a non-JSON body readable in an error message: HTML
// error pages from gateways can be long.
func textSnippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	const max = 300
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// errorBodyLimit bounds how much of an error answer is read; error bodies
// are small, gateway HTML pages are not interesting past their start.
const errorBodyLimit = 1 << 20

// httpError builds the *APIError for a non-2xx answer (or for an error
// frame, with the frame's status). key is removed from the message in case
// a server echoes it.
func httpError(status int, header http.Header, body []byte, key string) *APIError {
	f := parseErrorBody(body)
	if status == 0 || status == http.StatusOK {
		if f.status != 0 {
			status = f.status
		}
	}
	if !f.json && f.code == "" {
		// The DashScope SDK names non-JSON error bodies "Unknown" too.
		f.code = "Unknown"
	}
	if f.message == "" {
		f.message = http.StatusText(status)
	}
	e := &APIError{
		Status:    status,
		Code:      redact(f.code, key),
		Message:   redact(f.message, key),
		RequestID: f.requestID,
	}
	if e.RequestID == "" && header != nil {
		e.RequestID = header.Get("X-Request-Id")
	}
	e.Class, e.Hint = Classify(status, f.code, f.message)
	if header != nil {
		e.RetryAfter = retryAfter(header, time.Now())
	}
	return e
}

// retryAfter reads the wait a server asked for. DashScope never sends one;
// OpenAI and some self-hosted gateways do.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// minRedactLen is the shortest key that redact looks for. Real keys are
// long ("sk-" and 32 hex digits); a placeholder key such as "k" for a local
// server would otherwise be cut out of every word that contains it.
const minRedactLen = 8

// redact removes the API key from text that goes into an error.
func redact(s, key string) string {
	if len(key) < minRedactLen || !strings.Contains(s, key) {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

// call carries what error classification needs to know about one request.
type call struct {
	// ctx is the caller's context; when it is done, the run is stopping.
	ctx context.Context
	// rctx is ctx plus the per-request timeout.
	rctx    context.Context
	cancel  context.CancelFunc
	timeout time.Duration
	key     string
	start   time.Time
}

func newCall(ctx context.Context, timeout time.Duration, key string) *call {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	return &call{ctx: ctx, rctx: rctx, cancel: cancel, timeout: timeout, key: key, start: time.Now()}
}

// transportError classifies a failure to get a complete answer at all:
// connection refused or reset, a body cut short, a timeout. The caller's
// own cancellation comes back as its context error (wrapped), so that the
// pipeline sees the run stopping rather than a failed request.
func (c *call) transportError(err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("model request: %w", ctxErr)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	text := redact(err.Error(), c.key)
	var nerr net.Error
	if c.rctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &nerr) && nerr.Timeout()) {
		return &APIError{
			Class:   Retryable,
			Message: fmt.Sprintf("no complete answer within the %s request timeout: %s", c.timeout, text),
			Err:     ErrTimeout,
		}
	}
	e := &APIError{Class: Retryable, Message: text, Err: err}
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		e.Message = "connection closed before the answer was complete: " + text
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		e.Message = "connection reset: " + text
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		// No such host will not appear by waiting; every row would fail.
		e.Class, e.Hint = Fatal, hintHost
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr):
		e.Class, e.Hint = Fatal, hintTLS
	}
	return e
}

// badBody classifies a 2xx answer whose body could not be understood. The
// usual cause is a body cut short, which a retry fixes.
func (c *call) badBody(status int, requestID string, err error) error {
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("model request: %w", ctxErr)
	}
	if c.rctx.Err() != nil {
		return c.transportError(err)
	}
	return &APIError{
		Status:    status,
		Class:     Retryable,
		Message:   "unreadable answer: " + redact(err.Error(), c.key),
		RequestID: requestID,
		Err:       err,
	}
}
