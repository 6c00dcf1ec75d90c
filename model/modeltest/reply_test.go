package modeltest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"abcd", 1},
		{"abcde", 2},
		{"Hello, world!", 4}, // 13 bytes
		{"你好", 2},
		{"你是谁？", 4},     // the full-width question mark is CJK punctuation
		{"Hello 世界", 4}, // 6 bytes (2 tokens) + 2 CJK
		{"こんにちは", 5},    // kana
		{"안녕", 2},       // Hangul
		{"é", 1},        // 2 bytes of non-CJK
		{"😀😀", 2},       // 8 bytes of non-CJK
		{strings.Repeat("x", 400), 100},
	}
	for _, tt := range tests {
		if got := EstimateTokens(tt.in); got != tt.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestTruncateTokens(t *testing.T) {
	tests := []struct {
		in      string
		max     int
		want    string
		wantCut bool
	}{
		{"abcdefgh", 1, "abcd", true},
		{"abcdefgh", 2, "abcdefgh", false},
		{"你好世界", 3, "你好世", true},
		{"ab你好", 2, "ab你", true},
		{"abc", 0, "", true},
		{"", 0, "", false},
	}
	for _, tt := range tests {
		got, cut := truncateTokens(tt.in, tt.max)
		if got != tt.want || cut != tt.wantCut {
			t.Errorf("truncateTokens(%q, %d) = %q, %v; want %q, %v", tt.in, tt.max, got, cut, tt.want, tt.wantCut)
		}
		if EstimateTokens(got) > tt.max {
			t.Errorf("truncateTokens(%q, %d) kept %d tokens", tt.in, tt.max, EstimateTokens(got))
		}
	}
}

// TestPromptTokens checks the billed input count against the service's own
// documented examples: system "You are a helpful assistant." + user "你是谁？"
// is 26 tokens on qwen-plus (Qwen3 template, thinking off) and 22 on the
// Qwen2.5-based example of the API reference; a missing system message is
// billed as the default one.
func TestPromptTokens(t *testing.T) {
	withSystem := []message{{"system", defaultSystemPrompt}, {"user", "你是谁？"}}
	for _, tt := range []struct {
		model string
		msgs  []message
		want  int
	}{
		{"qwen-plus", withSystem, 26},
		{"qwen-plus", withSystem[1:], 26},
		{"qwen-max", withSystem, 22},
	} {
		if got := promptTokens(&chatRequest{model: tt.model, messages: tt.msgs}); got != tt.want {
			t.Errorf("%s with %d messages: %d, want %d", tt.model, len(tt.msgs), got, tt.want)
		}
	}
	s := start(t, Options{})
	a := post(t, compatURL(s), `{"model":"qwen-plus","messages":[{"role":"user","content":"你是谁？"}]}`)
	if got := num(decode(t, a.body), "usage.prompt_tokens"); got != 26 {
		t.Errorf("usage.prompt_tokens %d, want 26", got)
	}
}

// chat sends a compatible request and returns the decoded answer.
func chat(t *testing.T, s *Server, body string) map[string]any {
	t.Helper()
	a := post(t, compatURL(s), body)
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	return decode(t, a.body)
}

func TestDeterminism(t *testing.T) {
	s := start(t, Options{})
	other := start(t, Options{Seed: 99})
	const body = `{"model":"qwen-plus","messages":[{"role":"system","content":"You classify reviews."},{"role":"user","content":"Great phone, battery lasts two days."}],"temperature":0.7,"seed":3}`
	first := chat(t, s, body)
	for i, srv := range []*Server{s, other} {
		again := chat(t, srv, body)
		if fmt.Sprint(first["choices"], first["usage"]) != fmt.Sprint(again["choices"], again["usage"]) {
			t.Errorf("server %d: same request, different reply:\n%v\n%v", i, first, again)
		}
	}
	content := str(first, "choices.0.message.content")
	if !strings.HasPrefix(content, "[simulated qwen-plus] ") || !strings.Contains(content, "battery lasts two days") {
		t.Errorf("content %q", content)
	}

	// With temperature 0 the seed does not matter.
	greedy := `{"model":"qwen-plus","messages":[{"role":"user","content":"Label this JSON please."}],"response_format":{"type":"json_object"},"temperature":0,"seed":%d}`
	want := str(chat(t, s, fmt.Sprintf(greedy, 1)), "choices.0.message.content")
	for seed := 2; seed < 6; seed++ {
		if got := str(chat(t, s, fmt.Sprintf(greedy, seed)), "choices.0.message.content"); got != want {
			t.Errorf("temperature 0, seed %d: %q, want %q", seed, got, want)
		}
	}
}

func TestMaxTokensAndStop(t *testing.T) {
	s := start(t, Options{})
	const msgs = `"model":"qwen-plus","messages":[{"role":"user","content":"Describe the water cycle in detail for a school project about weather."}]`
	full := str(chat(t, s, "{"+msgs+"}"), "choices.0.message.content")
	tests := []struct {
		name, extra, finish string
		check               func(string) bool
	}{
		{"max_tokens", `,"max_tokens":3`, "length", func(c string) bool {
			return strings.HasPrefix(full, c) && len(c) < len(full) && EstimateTokens(c) <= 3
		}},
		{"max_tokens large enough", `,"max_tokens":1000`, "stop", func(c string) bool { return c == full }},
		{"stop string", `,"stop":["water"]`, "stop", func(c string) bool {
			return c == full[:strings.Index(full, "water")]
		}},
		{"stop list, earliest wins", `,"stop":["cycle","simulated"]`, "stop", func(c string) bool { return c == "[" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chat(t, s, "{"+msgs+tt.extra+"}")
			c := str(got, "choices.0.message.content")
			if str(got, "choices.0.finish_reason") != tt.finish || !tt.check(c) {
				t.Errorf("finish %q content %q (full %q)", str(got, "choices.0.finish_reason"), c, full)
			}
			if u := get(got, "usage"); num(u, "completion_tokens") != EstimateTokens(c) {
				t.Errorf("completion_tokens %d for %q", num(u, "completion_tokens"), c)
			}
		})
	}
}

func TestJSONObjectReply(t *testing.T) {
	s := start(t, Options{})
	for _, tt := range []struct{ name, body string }{
		{"compatible", `{"model":"qwen-plus","messages":[{"role":"system","content":"Reply in JSON."},{"role":"user","content":"Sentiment of: I love it"}],"response_format":{"type":"json_object"}}`},
		{"keyword in user message, any case", `{"model":"qwen-plus","messages":[{"role":"user","content":"Give Json for: meh"}],"response_format":{"type":"json_object"},"n":3}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := chat(t, s, tt.body)
			for i := range got["choices"].([]any) {
				var obj struct {
					Label      string   `json:"label"`
					Confidence *float64 `json:"confidence"`
					Reason     string   `json:"reason"`
				}
				c := str(got, fmt.Sprintf("choices.%d.message.content", i))
				if err := json.Unmarshal([]byte(c), &obj); err != nil {
					t.Fatalf("choice %d content %q is not a JSON object: %v", i, c, err)
				}
				if obj.Label == "" || obj.Confidence == nil || *obj.Confidence < 0.5 || *obj.Confidence >= 1 ||
					!strings.HasPrefix(obj.Reason, "[simulated qwen-plus]") {
					t.Errorf("choice %d: %+v", i, obj)
				}
			}
		})
	}
	// Native too.
	a := post(t, nativeURL(s), `{"model":"qwen-max","input":{"messages":[{"role":"user","content":"用 JSON 格式输出"}]},"parameters":{"result_format":"message","response_format":{"type":"json_object"}}}`)
	var obj map[string]any
	if err := json.Unmarshal([]byte(str(decode(t, a.body), "output.choices.0.message.content")), &obj); err != nil || obj["label"] == nil {
		t.Errorf("native json reply %s: %v", a.body, err)
	}
}

func TestTranslationReply(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		name, msgs, want string
	}{
		{"into English", `[{"role":"user","content":"Translate into English:\n今天天气很好"}]`, "[simulated qwen-plus] EN: 今天天气很好"},
		{"system asks, Chinese target", `[{"role":"system","content":"You translate text into Chinese."},{"role":"user","content":"Good morning"}]`, "[simulated qwen-plus] ZH: Good morning"},
		{"翻译, no target named", `[{"role":"user","content":"翻译：你好"}]`, "[simulated qwen-plus] EN: 你好"},
		{"French", `[{"role":"user","content":"Please translate to French: cheese"}]`, "[simulated qwen-plus] FR:  cheese"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := str(chat(t, s, `{"model":"qwen-plus","messages":`+tt.msgs+`}`), "choices.0.message.content")
			if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(tt.want), " ") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestThinking(t *testing.T) {
	s := start(t, Options{})
	const user = `"messages":[{"role":"user","content":"Is 17 prime?"}]`
	tests := []struct {
		name, body string
		thinking   bool
	}{
		{"off by default", `{"model":"qwen-plus",` + user + `}`, false},
		{"enable_thinking", `{"model":"qwen-plus",` + user + `,"enable_thinking":true}`, true},
		{"open qwen3 thinks by default", `{"model":"qwen3-32b",` + user + `}`, true},
		{"open qwen3 switched off", `{"model":"qwen3-32b",` + user + `,"enable_thinking":false}`, false},
		{"thinking-only model", `{"model":"qwq-plus",` + user + `,"enable_thinking":false}`, true},
		{"budget", `{"model":"qwen-plus",` + user + `,"enable_thinking":true,"thinking_budget":5,"max_tokens":2}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chat(t, s, tt.body)
			msg := get(got, "choices.0.message").(map[string]any)
			rc, has := msg["reasoning_content"].(string)
			if has != tt.thinking || tt.thinking && rc == "" {
				t.Fatalf("message %v", msg)
			}
			u := get(got, "usage")
			rt := num(u, "completion_tokens_details.reasoning_tokens")
			if tt.thinking && (rt != EstimateTokens(rc) ||
				num(u, "completion_tokens") != rt+EstimateTokens(str(msg, "content"))) {
				t.Errorf("usage %v for reasoning %q", u, rc)
			}
			if strings.Contains(tt.body, "thinking_budget") && (rt > 5 || str(got, "choices.0.finish_reason") != "length") {
				t.Errorf("budget/max_tokens ignored: usage %v, finish %q", u, str(got, "choices.0.finish_reason"))
			}
		})
	}
}

func TestNChoices(t *testing.T) {
	s := start(t, Options{})
	got := chat(t, s, `{"model":"qwen-plus","messages":[{"role":"user","content":"hi"}],"n":3}`)
	choices := got["choices"].([]any)
	total := 0
	for i := range choices {
		if num(got, fmt.Sprintf("choices.%d.index", i)) != i {
			t.Errorf("choice %d index %v", i, get(got, fmt.Sprintf("choices.%d.index", i)))
		}
		total += EstimateTokens(str(got, fmt.Sprintf("choices.%d.message.content", i)))
	}
	if len(choices) != 3 || num(got, "usage.completion_tokens") != total {
		t.Errorf("%d choices, usage %v, want completion %d", len(choices), got["usage"], total)
	}
}

func TestScanMarkers(t *testing.T) {
	tests := []struct {
		content string
		want    markers
	}{
		{"plain", markers{}},
		{"[[sim:inspect]]", markers{fault: FaultDataInspection}},
		{"a [[sim:500]] b [[sim:503]]", markers{fault: Fault500}},
		{"[[sim:reset*3]]", markers{fault: FaultReset, times: 3}},
		{"[[sim:slow=20ms]][[sim:slow=1s]]", markers{slow: time.Second + 20*time.Millisecond}},
		{"[[sim:slow=forever]] [[sim:500*x]] [[sim:nope]] [[sim:429", markers{}},
		{"[[sim:Hang]]", markers{fault: FaultHang}},
	}
	for _, tt := range tests {
		if got := scanMarkers([]message{{"user", tt.content}}); got != tt.want {
			t.Errorf("scanMarkers(%q) = %+v, want %+v", tt.content, got, tt.want)
		}
	}
	if got := stripMarkers("a [[sim:500]]b[[sim:slow=1s]] c [[sim:open"); got != "a b c [[sim:open" {
		t.Errorf("stripMarkers: %q", got)
	}
}

func TestFaultNames(t *testing.T) {
	for f := FaultNone; f < numFaults; f++ {
		back, ok := parseFault(f.String())
		if !ok || back != f {
			t.Errorf("%v does not round-trip: %v %v", f, back, ok)
		}
	}
	if got := Fault(99).String(); got != "Fault(99)" {
		t.Errorf("unknown fault prints %q", got)
	}
}

func TestLookupModel(t *testing.T) {
	tests := []struct {
		model    string
		maxInput int
		thinking thinkingMode
	}{
		{"qwen-plus", 129024, thinkingOff},
		{"qwen-plus-latest", 997952, thinkingOff},
		{"qwen-plus-2025-07-28", 129024, thinkingOff},
		{"qwen-max", 30720, thinkingOff},
		{"qwen3-32b", 131072, thinkingDefaultOn},
		{"qwen3-30b-a3b-instruct-2507", 131072, thinkingOff},
		{"qwen3-30b-a3b-thinking-2507", 131072, thinkingAlways},
		{"qwen3.5-plus", 991808, thinkingDefaultOn},
		{"qwen3.6-max", 997952, thinkingDefaultOn},
		{"qwq-plus", 98304, thinkingAlways},
		{"qwen-new-thing", 997952, thinkingOff},
	}
	for _, tt := range tests {
		if got := lookupModel(tt.model); got.maxInput != tt.maxInput || got.thinking != tt.thinking {
			t.Errorf("lookupModel(%q) = %+v, want input %d thinking %v", tt.model, got, tt.maxInput, tt.thinking)
		}
	}
}
