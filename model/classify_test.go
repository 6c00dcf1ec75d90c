package model

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClassify covers every row of the error table in
// /work/shared/dashscope-api-notes.md §3.2, in both code families, plus
// the fallbacks.
func TestClassify(t *testing.T) {
	tests := []struct {
		status  int
		code    string
		message string
		want    Class
		hint    string // substring; "" means no hint expected
	}{
		// 400 bad parameters: this row.
		{400, "InvalidParameter", "Range of input length should be [1, 129024]", RowFinal, ""},
		{400, "invalid_parameter_error", "The input length is too long", RowFinal, ""},
		{400, "invalid_request_error", "'messages' must contain the word 'json'", RowFinal, ""},
		{400, "InternalError.Algo.InvalidParameter", "'messages' must contain the word 'json' in some form", RowFinal, ""},
		{400, "invalid_parameter_error", "<400> InternalError.Algo.InvalidParameter: 'messages' must contain the word 'json'", RowFinal, ""},
		// 400 content inspection: this row, also when only the message says so.
		{400, "DataInspectionFailed", "Input data may contain inappropriate content.", RowFinal, ""},
		{400, "data_inspection_failed", "Output data may contain inappropriate content.", RowFinal, ""},
		{400, "InternalError.Algo.DataInspectionFailed", "Input data may contain inappropriate content.", RowFinal, ""},
		{400, "invalid_parameter_error", "<400> InternalError.Algo.DataInspectionFailed: Output data may contain inappropriate content.", RowFinal, ""},
		{500, "internal_error", "<400> InternalError.Algo.DataInspectionFailed: Input data may contain inappropriate content.", RowFinal, ""},
		{400, "", "<400> InternalError.Algo.DataInspectionFailed: Input data may contain inappropriate content.", RowFinal, ""},
		{400, "invalid_parameter_error", "<400> Arrearage: Access denied, please make sure your account is in good standing.", Fatal, "top up"},
		{500, "", "<429> Throttling.RateQuota: Requests rate limit exceeded", Retryable, ""},
		{401, "", "<400> InvalidParameter: x", Fatal, "DASHSCOPE_API_KEY"},
		// 400 billing and malformed requests.
		{400, "Arrearage", "Access denied, please make sure your account is in good standing.", Fatal, "top up"},
		{400, "BadRequest.EmptyInput", "Required input parameter missing from request.", RowFinal, ""},
		{400, "BadRequest.EmptyParameters", "Required parameter \"parameters\" missing from request.", RowFinal, ""},
		{400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request.", Fatal, "base URL"},
		{400, "InvalidURL", "Invalid URL provided in your request.", Fatal, "base URL"},
		{400, "InvalidParameter", "Model not exist.", Fatal, "check --model"},
		// 401.
		{401, "InvalidApiKey", "Invalid API-key provided.", Fatal, "DASHSCOPE_API_KEY"},
		{401, "invalid_api_key", "Incorrect API key provided.", Fatal, "per region"},
		// 403.
		{403, "AccessDenied", "Access denied.", Fatal, "activate"},
		{403, "Workspace.AccessDenied", "Workspace access denied.", Fatal, "workspace"},
		{403, "Model.AccessDenied", "Model access denied.", Fatal, "activate"},
		{403, "AccessDenied.Unpurchased", "Access to model denied. Please make sure you are eligible for using the model.", Fatal, "activate"},
		{403, "AllocationQuota.FreeTierOnly", "The free tier of the model has been exhausted.", Fatal, "free quota"},
		// 404.
		{404, "ModelNotFound", "Model not found (qwen-nope)!", Fatal, "check --model"},
		{404, "model_not_found", "The model `qwen-nope` does not exist or you do not have access to it.", Fatal, "check --model"},
		{404, "WorkSpaceNotFound", "WorkSpace can not be found.", Fatal, "workspace"},
		// 408, 409, 413.
		{408, "RequestTimeOut", "Request timed out, please try again later.", Retryable, ""},
		{409, "", "conflict", Retryable, ""},
		{413, "BadRequest.TooLarge", "Payload Too Large", RowFinal, ""},
		// 429 throttles: retry.
		{429, "Throttling", "Requests throttling triggered.", Retryable, ""},
		{429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", Retryable, ""},
		{429, "limit_requests", "You exceeded your current requests list.", Retryable, ""},
		{429, "Throttling.AllocationQuota", "Allocated quota exceeded, please increase your quota limit.", Retryable, ""},
		{429, "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.", Retryable, ""},
		{429, "", "Request rate increased too quickly. To ensure system stability, please adjust your client logic.", Retryable, ""},
		{429, "Throttling.BurstRate", "Request rate increased too quickly.", Retryable, ""},
		{429, "Throttling.ServiceOverloaded", "The service is overloaded.", Retryable, ""},
		// 429 that waiting will not fix.
		{429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", Fatal, "free quota"},
		{429, "insufficient_quota", "Free allocated quota exceeded.", Fatal, "free quota"},
		{429, "PrepaidBillOverdue", "The prepaid bill is overdue.", Fatal, "top up"},
		{429, "PostpaidBillOverdue", "The postpaid bill is overdue.", Fatal, "top up"},
		{429, "CommodityNotPurchased", "Commodity has not purchased yet.", Fatal, "top up"},
		{429, "BudgetLimitExceeded", "Budget limit exceeded.", Fatal, "top up"},
		{429, "Arrearage", "Access denied, please make sure your account is in good standing.", Fatal, "top up"},
		// 5xx.
		{500, "InternalError", "An internal error has occured, please try again later or contact service support.", Retryable, ""},
		{500, "InternalError.Algo", "An internal error has occured during execution.", Retryable, ""},
		{500, "InternalError.Timeout", "An internal timeout error has occured during execution.", Retryable, ""},
		{500, "SystemError", "An system error has occured.", Retryable, ""},
		{500, "ModelServiceFailed", "Failed to request model service.", Retryable, ""},
		{500, "internal_error", "internal error", Retryable, ""},
		{503, "ModelUnavailable", "Model is unavailable, please try again later.", Retryable, ""},
		// Codes are matched without regard to case.
		{401, "INVALIDAPIKEY", "x", Fatal, "DASHSCOPE_API_KEY"},
		// A generic code does not hide a fatal status.
		{401, "invalid_request_error", "Incorrect API key provided.", Fatal, "DASHSCOPE_API_KEY"},
		// Fallbacks by status.
		{400, "", "Bad Request", RowFinal, ""},
		{422, "SomethingNew", "unprocessable", RowFinal, ""},
		{401, "", "Unauthorized", Fatal, "DASHSCOPE_API_KEY"},
		{403, "SomethingNew", "Forbidden", Fatal, "activate"},
		{404, "", "Not Found", Fatal, "base URL"},
		{429, "SomethingNew", "slow down", Retryable, ""},
		{502, "Unknown", "Bad Gateway", Retryable, ""},
		{599, "SomethingNew", "?", Retryable, ""},
		{0, "", "", Retryable, ""},
		{200, "", "stream error", Retryable, ""},
		{200, "data_inspection_failed", "Output data may contain inappropriate content.", RowFinal, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%s/%.30s", tc.status, tc.code, tc.message), func(t *testing.T) {
			got, hint := Classify(tc.status, tc.code, tc.message)
			if got != tc.want {
				t.Errorf("Classify = %v, want %v", got, tc.want)
			}
			if tc.hint == "" && hint != "" {
				t.Errorf("hint = %q, want none", hint)
			}
			if tc.hint != "" && !strings.Contains(hint, tc.hint) {
				t.Errorf("hint = %q, want it to contain %q", hint, tc.hint)
			}
		})
	}
}

func TestParseErrorBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want errorFields
	}{
		{"compatible", `{"error":{"message":"m","type":"t","param":null,"code":"limit_requests"},"request_id":"r1"}`,
			errorFields{code: "limit_requests", message: "m", requestID: "r1", json: true}},
		{"compatible null code, id", `{"error":{"message":"m","type":"invalid_request_error","param":"purpose","code":null},"id":"chatcmpl-r2"}`,
			errorFields{message: "m", requestID: "r2", json: true}},
		{"native", `{"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"r3"}`,
			errorFields{code: "InvalidApiKey", message: "Invalid API-key provided.", requestID: "r3", json: true}},
		{"vllm numeric code", `{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}`,
			errorFields{message: "bad", status: 400, json: true}},
		{"error string", `{"error":"model \"x\" not found"}`, errorFields{message: `model "x" not found`, json: true}},
		{"detail", `{"detail":"Not Found"}`, errorFields{message: "Not Found", json: true}},
		{"BOM", "\ufeff{\"code\":\"X\",\"message\":\"y\"}", errorFields{code: "X", message: "y", json: true}},
		{"html", "<html>\n<body>  502 Bad Gateway </body></html>", errorFields{message: "<html> <body> 502 Bad Gateway </body></html>"}},
		{"empty", "", errorFields{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErrorBody([]byte(tc.body)); got != tc.want {
				t.Errorf("parseErrorBody = %+v, want %+v", got, tc.want)
			}
		})
	}
	long := strings.Repeat("错", 400)
	if got := parseErrorBody([]byte(long)).message; len(got) > 310 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "错错") {
		t.Errorf("long text body kept as %d bytes %q", len(got), tail(got, 5))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{"fraction", http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{"ms wins", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"3"}}, 250 * time.Millisecond},
		{"date", http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, 30 * time.Second},
		{"date in the past", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}, "Retry-After-Ms": {"x"}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryAfter(tc.header, now); got != tc.want {
				t.Errorf("retryAfter = %v, want %v", got, tc.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestTransportError(t *testing.T) {
	post := func(err error) error { return &url.Error{Op: "Post", URL: "https://example.test/v1", Err: err} }
	tests := []struct {
		name    string
		err     error
		expired bool // the per-request timeout has fired
		want    Class
		timeout bool
	}{
		{"reset", post(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), false, Retryable, false},
		{"refused", post(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), false, Retryable, false},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), false, Retryable, false},
		{"EOF", post(io.EOF), false, Retryable, false},
		{"net timeout", post(timeoutErr{}), false, Retryable, true},
		{"per-request deadline", post(context.DeadlineExceeded), true, Retryable, true},
		{"deadline fired, other error", errors.New("net/http: request canceled"), true, Retryable, true},
		{"no such host", post(&net.DNSError{Err: "no such host", Name: "dashscope.invalid", IsNotFound: true}), false, Fatal, false},
		{"untrusted certificate", post(x509.UnknownAuthorityError{}), false, Fatal, false},
		{"unknown", errors.New("something odd"), false, Retryable, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			timeout := time.Hour
			if tc.expired {
				timeout = time.Nanosecond
			}
			cl := newCall(context.Background(), timeout, testKey)
			defer cl.cancel()
			if tc.expired {
				<-cl.rctx.Done()
			}
			err := cl.transportError(tc.err)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("got %T %v, want *APIError", err, err)
			}
			if ae.Class != tc.want {
				t.Errorf("class = %v, want %v (%v)", ae.Class, tc.want, err)
			}
			if errors.Is(err, ErrTimeout) != tc.timeout {
				t.Errorf("errors.Is(ErrTimeout) = %v, want %v", !tc.timeout, tc.timeout)
			}
			if tc.timeout && errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a request timeout must not look like the caller's deadline: %v", err)
			}
			if ae.Status != 0 || ae.Message == "" {
				t.Errorf("status %d message %q", ae.Status, ae.Message)
			}
		})
	}
}

func TestTransportErrorCallerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cl := newCall(ctx, time.Hour, testKey)
	defer cl.cancel()
	cancel()
	err := cl.transportError(&url.Error{Op: "Post", URL: "https://x", Err: context.Canceled})
	if !errors.Is(err, context.Canceled) || ClassOf(err) != Fatal {
		t.Errorf("err = %v (class %v), want context.Canceled, fatal", err, ClassOf(err))
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Errorf("cancellation came back as *APIError %v", ae)
	}
}

func TestHTTPErrorRedactsKey(t *testing.T) {
	body := `{"error":{"message":"Incorrect API key provided: ` + testKey + `","code":"invalid_api_key"}}`
	e := httpError(401, http.Header{}, []byte(body), testKey)
	if strings.Contains(e.Error(), testKey) {
		t.Errorf("key in error text: %v", e)
	}
	if !strings.Contains(e.Error(), "[redacted]") || e.Class != Fatal {
		t.Errorf("error = %v (class %v)", e, e.Class)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ s, key, want string }{
		{"bad key " + testKey + " given", testKey, "bad key [redacted] given"},
		{"Incorrect API key provided", "k", "Incorrect API key provided"},
		{"no key here", "", "no key here"},
	}
	for _, tc := range tests {
		if got := redact(tc.s, tc.key); got != tc.want {
			t.Errorf("redact(%q, %q) = %q, want %q", tc.s, tc.key, got, tc.want)
		}
	}
}
