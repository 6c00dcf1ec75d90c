package prompts

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"bulkgen/model"
)

// requestText lays out a request for golden files.
func requestText(req model.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "model: %s\nresponse_format: %s\n", req.Model, req.ResponseFormat)
	if req.Temperature != nil {
		fmt.Fprintf(&b, "temperature: %g\n", *req.Temperature)
	}
	if req.EnableThinking != nil {
		fmt.Fprintf(&b, "enable_thinking: %t\n", *req.EnableThinking)
	}
	for _, m := range req.Messages {
		fmt.Fprintf(&b, "--- %s\n%s\n", m.Role, strings.TrimRight(m.Content, "\n"))
	}
	return b.String()
}

func TestLabelJobRenders(t *testing.T) {
	job, err := LabelJob([]string{" positive", "negative ", "", "neutral", "{{odd}}"}, "评论内容", WithReason())
	if err != nil {
		t.Fatal(err)
	}
	job = job.WithDefaults()
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(job.Fields.Names(), ","); got != "label,reason" {
		t.Errorf("Names() = %s, want label,reason", got)
	}
	r, err := NewRenderer(job, []string{"评论编号", "评论内容"}, "reviews.csv")
	if err != nil {
		t.Fatal(err)
	}
	req, skip := r.Render([]string{"1", "物流太慢了，但是东西不错。"})
	if skip {
		t.Fatal("row skipped")
	}
	golden(t, "label_request", requestText(req))

	// The reply the instruction asks for parses; "{{odd}}" stayed a label.
	vals, err := job.Fields.Parse(`{"label": "{{ODD}}", "reason": null}`)
	if err != nil || vals[0] != "{{odd}}" || vals[1] != "" {
		t.Errorf("Parse = %q, %v", vals, err)
	}

	plain, err := LabelJob([]string{"spam", "ham"}, "text")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plain.Fields.Names(), ","); got != "label" {
		t.Errorf("without WithReason, Names() = %s, want label", got)
	}
}

func TestLabelJobErrors(t *testing.T) {
	tests := []struct {
		name   string
		labels []string
		col    string
		want   string
	}{
		{"one label", []string{"yes", " "}, "text", "at least two labels"},
		{"duplicate", []string{"Yes", "yes"}, "text", "given twice"},
		{"no column", []string{"a", "b"}, " ", "no text column"},
		{"column with braces", []string{"a", "b"}, "x}}y", "rename the column"},
		{"column ending in brace", []string{"a", "b"}, "x}", "rename the column"},
		{"column with outer spaces", []string{"a", "b"}, " text", "rename the column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LabelJob(tt.labels, tt.col)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTasksValidate(t *testing.T) {
	fields := mustFields(t, "  label: [a, b]\n")
	noEnum := mustFields(t, "  summary: string\n")
	tests := []struct {
		name string
		job  Job
		want string // "" means valid
	}{
		{"plain job unchanged", Job{Prompt: "x"}, ""},
		{"generate", Job{Task: TaskGenerate, Prompt: "x"}, ""},
		{"translate parses", Job{Task: TaskTranslate, Translate: TranslateSpec{To: "en", Columns: []string{"名称"}}}, ""},
		{"translate needs a target", Job{Task: TaskTranslate, Translate: TranslateSpec{Columns: []string{"名称"}}}, "task translate needs the target language"},
		{"translate needs columns", Job{Task: TaskTranslate, Translate: TranslateSpec{To: "en"}}, "task translate needs the columns"},
		{"translate block without the task", Job{Prompt: "x", Translate: TranslateSpec{To: "en"}}, "needs task: translate"},
		{"fields without task", Job{Prompt: "x", Fields: noEnum}, ""},
		{"extract", Job{Task: TaskExtract, Prompt: "x", Fields: noEnum}, ""},
		{"label", Job{Task: TaskLabel, Prompt: "x", Fields: fields}, ""},
		{"unknown task", Job{Task: "classify", Prompt: "x"}, `task "classify": use generate, label, extract or translate`},
		{"label without fields", Job{Task: TaskLabel, Prompt: "x"}, "task label needs fields"},
		{"extract without fields", Job{Task: TaskExtract, Prompt: "x"}, "task extract needs fields"},
		{"label without labels", Job{Task: TaskLabel, Prompt: "x", Fields: noEnum}, "needs a field with a list of labels"},
		{"generate with fields", Job{Task: TaskGenerate, Prompt: "x", Fields: fields}, "task generate writes free text"},
		{"translate with fields", Job{Task: TaskTranslate, Prompt: "x", Fields: fields}, "task translate writes free text"},
		// The instruction carries the word JSON, so JSON mode needs no more.
		{"json_object with fields", Job{Prompt: "x", Fields: fields, ResponseFormat: "json_object"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.job.WithDefaults().Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFieldsDefaults(t *testing.T) {
	fields := mustFields(t, "  label: [a, b]\n")
	tests := []struct {
		job  Job
		want string
	}{
		{Job{Prompt: "x"}, ""},
		{Job{Prompt: "x", Fields: fields}, "json_object"},
		{Job{Prompt: "x", Fields: fields, ResponseFormat: "text"}, "text"}, // an explicit choice stays
	}
	for _, tt := range tests {
		if got := tt.job.WithDefaults().ResponseFormat; got != tt.want {
			t.Errorf("WithDefaults().ResponseFormat = %q, want %q", got, tt.want)
		}
	}
}

func TestRenderAppendsInstruction(t *testing.T) {
	fields := mustFields(t, "  label: [a, b]\n")
	in := fields.Instruction()
	tests := []struct {
		name       string
		job        func() Job
		wantSystem string
	}{
		{"default system", func() Job { return Job{Prompt: "{{t}}", Fields: fields} }, DefaultSystem + "\n\n" + in},
		{"trailing newline trimmed", func() Job { return Job{Prompt: "{{t}}", System: "Be brief.\n", Fields: fields} }, "Be brief.\n\n" + in},
		{"templated system", func() Job { return Job{Prompt: "{{t}}", System: "Topic {{topic}}.", Fields: fields} }, "Topic tea.\n\n" + in},
		{"explicitly empty system", func() Job {
			j := Job{Prompt: "{{t}}", Fields: fields}
			j.SetSystem("")
			return j
		}, in},
		{"no fields: unchanged", func() Job { return Job{Prompt: "{{t}}", System: "Be brief.\n"} }, "Be brief.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRenderer(tt.job().WithDefaults(), []string{"t", "topic"}, "")
			if err != nil {
				t.Fatal(err)
			}
			req, _ := r.Render([]string{"hello", "tea"})
			if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Content != "hello" {
				t.Fatalf("messages = %+v", req.Messages)
			}
			if req.Messages[0].Content != tt.wantSystem {
				t.Errorf("system =\n%q\nwant\n%q", req.Messages[0].Content, tt.wantSystem)
			}
		})
	}
}

// TestTestdataJobs loads the example job files (the ones proposed for
// samples/) and renders a row of the sample inputs with each.
func TestTestdataJobs(t *testing.T) {
	tests := []struct {
		file   string
		header []string
		row    []string
		names  string
		reply  string
		want   string
	}{
		{"sentiment.yaml", []string{"评论编号", "评论内容"}, []string{"7", "包装很好，就是物流太慢。"}, "sentiment,reason",
			"```json\n{\"sentiment\": \"Neutral\", \"reason\": \"Good packaging, slow delivery.\"}\n```", "neutral|Good packaging, slow delivery."},
		{"extract.yaml", []string{"id", "channel", "text"}, []string{"1003", "wechat", "电热水壶底座开始冒烟"}, "category,urgency,product",
			`{"category": "defect", "urgency": "high", "product": "electric kettle"}`, "defect|high|electric kettle"},
		{"extract_file.yaml", []string{"id", "channel", "text"}, []string{"1003", "wechat", "电热水壶底座开始冒烟"}, "category,urgency,product",
			`{"category": "defect", "urgency": "HIGH", "product": null}`, "defect|high|"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			job, err := LoadJob(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			job = job.WithDefaults()
			if job.ResponseFormat != "json_object" {
				t.Errorf("response_format = %q, want json_object by default", job.ResponseFormat)
			}
			if got := strings.Join(job.Fields.Names(), ","); got != tt.names {
				t.Errorf("Names() = %s, want %s", got, tt.names)
			}
			r, err := NewRenderer(job, tt.header, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			req, skip := r.Render(tt.row)
			if skip || !strings.HasSuffix(req.Messages[0].Content, job.Fields.Instruction()) {
				t.Errorf("system message lacks the instruction: %+v", req.Messages)
			}
			vals, err := job.Fields.Parse(tt.reply)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(vals, "|"); got != tt.want {
				t.Errorf("Parse = %s, want %s", got, tt.want)
			}
		})
	}
}
