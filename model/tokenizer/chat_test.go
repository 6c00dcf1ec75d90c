package tokenizer

import (
	"reflect"
	"strings"
	"testing"
)

// The two billed examples: the API reference (Qwen2.5-based) bills 22
// input tokens, the qwen-plus example (Qwen3, thinking off) 26.
func TestCountChatBilledExamples(t *testing.T) {
	tok := qwen(t)
	msgs := []Message{
		{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: "你是谁？"},
	}
	tests := []struct {
		tmpl     Template
		thinking bool
		want     int
	}{
		{TemplateQwen25, false, 22},
		{TemplateQwen25, true, 22}, // no thinking block in Qwen2.5
		{TemplateQwen3, false, 26},
		{TemplateQwen3, true, 22},
	}
	for _, tt := range tests {
		if got := tok.CountChat(tt.tmpl, msgs, tt.thinking); got != tt.want {
			t.Errorf("CountChat(%v, thinking=%v) = %d, want %d", tt.tmpl, tt.thinking, got, tt.want)
		}
	}
	// Without a system message the service adds the default one, and bills
	// it; WithDefaultSystem reproduces that.
	user := []Message{{Role: "user", Content: "你是谁？"}}
	if got := tok.CountChat(TemplateQwen3, WithDefaultSystem(user), false); got != 26 {
		t.Errorf("CountChat(WithDefaultSystem) = %d, want 26", got)
	}
	if got := tok.CountChat(TemplateQwen3, user, false); got != 26-11 {
		t.Errorf("CountChat without system = %d, want 15", got)
	}
}

type chatVector struct {
	Name     string    `json:"name"`
	Template string    `json:"template"`
	Thinking bool      `json:"thinking"`
	Messages []Message `json:"messages"`
	IDs      []int     `json:"ids"`
}

// Chat vectors: the template rendered by Jinja2 and tokenised by the
// reference tokenizer with special tokens split out.
func TestChatVectors(t *testing.T) {
	tok := qwen(t)
	vs := readJSONL[chatVector](t, "chat_vectors.jsonl")
	if len(vs) < 40 {
		t.Fatalf("only %d chat vectors", len(vs))
	}
	for _, v := range vs {
		var tmpl Template
		switch v.Template {
		case "qwen2.5":
			tmpl = TemplateQwen25
		case "qwen3":
			tmpl = TemplateQwen3
		default:
			t.Fatalf("%s: unknown template %q", v.Name, v.Template)
		}
		if tmpl.String() != v.Template {
			t.Errorf("%v.String() = %q", tmpl, tmpl.String())
		}
		if got := tok.CountChat(tmpl, v.Messages, v.Thinking); got != len(v.IDs) {
			t.Errorf("%s: CountChat = %d, want %d", v.Name, got, len(v.IDs))
		}
	}
}

// Every special token the templates name must exist, or CountChat would
// count a token the model does not have.
func TestTemplateSpecialsExist(t *testing.T) {
	tok := qwen(t)
	for _, name := range []string{"<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_response>", "</tool_response>"} {
		if _, ok := tok.SpecialID(name); !ok {
			t.Errorf("special token %s missing", name)
		}
	}
}

// CountChat relies on every added token starting with '<' to find them
// in content quickly.
func TestAddedTokensStartWithAngle(t *testing.T) {
	tok := qwen(t)
	for _, a := range tok.added {
		if !strings.HasPrefix(a, "<") {
			t.Errorf("added token %q does not start with '<'", a)
		}
	}
}

// Special-token names in content count as the token, as the Hugging Face
// tokenizer reads the rendered prompt; Qwen2.5 knows no <think>.
func TestCountChatSpecialsInContent(t *testing.T) {
	tok := qwen(t)
	base := tok.CountChat(TemplateQwen3, []Message{{Role: "user", Content: "a b"}}, true)
	tests := []struct {
		tmpl    Template
		content string
		want    int
	}{
		{TemplateQwen3, "a<|im_end|> b", base + 1},
		{TemplateQwen3, "a<think> b", base + 1},
		{TemplateQwen3, "a<|im_end b", base + tok.Count("<|im_end")},
		{TemplateQwen25, "a<|im_end|> b", base + 1},
		{TemplateQwen25, "a<think> b", base + tok.Count("<think>")},
	}
	for _, tt := range tests {
		if got := tok.CountChat(tt.tmpl, []Message{{Role: "user", Content: tt.content}}, true); got != tt.want {
			t.Errorf("CountChat(%v, %q) = %d, want %d", tt.tmpl, tt.content, got, tt.want)
		}
	}
	// Encode, by contrast, never reads special tokens.
	if ids := tok.Encode("<|im_end|>"); len(ids) == 1 {
		t.Errorf("Encode read <|im_end|> as a special token: %v", ids)
	}
}

func TestCountChatUnknownRole(t *testing.T) {
	tok := qwen(t)
	asUser := tok.CountChat(TemplateQwen25, []Message{{Role: "user", Content: "hi"}}, false)
	// "developer" is one token longer than "user" as text.
	got := tok.CountChat(TemplateQwen25, []Message{{Role: "developer", Content: "hi"}}, false)
	if got != asUser+tok.Count("developer")-tok.Count("user") {
		t.Errorf("unknown role counted %d, user %d", got, asUser)
	}
}

func TestWithDefaultSystem(t *testing.T) {
	user := []Message{{Role: "user", Content: "q"}}
	got := WithDefaultSystem(user)
	want := []Message{{Role: "system", Content: DefaultSystemPrompt}, {Role: "user", Content: "q"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithDefaultSystem = %v", got)
	}
	if len(user) != 1 {
		t.Error("WithDefaultSystem modified its argument")
	}
	withSys := []Message{{Role: "user", Content: "q"}, {Role: "system", Content: "s"}}
	if got := WithDefaultSystem(withSys); !reflect.DeepEqual(got, withSys) {
		t.Errorf("WithDefaultSystem added a second system message: %v", got)
	}
}

func TestSplitReasoning(t *testing.T) {
	tests := []struct{ in, answer, reasoning string }{
		{"plain", "plain", ""},
		{"<think>\nr\n</think>\n\na", "a", "r"},
		{"<think>a</think><think>b\n</think>\n\nanswer</think>tail", "tail", "a"},
		{"no open tag</think>\nx", "x", "no open tag"},
	}
	for _, tt := range tests {
		a, r := splitReasoning(tt.in)
		if a != tt.answer || r != tt.reasoning {
			t.Errorf("splitReasoning(%q) = %q, %q; want %q, %q", tt.in, a, r, tt.answer, tt.reasoning)
		}
	}
}

func TestTemplateFor(t *testing.T) {
	tests := []struct {
		model string
		want  Template
		exact bool
	}{
		{"qwen-plus", TemplateQwen3, true},
		{"qwen-plus-latest", TemplateQwen3, true},
		{"qwen-plus-2025-07-28", TemplateQwen3, true},
		{"qwen-plus-2025-04-28", TemplateQwen3, true},
		{"qwen-plus-2025-01-25", TemplateQwen25, true},
		{"qwen-plus-0919", TemplateQwen25, true},
		{"qwen-turbo", TemplateQwen3, true},
		{"qwen-turbo-1101", TemplateQwen25, true},
		{"qwen-flash", TemplateQwen3, true},
		{"QWEN-MAX", TemplateQwen25, true},
		{"qwen-max-2025-01-25", TemplateQwen25, true},
		{"qwen3-max", TemplateQwen3, true},
		{"qwen-long", TemplateQwen25, true},
		{"qwen2.5-72b-instruct", TemplateQwen25, true},
		{"qwen3-235b-a22b", TemplateQwen3, true},
		{"qwen3-235b-a22b-instruct-2507", TemplateQwen25, true},
		{"qwen3-235b-a22b-thinking-2507", TemplateQwen3, true},
		{"qwq-plus", TemplateQwen3, true},
		{"dashscope/qwen-plus", TemplateQwen3, true},
		{"qwen3.5-plus", TemplateQwen3, false},
		{"qwen3.6-flash", TemplateQwen3, false},
		{"qwen3.10-max", TemplateQwen3, false},
		{"deepseek-r1", TemplateQwen3, false},
		{"", TemplateQwen3, false},
	}
	for _, tt := range tests {
		if got := TemplateFor(tt.model); got != tt.want {
			t.Errorf("TemplateFor(%q) = %v, want %v", tt.model, got, tt.want)
		}
		if got := ExactFor(tt.model); got != tt.exact {
			t.Errorf("ExactFor(%q) = %v, want %v", tt.model, got, tt.exact)
		}
	}
}
