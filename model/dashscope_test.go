package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// text describes an expected string: exact when prefix and suffix are
// empty, otherwise by its ends and its length in runes (for answers of
// thousands of characters).
type text struct {
	exact          string
	prefix, suffix string
	runes          int
}

func (w text) check(t *testing.T, what, got string) {
	t.Helper()
	if w.prefix == "" && w.suffix == "" {
		if got != w.exact {
			t.Errorf("%s = %q, want %q", what, got, w.exact)
		}
		return
	}
	if !strings.HasPrefix(got, w.prefix) {
		t.Errorf("%s starts %q, want prefix %q", what, head(got, 40), w.prefix)
	}
	if !strings.HasSuffix(got, w.suffix) {
		t.Errorf("%s ends %q, want suffix %q", what, tail(got, 40), w.suffix)
	}
	if n := utf8.RuneCountInString(got); n != w.runes {
		t.Errorf("%s has %d runes, want %d", what, n, w.runes)
	}
}

func head(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

func tail(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[len(r)-n:]
	}
	return string(r)
}

type wantResponse struct {
	content   text
	reasoning text
	finish    string
	usage     Usage
	requestID string
	model     string
}

func (w wantResponse) check(t *testing.T, got Response) {
	t.Helper()
	w.content.check(t, "content", got.Content)
	w.reasoning.check(t, "reasoning", got.ReasoningContent)
	if got.FinishReason != w.finish {
		t.Errorf("finish reason = %q, want %q", got.FinishReason, w.finish)
	}
	if got.Usage != w.usage {
		t.Errorf("usage = %+v, want %+v", got.Usage, w.usage)
	}
	if got.RequestID != w.requestID {
		t.Errorf("request id = %q, want %q", got.RequestID, w.requestID)
	}
	if got.Model != w.model {
		t.Errorf("model = %q, want %q", got.Model, w.model)
	}
	if got.Latency <= 0 {
		t.Errorf("latency = %v, want > 0", got.Latency)
	}
}

// Expected values were read from the recordings with jq, independently of
// this package's code.
var recordedNative = []struct {
	name string
	want wantResponse
}{
	{"single-generation-text-nosse", wantResponse{
		content: text{exact: "1+1等于2。这是最基本的数学加法运算之一。"}, finish: "stop",
		usage:     Usage{PromptTokens: 16, CompletionTokens: 14, TotalTokens: 30},
		requestID: "7e3d5586-cb70-98ce-97bf-8a2ac0091c3f"}},
	{"single-generation-text-sse", wantResponse{
		content: text{exact: "1+1等于2。"}, finish: "stop",
		usage:     Usage{PromptTokens: 16, CompletionTokens: 6, TotalTokens: 22},
		requestID: "5b441aa7-0b9c-9fbc-ae0a-e2b212b71eac"}},
	{"single-generation-message-nosse", wantResponse{
		content: text{exact: "1+1 等于 2。这是最基本的数学加法之一，在十进制计数体系中，任何两个相同的数字相加都等于该数字的二倍。"}, finish: "stop",
		usage:     Usage{PromptTokens: 8, CompletionTokens: 39, TotalTokens: 47},
		requestID: "e764bfe3-c0b7-97a0-ae57-cd99e1580960"}},
	{"single-generation-message-sse", wantResponse{
		content: text{exact: "1+1 等于 2。这是最基本的数学加法之一，在十进制计数体系中，任何情况下 1 加上另一个 1 的结果都是 2。"}, finish: "stop",
		usage:     Usage{PromptTokens: 8, CompletionTokens: 40, TotalTokens: 48},
		requestID: "d272255f-82d7-9cc7-93c5-17ff77024349"}},
	{"single-generation-message-json-nosse", wantResponse{
		content: text{exact: "{\n  \"result\": 2\n}"}, finish: "stop",
		usage:     Usage{PromptTokens: 25, CompletionTokens: 9, TotalTokens: 34},
		requestID: "6af9571b-1033-98f9-a287-c06f2e9d6f7f"}},
	{"single-generation-message-logprobs-nosse", wantResponse{
		content: text{exact: "2"}, finish: "stop",
		usage:     Usage{PromptTokens: 20, CompletionTokens: 1, TotalTokens: 21},
		requestID: "1d881da5-0028-9f20-8e7f-6bc7ae891c54"}},
	{"single-generation-message-reasoning-nosse", wantResponse{
		content:   text{exact: ""},
		reasoning: text{exact: "我们被问到：\"请问 1+1 是多少？\" 这是一个简单的问题。答案显然是"},
		finish:    "length",
		usage:     Usage{PromptTokens: 12, CompletionTokens: 21, TotalTokens: 33, ReasoningTokens: 20},
		requestID: "7c8beccf-3e76-9034-95c1-db1f1ab9d6e0"}},
	// Spliced recording: the body's request_id wins over the header's.
	{"single-generation-message-reasoning-sse", wantResponse{
		content:   text{exact: "1+1 等于 **2**。这是数学中最基本的加法运算之一。\n\n如果你有其他关于数学、科学或任何领域的问题，欢迎继续提问！😊"},
		reasoning: text{exact: "嗯，用户问的是“1+1是多少"},
		finish:    "stop",
		usage:     Usage{PromptTokens: 16, CompletionTokens: 53, TotalTokens: 69, ReasoningTokens: 10},
		requestID: "ab9f3446-9bbf-963e-9754-2d6543343d7e"}},
	{"single-generation-message-reasoning-effort-nosse", wantResponse{
		content:   text{prefix: "根据数列的规律，从第三项开始", suffix: "因此，空缺处的数字应为 **121**。", runes: 202},
		reasoning: text{prefix: "我们被问到：\"填入数列“1，7，8，57", suffix: "370。\n\n完美匹配。所以答案是121。", runes: 2650},
		finish:    "stop",
		usage:     Usage{PromptTokens: 102, CompletionTokens: 1941, TotalTokens: 2043, ReasoningTokens: 1812},
		requestID: "49319f28-a8ac-9ad2-8708-cb26014b083f"}},
	{"single-generation-message-search-nosse", wantResponse{
		content: text{prefix: "截至2025年10月17日，阿里巴巴美股", suffix: "00港元，涨幅1.09%[ref_2]。", runes: 376}, finish: "stop",
		usage:     Usage{PromptTokens: 2707, CompletionTokens: 266, TotalTokens: 2973},
		requestID: "cc2b017d-df02-4ad6-8942-858ad10a3f8a"}},
	// The first frame has "usage": {}.
	{"single-generation-message-search-sse", wantResponse{
		content:   text{exact: "根据杭州市气象台2025年10月19日发布的天气预报，杭州明天（10月20日）的天气情况如下：\n\n*   **天气**：阴转多云\n*   **气温**：最高气温20℃，最低气温18℃\n*   **风力**：北风3级\n*   **空气质量**：优\n\n建议穿着单层棉麻面料的短套装、T恤衫等舒适的衣物。"},
		finish:    "stop",
		usage:     Usage{PromptTokens: 709, CompletionTokens: 101, TotalTokens: 810},
		requestID: "ed54a8da-a598-4a20-a849-3e0bc0ea3d4b"}},
	{"single-generation-message-translation-nosse", wantResponse{
		content: text{exact: "The concept of cnblogs is that coding changes world "}, finish: "stop",
		usage:     Usage{PromptTokens: 111, CompletionTokens: 11, TotalTokens: 122},
		requestID: "bf86e0f9-a8a2-9b32-be8d-ea3cae47c8ea", model: "qwen-mt-plus"}},
	// n=2: the first choice is the answer.
	{"single-generation-message-roleplay-nosse", wantResponse{
		content:   text{exact: "嗯……splay树啊，这东西其实不难啦！首先你要知道它是一种二叉搜索树，然后就是旋转操作了，这个挺重要的，你得搞明白。不过我看你现在还在准备模拟赛，是不是有点晚了呀？"},
		finish:    "stop",
		usage:     Usage{PromptTokens: 186, CompletionTokens: 83, TotalTokens: 269},
		requestID: "312b74e3-69e0-433a-9561-25541e346966"}},
	{"single-generation-message-with-tools-nosse", wantResponse{
		content: text{exact: ""}, finish: "stop",
		usage:     Usage{PromptTokens: 211, CompletionTokens: 8, TotalTokens: 219},
		requestID: "67300049-c108-9987-b1c1-8e0ee2de6b5d"}},
	{"single-generation-message-with-tools-sse", wantResponse{
		content:   text{exact: "目前杭州和上海的天气情况如下：\n\n- **杭州**：大部多云，气温为18℃。\n- **上海**：多云转小雨，气温为19℃。\n\n请注意天气变化，出门携带雨具以防下雨。"},
		finish:    "stop",
		usage:     Usage{PromptTokens: 283, CompletionTokens: 53, TotalTokens: 336},
		requestID: "dd51401b-146e-42a0-96d9-4067a5fac75a"}},
	{"single-generation-message-with-parallel-tools-sse", wantResponse{
		content: text{exact: ""}, finish: "tool_calls",
		usage:     Usage{PromptTokens: 250, CompletionTokens: 37, TotalTokens: 287},
		requestID: "98b76af4-4c9f-9397-af42-500425556f95"}},
	// input_tokens grows from 281 to 723 as the tool result is fed back.
	{"single-generation-message-with-code-interpreter-sse", wantResponse{
		content:   text{exact: "123的21次方是：\n\n77269364466549865653073473388030061522211723\n\n这是一个非常大的数字，共有42位数。"},
		reasoning: text{prefix: "用户问的是123的21次方是多少。这是一", suffix: "1723\n\n我需要将这个结果清晰地呈现给", runes: 225},
		finish:    "stop",
		usage:     Usage{PromptTokens: 723, CompletionTokens: 254, TotalTokens: 977, ReasoningTokens: 150},
		requestID: "752a7de3-d3aa-4aeb-82ab-a8b08b41524b"}},
	{"conversation-generation-message-partial-nosse", wantResponse{
		content:   text{prefix: "仿佛从漫长的冬眠中苏醒过来，万物复苏。", suffix: "更激发了人们对生活无限热爱和向往的心情。", runes: 206},
		finish:    "stop",
		usage:     Usage{PromptTokens: 34, CompletionTokens: 131, TotalTokens: 165},
		requestID: "4c45d7fd-3158-9ff4-96a0-6e92c710df2c"}},
	{"conversation-generation-message-sse", wantResponse{
		content: text{exact: "您刚才提到的数字是42。"}, finish: "stop",
		usage:     Usage{PromptTokens: 24, CompletionTokens: 9, TotalTokens: 33},
		requestID: "9188e907-56c2-9849-97f6-23f130f7fed7"}},
	{"conversation-generation-message-with-files-sse", wantResponse{
		content:   text{exact: "你上传的两个文件并不相同。第一个文件`test1.txt`包含两行文本，每行都是“测试”。而第二个文件`test2.txt`只有一行文本，“测试2”。尽管它们都含有“测试”这个词，但具体内容和结构不同。"},
		finish:    "stop",
		usage:     Usage{PromptTokens: 58, CompletionTokens: 57, TotalTokens: 115},
		requestID: "7865ae43-8379-9c79-bef6-95050868bc52"}},
	{"conversation-generation-message-with-doc-url-sse", wantResponse{
		content:   text{prefix: "```json\n[\n  {\n    \"m", suffix: "\": \"22999\"\n  }\n]\n```", runes: 767},
		finish:    "stop",
		usage:     Usage{PromptTokens: 1826, CompletionTokens: 354, TotalTokens: 2180},
		requestID: "ee1a01a9-4c9e-4729-ae35-f5948124b302"}},
	// The last frame carries both content and the finish reason.
	{"conversation-generation-message-skill-ppt-sse", wantResponse{
		content:   text{exact: "http://zhiwen-tob-prod.oss-cn-hangzhou.aliyuncs.com/ppt/26061515692803569360896/result.pptx?Expires=1781497541&OSSAccessKeyId=REDACTED&Signature=REDACTED"},
		reasoning: text{prefix: "内容已准备完成，开始生成大纲...大纲生", suffix: "e=REDACTED</page-14>", runes: 21382},
		finish:    "stop",
		usage:     Usage{PromptTokens: 5163, CompletionTokens: 12791, TotalTokens: 17954},
		requestID: "6dde9f51-5f65-98cd-9723-d19be7733f2b"}},
}

func TestDashScopeRecorded(t *testing.T) {
	for _, tc := range recordedNative {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, loadRecording(t, "recorded", tc.name))
			// Streamed recordings are requested as streams, so the client
			// reads them as SSE whatever their Content-Type says.
			c := newTestDashScope(t, srv.URL+"/api/v1", DashScopeConfig{Stream: strings.HasSuffix(tc.name, "-sse")})
			got, err := c.Complete(context.Background(), userRequest("请问 1+1 是多少？"))
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			want := tc.want
			if want.model == "" {
				want.model = "qwen-plus"
			}
			want.check(t, got)
		})
	}
}

func TestDashScopeHandwritten(t *testing.T) {
	tests := []struct {
		name   string
		stream bool
		want   wantResponse
	}{
		{"cached-tokens-nosse", false, wantResponse{
			content: text{exact: "摘要：文档介绍了三款产品。"}, finish: "stop",
			usage:     Usage{PromptTokens: 2088, CompletionTokens: 12, TotalTokens: 2100, CachedTokens: 2048},
			requestID: "00000000-0000-4000-8000-000000000030", model: "qwen-plus"}},
		{"content-parts-nosse", false, wantResponse{
			content: text{exact: "Part one, part two."}, finish: "length",
			usage:     Usage{PromptTokens: 10, CompletionTokens: 4, TotalTokens: 14},
			requestID: "00000000-0000-4000-8000-000000000031", model: "qwen-plus"}},
		// Answered with SSE although no stream was asked for, so without
		// incremental output: every frame holds the whole text so far.
		{"cumulative-sse", false, wantResponse{
			content: text{exact: "从前有座山。"}, finish: "stop",
			usage:     Usage{PromptTokens: 8, CompletionTokens: 4, TotalTokens: 12},
			requestID: "00000000-0000-4000-8000-000000000041", model: "qwen-plus"}},
		{"crlf-spaces-sse", true, wantResponse{
			content: text{exact: "好的。"}, reasoning: text{exact: "想一想"}, finish: "stop",
			usage:     Usage{PromptTokens: 8, CompletionTokens: 4, TotalTokens: 12, ReasoningTokens: 2},
			requestID: "00000000-0000-4000-8000-000000000040", model: "qwen-plus"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, loadRecording(t, "native", tc.name))
			c := newTestDashScope(t, srv.URL, DashScopeConfig{Stream: tc.stream})
			got, err := c.Complete(context.Background(), userRequest("hi"))
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			tc.want.check(t, got)
		})
	}
}

type wantError struct {
	class      Class
	status     int
	code       string
	requestID  string
	hint       string // substring of the hint; "" means no hint
	retryAfter string // time.Duration text; "" means 0
}

func (w wantError) check(t *testing.T, err error) {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	if ae.Class != w.class || ClassOf(err) != w.class {
		t.Errorf("class = %v (ClassOf %v), want %v; error: %v", ae.Class, ClassOf(err), w.class, err)
	}
	if ae.Status != w.status {
		t.Errorf("status = %d, want %d", ae.Status, w.status)
	}
	if ae.Code != w.code {
		t.Errorf("code = %q, want %q", ae.Code, w.code)
	}
	if ae.RequestID != w.requestID {
		t.Errorf("request id = %q, want %q", ae.RequestID, w.requestID)
	}
	if w.hint == "" && ae.Hint != "" {
		t.Errorf("hint = %q, want none", ae.Hint)
	}
	if w.hint != "" && !strings.Contains(ae.Hint, w.hint) {
		t.Errorf("hint = %q, want it to contain %q", ae.Hint, w.hint)
	}
	gotRA := ""
	if ae.RetryAfter != 0 {
		gotRA = ae.RetryAfter.String()
	}
	if gotRA != w.retryAfter || RetryAfterOf(err) != ae.RetryAfter {
		t.Errorf("retry after = %q, want %q", gotRA, w.retryAfter)
	}
	if ae.Message == "" {
		t.Errorf("empty message")
	}
}

func TestDashScopeErrors(t *testing.T) {
	tests := []struct {
		dir, name string
		stream    bool
		want      wantError
	}{
		{"recorded", "auth-error-nosse", false, wantError{class: Fatal, status: 401, code: "InvalidApiKey",
			requestID: "a1c0561c-1dfe-98a6-a62f-983577b8bc5e", hint: "DASHSCOPE_API_KEY"}},
		{"recorded", "parameter-error-nosse", false, wantError{class: RowFinal, status: 400, code: "InvalidParameter",
			requestID: "a5898c04-d210-901b-965f-e4bd90478805"}},
		// HTTP 200, then an event:error frame with :HTTP_STATUS/400.
		{"recorded", "parameter-error-sse", true, wantError{class: RowFinal, status: 400, code: "InvalidParameter",
			requestID: "7671ecd8-93cc-9ee9-bc89-739f0fd8b809"}},
		// The same answer to a request that did not ask for a stream
		// (README limit 10).
		{"recorded", "parameter-error-sse", false, wantError{class: RowFinal, status: 400, code: "InvalidParameter",
			requestID: "7671ecd8-93cc-9ee9-bc89-739f0fd8b809"}},
		{"native", "throttling-429", false, wantError{class: Retryable, status: 429, code: "Throttling.RateQuota",
			requestID: "00000000-0000-4000-8000-000000000032"}},
		{"native", "allocation-quota-429", false, wantError{class: Retryable, status: 429, code: "Throttling.AllocationQuota",
			requestID: "00000000-0000-4000-8000-000000000033"}},
		{"native", "arrearage-400", false, wantError{class: Fatal, status: 400, code: "Arrearage",
			requestID: "00000000-0000-4000-8000-000000000034", hint: "top up"}},
		{"native", "data-inspection-400", false, wantError{class: RowFinal, status: 400, code: "DataInspectionFailed",
			requestID: "00000000-0000-4000-8000-000000000035"}},
		{"native", "model-not-found-404", false, wantError{class: Fatal, status: 404, code: "ModelNotFound",
			requestID: "00000000-0000-4000-8000-000000000036", hint: "check --model"}},
		{"native", "bad-gateway-502-text", false, wantError{class: Retryable, status: 502, code: "Unknown",
			requestID: "00000000-0000-4000-8000-000000000037"}},
		{"native", "model-unavailable-503", true, wantError{class: Retryable, status: 503, code: "ModelUnavailable",
			requestID: "00000000-0000-4000-8000-000000000038"}},
		{"native", "stream-truncated-sse", true, wantError{class: Retryable, status: 200,
			requestID: "00000000-0000-4000-8000-000000000039"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/stream=%v", tc.name, tc.stream), func(t *testing.T) {
			srv := newReplayServer(t, loadRecording(t, tc.dir, tc.name))
			c := newTestDashScope(t, srv.URL, DashScopeConfig{Stream: tc.stream})
			_, err := c.Complete(context.Background(), userRequest("hi"))
			tc.want.check(t, err)
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error text contains the API key: %v", err)
			}
		})
	}
}

func TestDashScopeRequestBody(t *testing.T) {
	req := Request{
		Model: "qwen-plus",
		Messages: []Message{
			{Role: "system", Content: "Answer in JSON."},
			{Role: "user", Content: "1+1?"},
		},
		Temperature:    ptr(0.3),
		TopP:           ptr(0.9),
		MaxTokens:      ptr(int64(256)),
		Seed:           ptr(int64(42)),
		Stop:           []string{"END"},
		ResponseFormat: "json_object",
	}
	thinkingReq := req
	thinkingReq.ResponseFormat = ""
	thinkingReq.Stop = []string{"A", "B"}
	thinkingReq.EnableThinking = ptr(true)

	tests := []struct {
		name       string
		fixture    string
		req        Request
		wantParams map[string]any
		wantSSE    bool
	}{
		{"plain", "single-generation-message-nosse", req, map[string]any{
			"result_format": "message", "temperature": 0.3, "top_p": 0.9, "max_tokens": 256.0,
			"seed": 42.0, "stop": "END", "response_format": map[string]any{"type": "json_object"},
		}, false},
		// Thinking forces a stream with incremental output.
		{"thinking", "single-generation-message-reasoning-sse", thinkingReq, map[string]any{
			"result_format": "message", "incremental_output": true, "enable_thinking": true,
			"temperature": 0.3, "top_p": 0.9, "max_tokens": 256.0, "seed": 42.0,
			"stop": []any{"A", "B"},
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newReplayServer(t, loadRecording(t, "recorded", tc.fixture))
			c := newTestDashScope(t, srv.URL+"/api/v1/", DashScopeConfig{Headers: map[string]string{"X-DashScope-WorkSpace": "ws-1"}})
			if _, err := c.Complete(context.Background(), tc.req); err != nil {
				t.Fatalf("Complete: %v", err)
			}
			got := srv.onlyRequest(t)
			if got.Method != "POST" || got.Path != "/api/v1/services/aigc/text-generation/generation" {
				t.Errorf("request %s %s", got.Method, got.Path)
			}
			if h := got.Header.Get("Authorization"); h != "Bearer "+testKey {
				t.Errorf("Authorization = %q", h)
			}
			if h := got.Header.Get("X-DashScope-WorkSpace"); h != "ws-1" {
				t.Errorf("X-DashScope-WorkSpace = %q", h)
			}
			sse := got.Header.Get("X-DashScope-SSE") == "enable" && got.Header.Get("Accept") == "text/event-stream"
			if sse != tc.wantSSE {
				t.Errorf("SSE headers = %v (X-DashScope-SSE %q, Accept %q), want %v",
					sse, got.Header.Get("X-DashScope-SSE"), got.Header.Get("Accept"), tc.wantSSE)
			}
			var body struct {
				Model string `json:"model"`
				Input struct {
					Messages []Message `json:"messages"`
				} `json:"input"`
				Parameters map[string]any `json:"parameters"`
			}
			if err := json.Unmarshal(got.Body, &body); err != nil {
				t.Fatalf("request body %s: %v", got.Body, err)
			}
			if body.Model != "qwen-plus" || len(body.Input.Messages) != 2 || body.Input.Messages[1] != tc.req.Messages[1] {
				t.Errorf("model/messages = %q %+v", body.Model, body.Input.Messages)
			}
			assertJSONEqual(t, "parameters", body.Parameters, tc.wantParams)
		})
	}
}

// assertJSONEqual compares decoded JSON values.
func assertJSONEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

func TestNewDashScopeConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     DashScopeConfig
		wantErr string
		wantURL string
	}{
		{"defaults", DashScopeConfig{APIKey: "k"}, "", "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation"},
		{"no key", DashScopeConfig{}, "DASHSCOPE_API_KEY", ""},
		{"bad scheme", DashScopeConfig{APIKey: "k", BaseURL: "ftp://x/api/v1"}, "scheme", ""},
		{"no host", DashScopeConfig{APIKey: "k", BaseURL: "https:///api/v1"}, "no host", ""},
		{"negative timeout", DashScopeConfig{APIKey: "k", Timeout: -1}, "negative", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewDashScope(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewDashScope: %v", err)
			}
			if c.url != tc.wantURL || c.timeout != DefaultTimeout {
				t.Errorf("url %q timeout %v", c.url, c.timeout)
			}
		})
	}
}
