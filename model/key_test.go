package model

import "testing"

func TestRequestKeyIdentity(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	base := Request{Model: "qwen-plus", Messages: []Message{{Role: "system", Content: "s"}, {Role: "user", Content: "你好"}}}
	k := RequestKey("openai https://x", base)
	if len(k) != 64 || RequestKey("openai https://x", base) != k {
		t.Fatalf("key %q not stable", k)
	}
	variants := map[string]Request{}
	v := base
	v.Model = "qwen-max"
	variants["model"] = v
	v = base
	v.Messages = []Message{{Role: "system", Content: "s"}, {Role: "user", Content: "你好!"}}
	variants["content"] = v
	v = base
	v.Temperature = f(0.5)
	variants["temperature"] = v
	v = base
	v.Stop = []string{"x"}
	variants["stop"] = v
	for name, r := range variants {
		if RequestKey("openai https://x", r) == k {
			t.Errorf("changing %s does not change the key", name)
		}
	}
	if RequestKey("dashscope https://x", base) == k {
		t.Error("the endpoint is not part of the key")
	}
}

func TestEstimatePromptTokensErrsHigh(t *testing.T) {
	// The documented billing example: system "You are a helpful assistant."
	// + user "你是谁？" is billed 22 tokens (Qwen2.5) or 26 (Qwen3).
	req := Request{Messages: []Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: "你是谁？"}}}
	if n := EstimatePromptTokens(req); n < 26 || n > 60 {
		t.Errorf("estimate %d: want an upper bound near the billed 22–26", n)
	}
	if n := EstimatePromptTokens(Request{Messages: []Message{{Role: "user", Content: "hi"}}}); n < 10 {
		t.Errorf("estimate %d ignores the default system prompt", n)
	}
}

func TestPromptTokensDocumentedExamples(t *testing.T) {
	msgs := []Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: "你是谁？"}}
	off := false
	for _, tt := range []struct {
		model string
		want  int64
	}{{"qwen-plus", 26}, {"qwen-max", 22}} {
		n, exact, err := PromptTokens(Request{Model: tt.model, Messages: msgs, EnableThinking: &off})
		if err != nil || !exact || n != tt.want {
			t.Errorf("%s: %d tokens (exact %v, err %v), want %d as billed", tt.model, n, exact, err, tt.want)
		}
	}
	// Without a system message the service adds the default one.
	n, _, _ := PromptTokens(Request{Model: "qwen-plus", Messages: msgs[1:], EnableThinking: &off})
	if n != 26 {
		t.Errorf("default system prompt not counted: %d", n)
	}
	if _, exact, _ := PromptTokens(Request{Model: "qwen3.5-plus", Messages: msgs}); exact {
		t.Error("qwen3.5 uses another vocabulary; the count must be marked as an estimate")
	}
}
