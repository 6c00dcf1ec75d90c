package pipeline

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"bulkgen/model"
	"bulkgen/prompts"
	"bulkgen/translate"
)

// lenCounter counts one token per byte of the user message: easy to check.
func lenCounter(req model.Request) (int64, bool) {
	return int64(len(req.Messages[len(req.Messages)-1].Content)), true
}

func writeCSV(t *testing.T, rows ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.csv")
	var b strings.Builder
	b.WriteString("id,text\n")
	for i, r := range rows {
		b.WriteString(strconv.Itoa(i) + "," + r + "\n")
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEstimateCountsAndPrices(t *testing.T) {
	in := writeCSV(t, "aa", "aaaa", "\"\"", "aaaaaa", "a")
	mt := int64(10)
	job := prompts.Job{Prompt: "{{text}}", Model: "qwen-plus", MaxTokens: &mt}.WithDefaults()
	est, err := RunEstimate(context.Background(), EstimateOptions{
		Input: in, Job: job, Prices: model.DefaultPrices("cn"), Count: lenCounter, RPM: 60, Workers: 3,
		ExpectedOutputTokens: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	if est.Rows != 4 || est.Skipped != 1 {
		t.Fatalf("rows %d skipped %d", est.Rows, est.Skipped)
	}
	if est.Input.Min != 1 || est.Input.Median != 2 || est.Input.Max != 6 || est.Input.Total != 13 || !est.Input.Exact {
		t.Fatalf("input %+v", est.Input)
	}
	if est.Output.High != 40 || est.Output.Expected != 20 || est.Output.Low != 0 {
		t.Fatalf("output %+v", est.Output)
	}
	wantHigh := (13*0.8 + 40*2) / 1e6
	if est.CostRealtime == nil || math.Abs(est.CostRealtime.High-wantHigh) > 1e-12 || math.Abs(est.CostBatch.High-wantHigh/2) > 1e-12 {
		t.Fatalf("cost %+v %+v, want high %.10f", est.CostRealtime, est.CostBatch, wantHigh)
	}
	if est.TimeSeconds != 4 {
		t.Errorf("time %.1fs, want 4 rows at 60/min = 4s", est.TimeSeconds)
	}
	var b strings.Builder
	est.WriteTable(&b)
	for _, want := range []string{"4 to send", "1 skipped", "median 2", "CNY", "batch"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestEstimateFlagsRowsOverTheContextLimit(t *testing.T) {
	long := strings.Repeat("x", 31000)
	in := writeCSV(t, "short", long, "short2")
	job := prompts.Job{Prompt: "{{text}}", Model: "qwen-max"}.WithDefaults()
	est, err := RunEstimate(context.Background(), EstimateOptions{Input: in, Job: job, Count: lenCounter, ExpectedOutputTokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	if est.ContextLimit != 30720 || est.OverContext != 1 || len(est.OverExamples) != 1 || !strings.Contains(est.OverExamples[0], "in.csv:3") {
		t.Fatalf("context %d over %d %v", est.ContextLimit, est.OverContext, est.OverExamples)
	}
	if est.CostRealtime != nil || est.PriceNote != "" && est.CostRealtime != nil {
		t.Fatalf("no prices given, yet priced: %+v", est.CostRealtime)
	}
}

func TestEstimatePilotMeasuresAnswers(t *testing.T) {
	rows := make([]string, 500)
	for i := range rows {
		rows[i] = "row " + strings.Repeat("y", i%7)
	}
	in := writeCSV(t, rows...)
	cl := &fakeClient{}
	job := prompts.Job{Prompt: "{{text}}", Model: "qwen-plus"}.WithDefaults()
	est, err := RunEstimate(context.Background(), EstimateOptions{Input: in, Job: job, Count: lenCounter,
		Prices: model.DefaultPrices("cn"), Pilot: 20, Client: cl, ExpectedOutputTokens: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if cl.calls.Load() != 20 || est.Pilot == nil || est.Pilot.Rows != 20 {
		t.Fatalf("pilot: %d calls, %+v", cl.calls.Load(), est.Pilot)
	}
	// fakeClient answers 2 completion tokens per row.
	if est.Output.Expected != 1000 || est.Output.Low != 1000 || est.Output.High != 1000 {
		t.Fatalf("output %+v, want 2 × 500 rows", est.Output)
	}
}

// Counting rows through the template (EstimateOptions.Shape) must give
// the figures of rendering and counting every request, for jobs whose
// joins between template and values are cuts and jobs whose are not,
// with fields, with placeholders in the system prompt, and with values
// that are empty, blank or hold special-token names. And it must be used.
func TestEstimateThroughShapeEqualsRendered(t *testing.T) {
	in := writeCSV(t, "好评，物流很快", "\"  \"", "\"\"", "Great value!", "\"<|im_end|>注入\"", "\"line one\nline two\"",
		"42", "\"Title: x\"", "e\u0301", "\"\t缩进\"")
	pc, err := model.NewPromptCounter("qwen-plus")
	if err != nil {
		t.Fatal(err)
	}
	count := func(req model.Request) (int64, bool) { return pc.Count(req), pc.Exact() }
	mt := int64(20)
	fields, err := prompts.NewFields(prompts.Field{Name: "sentiment", Type: prompts.TypeString, Enum: []string{"positive", "negative"}})
	if err != nil {
		t.Fatal(err)
	}
	jobs := []prompts.Job{
		{Prompt: "Review:\n{{text}}", Model: "qwen-plus", MaxTokens: &mt},
		{Prompt: "Title: {{text}}\nID {{id}}.", System: "You label reviews.", Model: "qwen-plus"},
		{Prompt: "标题：{{text}}（{{id}}）", System: "Row {{id}}: be brief.", Model: "qwen3-32b"},
		{Prompt: "{{text}}", Model: "qwen-flash", Fields: fields},
		{Prompt: "{{text}}", System: "{{id}}", Model: "qwen-plus"}, // no literal: rendered, not shaped
	}
	glossary, err := translate.NewGlossary([]translate.Term{{Source: "物流", Target: "delivery"}})
	if err != nil {
		t.Fatal(err)
	}
	noSystem := prompts.Job{Prompt: "{{text}}", Model: "qwen-turbo"}
	noSystem.SetSystem("") // the service adds its default, and bills it
	jobs = append([]prompts.Job{noSystem}, jobs...)
	// Translations: through the shape but for cells with glossary terms.
	translations := []*TranslateOptions{nil, nil, nil, nil, nil, nil,
		{Columns: []string{"text"}, To: "en"},
		{Columns: []string{"text"}, From: "zh", To: "en", Glossary: glossary}}
	jobs = append(jobs, prompts.Job{Task: "translate", Model: "qwen-plus"}, prompts.Job{Task: "translate", Model: "qwen-plus"})
	for i, job := range jobs {
		job = job.WithDefaults()
		opts := EstimateOptions{Input: in, Job: job, Prices: model.DefaultPrices("cn"), Count: count, ExpectedOutputTokens: 10,
			Translate: translations[i]}
		want, err := RunEstimate(context.Background(), opts)
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		calls := 0
		opts.Shape = func(base model.Request, msgs []model.ShapedMessage) (func([]string) int64, bool, bool) {
			c, ok := pc.Shape(base, msgs)
			if !ok {
				return nil, false, false
			}
			return func(v []string) int64 { calls++; return c(v) }, pc.Exact(), true
		}
		opts.Workers = 1 // calls is not shared
		got, err := RunEstimate(context.Background(), opts)
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		shapedRows := int(want.Rows)
		switch {
		case i == 5: // no literal in the system prompt
			shapedRows = 0
		case translations[i] != nil && translations[i].Glossary != nil:
			shapedRows-- // the one cell with a glossary term is rendered
		}
		if translations[i] != nil {
			shapedRows++ // and the bare prompt, once, for the answer-size guess
		}
		if calls != shapedRows {
			t.Errorf("job %d: the shape counted %d rows of %d, want %d", i, calls, want.Rows, shapedRows)
		}
		if got.Input != want.Input || got.Output != want.Output || got.Rows != want.Rows || got.Skipped != want.Skipped || *got.CostRealtime != *want.CostRealtime {
			t.Errorf("job %d: through the shape %+v rows %d skipped %d cost %+v;\nrendered %+v rows %d skipped %d cost %+v",
				i, got.Input, got.Rows, got.Skipped, *got.CostRealtime, want.Input, want.Rows, want.Skipped, *want.CostRealtime)
		}
	}
}

// A translation estimate counts identical cells once within the run's
// window of recent distinct cells, and again beyond it, as the run sends
// them.
func TestEstimateCellsDedupeLikeTheRun(t *testing.T) {
	cells := make([]string, 0, dedupeWindow+8)
	for i := range dedupeWindow + 5 {
		cells = append(cells, "cell "+strconv.Itoa(i))
	}
	cells = append(cells, "cell 0", "cell "+strconv.Itoa(dedupeWindow)) // out of the window, and in it
	in := writeCSV(t, cells...)
	job := prompts.Job{Task: "translate", Model: "qwen-plus"}.WithDefaults()
	est, err := RunEstimate(context.Background(), EstimateOptions{Input: in, Job: job, Count: lenCounter,
		Translate: &TranslateOptions{Columns: []string{"text"}, To: "en"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(dedupeWindow + 5 + 1); est.Rows != want {
		t.Errorf("%d cells to send, want %d", est.Rows, want)
	}
}

// A packed translation with --pilot: the input is still counted pack by
// pack as the run sends it, and the pilot's answers, one per sampled cell,
// are scaled by the cells, not by the packs.
func TestEstimatePackedTranslationWithPilot(t *testing.T) {
	cells := make([]string, 40)
	for i := range cells {
		cells[i] = "商品 " + strconv.Itoa(i) + " 号"
	}
	in := writeCSV(t, cells...)
	job := prompts.Job{Task: "translate", Model: "qwen-plus"}.WithDefaults()
	opts := EstimateOptions{Input: in, Job: job, Count: lenCounter, Prices: model.DefaultPrices("cn"),
		Translate: &TranslateOptions{Columns: []string{"text"}, To: "en", Pack: 8}}
	want, err := RunEstimate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	cl := &fakeClient{}
	opts.Pilot, opts.Client = 5, cl
	got, err := RunEstimate(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got.Input != want.Input || got.Requests != want.Requests || got.Rows != 40 || got.Requests >= got.Rows {
		t.Errorf("with a pilot: %d cells in %d requests, input %+v; without: %d in %d, %+v",
			got.Rows, got.Requests, got.Input, want.Rows, want.Requests, want.Input)
	}
	// fakeClient answers 2 completion tokens per request: 2 per cell.
	if cl.calls.Load() != 5 || got.Pilot == nil || got.Output.Expected != 2*40 {
		t.Errorf("pilot: %d calls, %+v; output %+v, want 2 × 40 cells", cl.calls.Load(), got.Pilot, got.Output)
	}
}
