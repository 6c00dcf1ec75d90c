package prompts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTemplateAndRender(t *testing.T) {
	header := []string{"商品名称", "product name", "描述", "sku"}
	values := []string{"龙井茶", "Longjing tea", "明前特级", "SKU-1"}
	tests := []struct {
		name, tmpl, want string
		cols             []string
	}{
		{"chinese", "翻译：{{商品名称}}", "翻译：龙井茶", []string{"商品名称"}},
		{"spaces in name and braces", "Name: {{ product name }}!", "Name: Longjing tea!", []string{"product name"}},
		{"repeated", "{{sku}}/{{sku}} {{描述}}", "SKU-1/SKU-1 明前特级", []string{"sku", "描述"}},
		{"no placeholders", "static", "static", nil},
		{"literal braces", "json {{{{x}} {{sku}}", "json {{x}} SKU-1", []string{"sku"}},
		{"single braces kept", `{"k": "{{sku}}"}`, `{"k": "SKU-1"}`, []string{"sku"}},
		{"multiline", "a\n{{描述}}\nb", "a\n明前特级\nb", []string{"描述"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ParseTemplate(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if got := tp.Columns(); strings.Join(got, "|") != strings.Join(tt.cols, "|") {
				t.Errorf("Columns() = %q, want %q", got, tt.cols)
			}
			b, err := tp.Bind(header, "in.csv")
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Render(values); got != tt.want {
				t.Errorf("Render = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for _, tmpl := range []string{"oops {{name", "empty {{ }} here", "{{}}"} {
		if _, err := ParseTemplate(tmpl); err == nil {
			t.Errorf("ParseTemplate(%q): no error", tmpl)
		} else if !strings.Contains(err.Error(), "character") {
			t.Errorf("ParseTemplate(%q) error %q does not say where", tmpl, err)
		}
	}
}

func TestMissingColumnNamesItAndListsColumns(t *testing.T) {
	tp, err := ParseTemplate("{{商品名}} {{price}} {{描述}}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.Bind([]string{"商品名称", "描述", "Price"}, "catalog.xlsx")
	var me *MissingColumnError
	if !errors.As(err, &me) {
		t.Fatalf("want *MissingColumnError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`"商品名"`, `"price"`, "catalog.xlsx", `"商品名称", "描述", "Price"`, `did you mean "Price"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestAllEmpty(t *testing.T) {
	tp, _ := ParseTemplate("{{a}} and {{b}}")
	b, err := tp.Bind([]string{"a", "b", "c"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.AllEmpty([]string{"", "  ", "x"}) {
		t.Error("row with a and b blank should be empty")
	}
	if b.AllEmpty([]string{"", "y", ""}) {
		t.Error("row with b set is not empty")
	}
}

func TestLoadJobAndDefaults(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "job.yaml")
	os.WriteFile(p, []byte(`
model: qwen-max
prompt: |
  Translate: {{name}}
output_column: en
temperature: 0.3
max_tokens: 100
seed: 7
stop: "###"
enable_thinking: false
`), 0o644)
	job, err := LoadJob(p)
	if err != nil {
		t.Fatal(err)
	}
	job = job.WithDefaults()
	if job.Model != "qwen-max" || job.OutputColumn != "en" || *job.Temperature != 0.3 || *job.MaxTokens != 100 ||
		*job.Seed != 7 || len(job.Stop) != 1 || job.Stop[0] != "###" || *job.EnableThinking {
		t.Fatalf("job not parsed: %+v", job)
	}
	if job.System != DefaultSystem {
		t.Errorf("System = %q, want the documented default", job.System)
	}
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(job, []string{"name"}, "in.csv")
	if err != nil {
		t.Fatal(err)
	}
	req, skip := r.Render([]string{"茶"})
	if skip || len(req.Messages) != 2 || req.Messages[0].Content != DefaultSystem || req.Messages[1].Content != "Translate: 茶\n" ||
		req.Model != "qwen-max" || *req.MaxTokens != 100 {
		t.Fatalf("request = %+v", req)
	}
	if _, skip := r.Render([]string{" "}); !skip {
		t.Error("a row whose only prompt column is blank must be skipped, not sent")
	}
}

func TestJobErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "prompt: x\ntemprature: 1\n", "temprature"},
		{"empty", "", "empty"},
		{"stop wrong type", "prompt: x\nstop: {a: 1}\n", "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJob([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	f := func(v float64) *float64 { return &v }
	i := func(v int64) *int64 { return &v }
	invalid := []struct {
		name string
		job  Job
		want string
	}{
		{"no prompt", Job{OutputColumn: "o"}, "no prompt"},
		{"temperature", Job{Prompt: "x", OutputColumn: "o", Temperature: f(2)}, "temperature"},
		{"top_p", Job{Prompt: "x", OutputColumn: "o", TopP: f(0)}, "top_p"},
		{"max_tokens", Job{Prompt: "x", OutputColumn: "o", MaxTokens: i(0)}, "max_tokens"},
		{"seed", Job{Prompt: "x", OutputColumn: "o", Seed: i(1 << 31)}, "seed"},
		{"json word", Job{Prompt: "x", OutputColumn: "o", ResponseFormat: "json_object"}, "json"},
		{"format", Job{Prompt: "x", OutputColumn: "o", ResponseFormat: "yaml"}, "response_format"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.job.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestExplicitEmptySystemSendsNone(t *testing.T) {
	job := Job{Prompt: "{{a}}"}
	job.SetSystem("")
	job = job.WithDefaults()
	r, err := NewRenderer(job, []string{"a"}, "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := r.Render([]string{"hi"})
	if len(req.Messages) != 1 || req.Messages[0].Role != "user" {
		t.Fatalf("messages = %+v, want only the user message", req.Messages)
	}
}

func TestSystemTemplateUsesColumns(t *testing.T) {
	job := Job{Prompt: "{{text}}", System: "Translate into {{lang}}."}.WithDefaults()
	r, err := NewRenderer(job, []string{"text", "lang"}, "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := r.Render([]string{"你好", "German"})
	if req.Messages[0].Content != "Translate into German." {
		t.Fatalf("system = %q", req.Messages[0].Content)
	}
	if _, err := NewRenderer(Job{Prompt: "{{text}}", System: "{{nope}}"}.WithDefaults(), []string{"text"}, ""); err == nil {
		t.Fatal("a missing column in the system prompt must be an error too")
	}
}

func BenchmarkRender(b *testing.B) {
	tp, _ := ParseTemplate("Translate the product into English.\nName: {{商品名称}}\nDescription: {{描述}}\nReply with the translation only.")
	bd, _ := tp.Bind([]string{"sku", "商品名称", "描述"}, "")
	vals := []string{"SKU-1", "西湖龙井明前特级绿茶 250g 礼盒装", "产自杭州西湖核心产区，明前手工采摘，香气清高持久，滋味鲜爽甘醇。"}
	b.ReportAllocs()
	for b.Loop() {
		_ = bd.Render(vals)
	}
}
