package model

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// batchCompletions returns the chat.completion objects and request ids
// inside the recorded batch output file, the only compatible-mode
// completions in the recordings.
func batchCompletions(t *testing.T) (bodies [][]byte, ids []string) {
	t.Helper()
	rec := loadRecording(t, "recorded", "get-file-content-compatible-nosse")
	sc := bufio.NewScanner(bytes.NewReader(rec.body))
	for sc.Scan() {
		var line struct {
			Response struct {
				RequestID string          `json:"request_id"`
				Body      json.RawMessage `json:"body"`
			} `json:"response"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("batch output line: %v", err)
		}
		bodies = append(bodies, line.Response.Body)
		ids = append(ids, line.Response.RequestID)
	}
	if len(bodies) != 2 {
		t.Fatalf("batch output has %d lines, want 2", len(bodies))
	}
	return bodies, ids
}

func TestOpenAIRecordedCompletions(t *testing.T) {
	bodies, ids := batchCompletions(t)
	tests := []struct {
		name string
		rec  recording
		want wantResponse
	}{
		{
			name: "with x-request-id",
			rec: recording{status: 200, body: bodies[0], header: http.Header{
				"Content-Type": {"application/json"}, "X-Request-Id": {ids[0]}}},
			want: wantResponse{
				content: text{exact: "你好！很高兴见到你～✨ 今天有什么想聊的或者需要帮助的吗？无论是学习、工作上的问题，还是生活中的小烦恼，我都很乐意倾听并提供帮助哦！(•̀ᴗ•́)و"},
				finish:  "stop", usage: Usage{PromptTokens: 26, CompletionTokens: 49, TotalTokens: 75},
				requestID: "153fa1be-abbc-4b52-80a6-c7ca92688fbc", model: "qwen-flash",
			},
		},
		{
			// No header and no Content-Type (as recorded): the request id
			// comes from the chatcmpl- id.
			name: "id from chatcmpl",
			rec:  recording{status: 200, body: bodies[1], header: http.Header{}},
			want: wantResponse{
				content: text{prefix: "It seems like you're referring to a system", suffix: "why the job might have failed or how to resolve it.", runes: 617},
				finish:  "stop", usage: Usage{PromptTokens: 36, CompletionTokens: 136, TotalTokens: 172},
				requestID: "7e36e43b-842d-4454-9799-7abe4f4e5122", model: "qwen-flash",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, tc.rec)
			c := newTestOpenAI(t, srv.URL+"/compatible-mode/v1", OpenAIConfig{})
			got, err := c.Complete(context.Background(), userRequest("你好"))
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			tc.want.check(t, got)
			if req := srv.onlyRequest(t); req.Path != "/compatible-mode/v1/chat/completions" {
				t.Errorf("path = %q", req.Path)
			}
		})
	}
	if ids[1] != "7e36e43b-842d-4454-9799-7abe4f4e5122" {
		t.Errorf("fixture request id %q", ids[1])
	}
}

func TestOpenAIStream(t *testing.T) {
	tests := []struct {
		name string
		cfg  OpenAIConfig
		req  Request
	}{
		{"config stream", OpenAIConfig{Stream: true}, userRequest("1+1?")},
		{"thinking forces stream", OpenAIConfig{}, func() Request {
			r := userRequest("1+1?")
			r.EnableThinking = ptr(true)
			return r
		}()},
	}
	want := wantResponse{
		content: text{exact: "1+1 等于 2。"}, reasoning: text{exact: "用户问1+1。"}, finish: "stop",
		usage:     Usage{PromptTokens: 16, CompletionTokens: 12, TotalTokens: 28, ReasoningTokens: 5, CachedTokens: 8},
		requestID: "00000000-0000-4000-8000-000000000020", model: "qwen-plus",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, loadRecording(t, "compat", "stream-reasoning"))
			c := newTestOpenAI(t, srv.URL, tc.cfg)
			got, err := c.Complete(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			want.check(t, got)
		})
	}
}

func TestOpenAINonStreamReasoning(t *testing.T) {
	body := `{"id":"chatcmpl-abc","object":"chat.completion","model":"qwen3-32b","choices":[{"index":0,"finish_reason":"length",` +
		`"message":{"role":"assistant","content":"","reasoning_content":"Let me think"}}],` +
		`"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,` +
		`"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":20}}}`
	srv := newReplayServer(t, recording{status: 200, body: []byte(body), header: http.Header{"Content-Type": {"application/json"}}})
	c := newTestOpenAI(t, srv.URL, OpenAIConfig{})
	got, err := c.Complete(context.Background(), userRequest("x"))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	wantResponse{
		content: text{exact: ""}, reasoning: text{exact: "Let me think"}, finish: "length",
		usage:     Usage{PromptTokens: 10, CompletionTokens: 20, TotalTokens: 30, ReasoningTokens: 20, CachedTokens: 4},
		requestID: "abc", model: "qwen3-32b",
	}.check(t, got)
}

// compatErrors are the OpenAI-compatible error cases; each runs with and
// without streaming, since the SDK reports them on different paths.
var compatErrors = []struct {
	dir, name string
	want      wantError
}{
	{"compat", "limit-requests-429", wantError{class: Retryable, status: 429, code: "limit_requests", requestID: "00000000-0000-4000-8000-000000000001"}},
	// DashScope's TPM throttle, despite the billing wording.
	{"compat", "insufficient-quota-429", wantError{class: Retryable, status: 429, code: "insufficient_quota", requestID: "00000000-0000-4000-8000-000000000002"}},
	{"compat", "invalid-api-key-401", wantError{class: Fatal, status: 401, code: "invalid_api_key", requestID: "00000000-0000-4000-8000-000000000003", hint: "DASHSCOPE_API_KEY"}},
	{"compat", "data-inspection-400", wantError{class: RowFinal, status: 400, code: "data_inspection_failed", requestID: "00000000-0000-4000-8000-000000000004"}},
	{"compat", "data-inspection-embedded-400", wantError{class: RowFinal, status: 400, code: "invalid_parameter_error", requestID: "00000000-0000-4000-8000-000000000005"}},
	{"compat", "arrearage-400", wantError{class: Fatal, status: 400, code: "Arrearage", requestID: "00000000-0000-4000-8000-000000000006", hint: "top up"}},
	{"compat", "model-not-found-404", wantError{class: Fatal, status: 404, code: "model_not_found", requestID: "00000000-0000-4000-8000-000000000007", hint: "check --model"}},
	{"compat", "unavailable-503-html", wantError{class: Retryable, status: 503, code: "Unknown", requestID: "00000000-0000-4000-8000-000000000008"}},
	{"compat", "json-keyword-400", wantError{class: RowFinal, status: 400, code: "invalid_parameter_error", requestID: "00000000-0000-4000-8000-000000000009"}},
	{"compat", "model-access-denied-403", wantError{class: Fatal, status: 403, code: "Model.AccessDenied", requestID: "00000000-0000-4000-8000-000000000010", hint: "activate"}},
	{"compat", "internal-error-500", wantError{class: Retryable, status: 500, code: "internal_error", requestID: "00000000-0000-4000-8000-000000000011"}},
	{"compat", "native-shape-free-quota-429", wantError{class: Fatal, status: 429, code: "Throttling.AllocationQuota", requestID: "00000000-0000-4000-8000-000000000012", hint: "free quota"}},
	{"compat", "native-shape-rate-429", wantError{class: Retryable, status: 429, code: "Throttling.RateQuota", requestID: "00000000-0000-4000-8000-000000000013"}},
	{"compat", "retry-after-429", wantError{class: Retryable, status: 429, code: "rate_limit_exceeded", requestID: "00000000-0000-4000-8000-000000000014", retryAfter: "7s"}},
	{"compat", "retry-after-ms-429", wantError{class: Retryable, status: 429, code: "rate_limit_exceeded", requestID: "00000000-0000-4000-8000-000000000015", retryAfter: "1.5s"}},
	// Recorded: "code": null, request id only in the header.
	{"recorded", "upload-file-error-nosse", wantError{class: RowFinal, status: 400, code: "", requestID: "68a3e920-c12c-94e7-9cd3-b1512bb181a7"}},
}

func TestOpenAIErrors(t *testing.T) {
	for _, tc := range compatErrors {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tc.name, stream), func(t *testing.T) {
				srv := newReplayServer(t, loadRecording(t, tc.dir, tc.name))
				c := newTestOpenAI(t, srv.URL, OpenAIConfig{Stream: stream})
				_, err := c.Complete(context.Background(), userRequest("hi"))
				tc.want.check(t, err)
			})
		}
	}
}

func TestOpenAIStreamErrors(t *testing.T) {
	tests := []struct {
		name string
		want wantError
	}{
		{"stream-error-frame", wantError{class: RowFinal, status: 200, code: "data_inspection_failed", requestID: "00000000-0000-4000-8000-000000000021"}},
		{"stream-truncated", wantError{class: Retryable, status: 200, requestID: "00000000-0000-4000-8000-000000000022"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, loadRecording(t, "compat", tc.name))
			c := newTestOpenAI(t, srv.URL, OpenAIConfig{Stream: true})
			_, err := c.Complete(context.Background(), userRequest("tell a story"))
			tc.want.check(t, err)
		})
	}
}

func TestOpenAIRequestBody(t *testing.T) {
	base := Request{
		Model: "qwen-plus",
		Messages: []Message{
			{Role: "system", Content: "Reply in JSON."},
			{Role: "user", Content: "1+1?"},
			{Role: "assistant", Content: "{\"a\":2}"},
			{Role: "user", Content: "2+2?"},
		},
		Temperature:    ptr(0.7),
		TopP:           ptr(0.8),
		MaxTokens:      ptr(int64(100)),
		Seed:           ptr(int64(7)),
		Stop:           []string{"\n\n", "END"},
		EnableThinking: ptr(false),
		ResponseFormat: "json_object",
	}
	streamed := base
	streamed.EnableThinking = ptr(true)
	streamed.Stop = []string{"END"}
	streamed.ResponseFormat = ""

	tests := []struct {
		name    string
		fixture string
		req     Request
		want    map[string]any
	}{
		{"non-stream", "internal-error-500", base, map[string]any{
			"enable_thinking": false, "temperature": 0.7, "top_p": 0.8, "max_tokens": 100.0, "seed": 7.0,
			"stop": []any{"\n\n", "END"}, "response_format": map[string]any{"type": "json_object"},
			"stream": nil, "stream_options": nil,
		}},
		{"stream", "stream-reasoning", streamed, map[string]any{
			"enable_thinking": true, "stop": "END", "stream": true,
			"stream_options": map[string]any{"include_usage": true}, "response_format": nil,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, loadRecording(t, "compat", tc.fixture))
			c := newTestOpenAI(t, srv.URL+"/v1", OpenAIConfig{Headers: map[string]string{"X-DashScope-DataInspection": `{"input":"cip"}`}})
			_, _ = c.Complete(context.Background(), tc.req)
			got := srv.onlyRequest(t)
			if got.Path != "/v1/chat/completions" {
				t.Errorf("path = %q", got.Path)
			}
			if h := got.Header.Get("Authorization"); h != "Bearer "+testKey {
				t.Errorf("Authorization = %q", h)
			}
			if h := got.Header.Get("X-DashScope-DataInspection"); h != `{"input":"cip"}` {
				t.Errorf("X-DashScope-DataInspection = %q", h)
			}
			var body map[string]any
			if err := json.Unmarshal(got.Body, &body); err != nil {
				t.Fatalf("request body %s: %v", got.Body, err)
			}
			if body["model"] != "qwen-plus" {
				t.Errorf("model = %v", body["model"])
			}
			assertJSONEqual(t, "messages", body["messages"], []map[string]any{
				{"role": "system", "content": "Reply in JSON."},
				{"role": "user", "content": "1+1?"},
				{"role": "assistant", "content": "{\"a\":2}"},
				{"role": "user", "content": "2+2?"},
			})
			for k, v := range tc.want {
				assertJSONEqual(t, k, body[k], v)
			}
		})
	}
}

// TestOpenAISingleAttempt checks that the SDK's own retries are off: the
// caller's retry policy depends on it.
func TestOpenAISingleAttempt(t *testing.T) {
	for _, status := range []int{408, 409, 429, 500, 503} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/stream=%v", status, stream), func(t *testing.T) {
				srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					_, _ = w.Write([]byte(`{"error":{"message":"try later","type":"x","code":null}}`))
				})
				c := newTestOpenAI(t, srv.URL, OpenAIConfig{Stream: stream})
				_, err := c.Complete(context.Background(), userRequest("x"))
				if ClassOf(err) != Retryable {
					t.Errorf("class = %v, want retryable (%v)", ClassOf(err), err)
				}
				if n := len(srv.requests()); n != 1 {
					t.Errorf("server got %d requests, want exactly 1", n)
				}
			})
		}
	}
}

func TestNewOpenAIConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     OpenAIConfig
		wantErr string
	}{
		{"defaults", OpenAIConfig{}, ""},
		{"local server without key", OpenAIConfig{BaseURL: "http://localhost:8000/v1"}, ""},
		{"bad scheme", OpenAIConfig{BaseURL: "localhost:8000/v1"}, "scheme"},
		{"negative timeout", OpenAIConfig{Timeout: -5}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewOpenAI(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c == nil || c.timeout != DefaultTimeout {
				t.Fatalf("NewOpenAI = %v, %v", c, err)
			}
		})
	}
}

func TestOpenAINoKeySendsNoAuthorization(t *testing.T) {
	srv := newReplayServer(t, loadRecording(t, "compat", "stream-reasoning"))
	c, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Complete(context.Background(), userRequest("x")); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if h := srv.onlyRequest(t).Header.Get("Authorization"); h != "" {
		t.Errorf("Authorization = %q, want none", h)
	}
}

func TestCheckRequest(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want Class
	}{
		{"no model", Request{Messages: []Message{{Role: "user", Content: "x"}}}, Fatal},
		{"no messages", Request{Model: "m"}, RowFinal},
		{"bad role", Request{Model: "m", Messages: []Message{{Role: "tool", Content: "x"}}}, Fatal},
		{"bad format", Request{Model: "m", Messages: []Message{{Role: "user", Content: "x"}}, ResponseFormat: "json_schema"}, Fatal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Nothing is sent: the URLs point nowhere.
			oa, err := NewOpenAI(OpenAIConfig{BaseURL: "http://127.0.0.1:1/v1"})
			if err != nil {
				t.Fatal(err)
			}
			ds := newTestDashScope(t, "http://127.0.0.1:1/api/v1", DashScopeConfig{})
			for _, c := range []Client{oa, ds} {
				_, err := c.Complete(context.Background(), tc.req)
				if ClassOf(err) != tc.want {
					t.Errorf("%T: class %v, want %v (%v)", c, ClassOf(err), tc.want, err)
				}
			}
		})
	}
}
