package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"bulkgen/model/modeltest"
)

// TestEstimateMatchesBilledUsage is the truth check: the simulator bills
// prompt tokens with the same Qwen tokenizer and chat template, so the
// estimate's input tokens must equal the billed prompt tokens, and with a
// pilot over every row the expected cost must equal the sum of the cost
// column of the real run.
func TestEstimateMatchesBilledUsage(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 30)
	// The simulator is not a DashScope host, so it has no built-in prices.
	prices := writeFile(t, dir, "prices.yaml", "prices:\n  - model: qwen-plus\n    tiers: [{input: 0.8, output: 2}]\n")
	args := []string{"--prices", prices, "-i", inputs["csv"], "--prompt", "把商品名称翻译成英文：{{商品名称}} (note {{note}})", "-m", "qwen-plus", "--enable-thinking=false"}

	r := bulkgen(t, sim, "", append([]string{"estimate", "--json", "--pilot", "30", "--base-url", sim.CompatibleBaseURL(),
		"--api-key-env", "BULKGEN_TEST_KEY"}, args...)...)
	if r.code != 0 {
		t.Fatalf("estimate exit %d\n%s", r.code, r.stderr)
	}
	var est struct {
		Rows        int64 `json:"rows"`
		InputTokens struct {
			Total int64 `json:"total"`
			Exact bool  `json:"exact"`
		} `json:"input_tokens"`
		CostRealtime struct{ Expected float64 } `json:"cost_realtime"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &est); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	out := filepath.Join(dir, "out.csv")
	r = bulkgen(t, sim, "", append([]string{"run", "-o", out, "--store", filepath.Join(dir, "s.db")}, args...)...)
	if r.code != 0 {
		t.Fatalf("run exit %d\n%s", r.code, r.stderr)
	}
	tb := readTable(t, out)
	var billed int64
	var cost float64
	for i := range tb.rows {
		n, _ := strconv.ParseInt(tb.get(i, "prompt_tokens"), 10, 64)
		c, err := strconv.ParseFloat(tb.get(i, "cost"), 64)
		if err != nil {
			t.Fatalf("row %d cost %q", i, tb.get(i, "cost"))
		}
		billed += n
		cost += c
	}
	if est.Rows != 30 || !est.InputTokens.Exact || est.InputTokens.Total != billed {
		t.Fatalf("estimate %d rows, %d input tokens (exact %v); billed %d", est.Rows, est.InputTokens.Total, est.InputTokens.Exact, billed)
	}
	if math.Abs(est.CostRealtime.Expected-cost) > 1e-9 {
		t.Fatalf("estimated cost %.10f, sum of cost column %.10f", est.CostRealtime.Expected, cost)
	}
}

// TestTPMKeepsUnderTheTokenQuota: with --tpm at the simulator's own
// tokens-per-minute quota, the run paces itself and is never throttled.
func TestTPMKeepsUnderTheTokenQuota(t *testing.T) {
	sim := newSim(t, modeltest.Options{TPM: 120000}) // 2,000 tokens/s
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 60)
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", inputs["csv"], "-o", out, "-c", "16", "--tpm", "120000",
		"--max-tokens", "20", "--prompt", "{{商品名称}}", "--fixed-concurrency")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	st := sim.Stats()
	t.Logf("%d requests, %d throttled, %d prompt + %d completion tokens", st.Requests, st.Throttled, st.PromptTokens, st.CompletionTokens)
	if st.Throttled != 0 || st.Requests != 60 {
		t.Fatalf("--tpm at the quota: %d of %d requests throttled", st.Throttled, st.Requests)
	}
	// Without --tpm the same run is throttled: the test can fail.
	sim2 := newSim(t, modeltest.Options{TPM: 120000})
	r = bulkgen(t, sim2, "", "run", "-i", inputs["csv"], "-o", filepath.Join(dir, "o2.csv"), "-c", "16",
		"--max-tokens", "20", "--prompt", "{{商品名称}}", "--fixed-concurrency", "--no-store")
	if sim2.Stats().Throttled == 0 {
		t.Fatalf("without --tpm nothing was throttled; the quota is too loose for this test to mean anything (exit %d)", r.code)
	}
}

// The truth check for a translation job: the cells estimate counts are
// the requests the run sends, token for token.
func TestEstimateTranslateMatchesBilledUsage(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	job := catalogTranslateJob(t, dir, "")
	est := estimateJSON(t, sim, "-i", "../samples/catalog.xlsx", "-j", job)
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", "../samples/catalog.xlsx", "-j", job, "-o", out, "--no-store")
	if r.code != 0 {
		t.Fatalf("run exit %d\n%s", r.code, r.stderr)
	}
	if est.Unit != "cells" || est.Rows != sim.Stats().OK || est.InputTokens.Total != sim.Stats().PromptTokens {
		t.Errorf("estimate: %d %s, %d input tokens; the run sent %d requests, billed %d prompt tokens",
			est.Rows, est.Unit, est.InputTokens.Total, sim.Stats().OK, sim.Stats().PromptTokens)
	}
}

// A service that is not Model Studio (the simulator's URL stands for a
// vLLM or OpenAI server) has no built-in prices: the run still works, the
// cost column stays empty, and the summary says why rather than claiming
// the model is missing from the table.
func TestUnpricedServiceSaysWhy(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 3)
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", inputs["csv"], "-o", out, "--no-store", "-m", "qwen-plus", "--prompt", "{{商品名称}}")
	if r.code != 0 {
		t.Fatalf("run exit %d\n%s", r.code, r.stderr)
	}
	want := `no price known for model "qwen-plus": --base-url is not a Model Studio (DashScope) endpoint, so the built-in prices do not apply`
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	tb := readTable(t, out)
	for i := range tb.rows {
		if c := tb.get(i, "cost"); c != "" {
			t.Errorf("row %d cost %q, want empty", i, c)
		}
	}
}

// A folder with a long document: estimate counts the parts and the
// combining request the run sends, so its request count equals the run's
// and its input tokens are the billed ones, give or take the combining
// request (estimated with stand-in answers).
func TestEstimateCountsLongDocumentsInParts(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	args := []string{"-i", "../samples/docs", "-j", "../samples/summarize.yaml", "--chunk-tokens", "8000"}
	est := estimateJSON(t, sim, args...)
	out := filepath.Join(dir, "out.csv")
	if r := bulkgen(t, sim, "", append([]string{"run", "-o", out, "--no-store"}, args...)...); r.code != 3 {
		t.Fatalf("run exit %d\n%s", r.code, r.stderr)
	}
	tb := readTable(t, out)
	var requests, billed int64
	for i := range tb.rows {
		n, _ := strconv.ParseInt(tb.get(i, "requests"), 10, 64)
		p, _ := strconv.ParseInt(tb.get(i, "prompt_tokens"), 10, 64)
		requests += n
		billed += p
	}
	if est.Requests != requests || est.Requests <= est.Rows {
		t.Errorf("estimate: %d requests for %d rows; the run sent %d", est.Requests, est.Rows, requests)
	}
	if d := math.Abs(float64(est.InputTokens.Total-billed)) / float64(billed); d > 0.05 {
		t.Errorf("estimate: %d input tokens, billed %d (%.1f%% apart)", est.InputTokens.Total, billed, 100*d)
	}
}

// estimateResult is the part of `bulkgen estimate --json` the tests read.
type estimateResult struct {
	Unit        string `json:"unit"`
	Rows        int64  `json:"rows"`
	Requests    int64  `json:"requests"`
	InputTokens struct {
		Total int64 `json:"total"`
	} `json:"input_tokens"`
}

// estimateJSON runs `bulkgen estimate --json` with args and decodes it.
func estimateJSON(t *testing.T, sim *modeltest.Server, args ...string) estimateResult {
	t.Helper()
	r := bulkgen(t, sim, "", append([]string{"estimate", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("estimate exit %d\n%s", r.code, r.stderr)
	}
	var est estimateResult
	if err := json.Unmarshal([]byte(r.stdout), &est); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return est
}

// With pack, estimate builds the packs as the run does: its input tokens
// and request count are the run's, token for token (every pack fits in
// the simulator, as estimate assumes).
func TestEstimatePackedTranslationMatchesBilledUsage(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	job := catalogTranslateJob(t, dir, "  pack: 8\n")
	est := estimateJSON(t, sim, "-i", "../samples/catalog.xlsx", "-j", job)
	out := filepath.Join(dir, "out.csv")
	if r := bulkgen(t, sim, "", "run", "-i", "../samples/catalog.xlsx", "-j", job, "-o", out, "--no-store"); r.code != 0 {
		t.Fatalf("run exit %d\n%s", r.code, r.stderr)
	}
	billed := sim.Stats().PromptTokens
	if est.InputTokens.Total != billed || est.Requests != sim.Stats().OK || est.Requests >= est.Rows {
		t.Errorf("estimate: %d cells in %d requests, %d input tokens; the run: %d requests, %d billed",
			est.Rows, est.Requests, est.InputTokens.Total, sim.Stats().OK, billed)
	}
}

// catalogTranslateJob writes a job that translates samples/catalog.xlsx's
// two text columns with the sample glossary; extra adds lines to its
// translate: block.
func catalogTranslateJob(t *testing.T, dir, extra string) string {
	t.Helper()
	// The glossary path is relative to the job file: use an absolute one.
	abs, _ := filepath.Abs("../samples/glossary.csv")
	return writeFile(t, dir, "t.yaml", "task: translate\nmodel: qwen-plus\ntranslate:\n  from: zh\n  to: en\n  columns: [商品名称, 描述]\n"+extra+"  glossary: "+abs+"\n")
}

// A workbook translated in place: the run leaves number, formula and
// boolean cells alone whatever their text reads as ("TRUE" is a word), and
// the estimate, with pack or without, counts the cells the run sends,
// token for token.
func TestEstimateInPlaceTranslationMatchesBilledUsage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "book.xlsx")
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"名称", "描述"})
	for r := 2; r <= 12; r++ {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", r), &[]any{fmt.Sprintf("绿茶%d号", r), fmt.Sprintf("清香型绿茶，第%d批", r)})
	}
	f.SetCellBool("Sheet1", "B5", true) // reads "TRUE": text to the estimate, a boolean to the run
	f.SetCellInt("Sheet1", "B6", 42)
	if err := f.SaveAs(src); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, pack := range []string{"", "  pack: 4\n"} {
		sim := newSim(t, modeltest.Options{})
		job := writeFile(t, dir, "t.yaml", "task: translate\nmodel: qwen-plus\ntranslate:\n  to: en\n  columns: [名称, 描述]\n  in_place: true\n"+pack)
		est := estimateJSON(t, sim, "-i", src, "-j", job)
		out := filepath.Join(dir, "out.xlsx")
		if r := bulkgen(t, sim, "", "run", "-i", src, "-j", job, "-o", out, "--no-store"); r.code != 0 {
			t.Fatalf("run exit %d\n%s", r.code, r.stderr)
		}
		if est.Requests != sim.Stats().OK || est.InputTokens.Total != sim.Stats().PromptTokens {
			t.Errorf("%q: estimate %d cells in %d requests, %d input tokens; the run sent %d requests, billed %d",
				pack, est.Rows, est.Requests, est.InputTokens.Total, sim.Stats().OK, sim.Stats().PromptTokens)
		}
	}
}
