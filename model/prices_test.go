package model

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestPriceCost(t *testing.T) {
	cn := DefaultPrices("cn")
	plus, as, ok := cn.Lookup("qwen-plus-2025-07-28")
	if !ok || as != "qwen-plus" || plus.Currency != "CNY" {
		t.Fatalf("lookup: %v %q %+v", ok, as, plus)
	}
	tests := []struct {
		name            string
		u               Usage
		thinking, batch bool
		want            float64
	}{
		{"first tier", Usage{PromptTokens: 100_000, CompletionTokens: 1_000_000}, false, false, 0.08 + 2},
		{"thinking output", Usage{PromptTokens: 100_000, CompletionTokens: 1_000_000}, true, false, 0.08 + 8},
		{"batch half", Usage{PromptTokens: 100_000, CompletionTokens: 1_000_000}, false, true, (0.08 + 2) / 2},
		{"third tier", Usage{PromptTokens: 1_000_000, CompletionTokens: 1_000_000}, false, false, 4.8 + 48},
		{"second tier by input length", Usage{PromptTokens: 200_000, CompletionTokens: 1000}, false, false, 0.2*2.4 + 0.001*20},
		{"cached input", Usage{PromptTokens: 100_000, CachedTokens: 50_000}, false, false, 0.05*0.8 + 0.05*0.2},
		{"documented example", Usage{PromptTokens: 26, CompletionTokens: 66}, false, false, (26*0.8 + 66*2) / 1e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plus.Cost(tt.u, tt.thinking, tt.batch); !near(got, tt.want) {
				t.Errorf("Cost = %.12f, want %.12f", got, tt.want)
			}
		})
	}
	intl := DefaultPrices("intl")
	if p, _, ok := intl.Lookup("qwen-max"); !ok || p.Currency != "USD" || !near(p.Cost(Usage{PromptTokens: 1e6, CompletionTokens: 1e6}, false, false), 8.0) {
		t.Errorf("intl qwen-max: %+v %v", p, ok)
	}
	if _, _, ok := cn.Lookup("qwen-max"); ok {
		t.Error("mainland qwen-max has no known price; it must not be guessed")
	}
	if _, _, ok := cn.Lookup("llama-3"); ok {
		t.Error("unknown model priced")
	}
}

func TestPricesFileOverridesAndAdds(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p.yaml")
	os.WriteFile(f, []byte(`prices:
  - model: qwen-plus
    tiers: [{input: 1, output: 3}]
  - model: my-vllm-model
    currency: CNY
    tiers: [{up_to: 1000, input: 0.1, output: 0.2}, {input: 1, output: 2}]
  - model: qwen-plus
    region: intl
    tiers: [{input: 9, output: 9}]
`), 0o644)
	cn := DefaultPrices("cn")
	if err := cn.LoadFile(f); err != nil {
		t.Fatal(err)
	}
	p, _, _ := cn.Lookup("qwen-plus")
	if !near(p.Cost(Usage{PromptTokens: 1e6, CompletionTokens: 1e6}, false, false), 4) || p.Source != f {
		t.Errorf("override not applied: %+v", p)
	}
	if m, _, ok := cn.Lookup("my-vllm-model"); !ok || !near(m.Cost(Usage{PromptTokens: 2000}, false, false), 2000.0/1e6) {
		t.Errorf("added model: %+v %v", m, ok)
	}
	bad := filepath.Join(dir, "bad.yaml")
	for _, text := range []string{"prices:\n  - model: x\n", "prices:\n  - model: x\n    tiers: [{input: 1, output: 1}, {up_to: 5, input: 1, output: 1}]\n", "price: []\n"} {
		os.WriteFile(bad, []byte(text), 0o644)
		if err := DefaultPrices("cn").LoadFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: err = %v, want an error naming the file", text, err)
		}
	}
}
