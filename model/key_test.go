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
