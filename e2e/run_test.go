package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"bulkgen/model/modeltest"
)

// makeInputs writes the same n rows as CSV, JSONL and XLSX.
func makeInputs(t *testing.T, dir string, n int) map[string]string {
	t.Helper()
	var c strings.Builder
	c.WriteString("id,商品名称,note\n")
	var j strings.Builder
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetRow("Sheet1", "A1", &[]any{"id", "商品名称", "note"})
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("商品 %d 号", i)
		fmt.Fprintf(&c, "%d,%s,n%d\n", i, name, i)
		fmt.Fprintf(&j, `{"id":%d,"商品名称":%q,"note":"n%d"}`+"\n", i, name, i)
		f.SetSheetRow("Sheet1", "A"+strconv.Itoa(i+1), &[]any{i, name, "n" + strconv.Itoa(i)})
	}
	paths := map[string]string{
		"csv":   writeFile(t, dir, "in.csv", c.String()),
		"jsonl": writeFile(t, dir, "in.jsonl", j.String()),
		"xlsx":  filepath.Join(dir, "in.xlsx"),
	}
	if err := f.SaveAs(paths["xlsx"]); err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestEachReaderToEachWriter(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 25)
	for _, in := range []string{"csv", "jsonl", "xlsx"} {
		for _, out := range []string{"csv", "jsonl", "xlsx"} {
			t.Run(in+"→"+out, func(t *testing.T) {
				outPath := filepath.Join(dir, "out-"+in+"."+out)
				r := bulkgen(t, sim, "", "run", "-i", inputs[in], "-o", outPath, "-c", "4",
					"--prompt", "Translate to English: {{商品名称}}", "--output-column", "en")
				if r.code != 0 {
					t.Fatalf("exit %d\n%s", r.code, r.stderr)
				}
				tb := readTable(t, outPath)
				want := []string{"id", "商品名称", "note", "en", "prompt_tokens", "completion_tokens", "total_tokens", "cost", "finish_reason", "error"}
				if strings.Join(tb.header, ",") != strings.Join(want, ",") {
					t.Fatalf("header %q, want %q", tb.header, want)
				}
				if len(tb.rows) != 25 {
					t.Fatalf("%d rows, want 25", len(tb.rows))
				}
				for i := range tb.rows {
					if got := tb.get(i, "id"); got != strconv.Itoa(i+1) {
						t.Fatalf("row %d id %q: order or values lost", i, got)
					}
					if tb.get(i, "商品名称") != fmt.Sprintf("商品 %d 号", i+1) || tb.get(i, "note") != "n"+strconv.Itoa(i+1) {
						t.Fatalf("row %d input columns changed: %q", i, tb.rows[i])
					}
					if tb.get(i, "en") == "" || tb.get(i, "finish_reason") != "stop" || tb.get(i, "error") != "" {
						t.Fatalf("row %d: %q", i, tb.rows[i])
					}
					pt, _ := strconv.Atoi(tb.get(i, "prompt_tokens"))
					ct, _ := strconv.Atoi(tb.get(i, "completion_tokens"))
					tt, _ := strconv.Atoi(tb.get(i, "total_tokens"))
					if pt <= 0 || ct <= 0 || tt != pt+ct {
						t.Fatalf("row %d usage %d+%d=%d", i, pt, ct, tt)
					}
				}
				if !strings.Contains(r.stderr, "25 rows: 25 ok, 0 failed") {
					t.Errorf("summary missing: %s", r.stderr)
				}
			})
		}
	}
}

func TestOrderUnderConcurrencyWithJitter(t *testing.T) {
	sim := newSim(t, modeltest.Options{Latency: time.Millisecond, Jitter: 20 * time.Millisecond, Seed: 3})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 400)
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", inputs["csv"], "-o", out, "-c", "32", "--prompt", "{{商品名称}}")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	tb := readTable(t, out)
	for i := range tb.rows {
		if tb.get(i, "id") != strconv.Itoa(i+1) {
			t.Fatalf("row %d has id %s: output not in input order", i, tb.get(i, "id"))
		}
		if !strings.Contains(tb.get(i, "output"), fmt.Sprintf("商品 %d 号", i+1)) {
			t.Fatalf("row %d answer %q belongs to another row", i, tb.get(i, "output"))
		}
	}
	st := sim.Stats()
	if st.MaxInFlight > 32 || st.MaxInFlight < 8 {
		t.Errorf("simulator saw at most %d requests at once, want ≤ 32 and clearly concurrent", st.MaxInFlight)
	}
}

func TestRetryableFaultsStillGiveEveryRowItsResult(t *testing.T) {
	sim := newSim(t, modeltest.Options{FaultRate: 0.10, Seed: 7})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 300)
	out := filepath.Join(dir, "out.jsonl")
	r := bulkgen(t, sim, "", "run", "-i", inputs["csv"], "-o", out, "-c", "16", "--retries", "8", "--prompt", "{{商品名称}}")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	tb := readTable(t, out)
	if len(tb.rows) != 300 {
		t.Fatalf("%d rows", len(tb.rows))
	}
	for i := range tb.rows {
		if tb.get(i, "error") != "" || tb.get(i, "output") == "" {
			t.Fatalf("row %d: %q", i, tb.rows[i])
		}
	}
	st := sim.Stats()
	if st.Faults < 10 {
		t.Fatalf("only %d faults injected; the test proves nothing", st.Faults)
	}
	if !strings.Contains(r.stderr, "retries") {
		t.Errorf("summary does not report retries: %s", r.stderr)
	}
}

func TestInvalidKeyStopsWithinAFewRequests(t *testing.T) {
	sim := newSim(t, modeltest.Options{APIKey: "sk-the-right-key"})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 2000)
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", inputs["csv"], "-o", out, "-c", "8", "--prompt", "{{商品名称}}")
	if r.code != 4 {
		t.Fatalf("exit %d, want 4 (fatal)\n%s", r.code, r.stderr)
	}
	if n := sim.Stats().Requests; n > 16 {
		t.Errorf("%d requests sent with an invalid key; want a handful", n)
	}
	if !strings.Contains(r.stderr, "invalid_api_key") || !strings.Contains(r.stderr, "DASHSCOPE_API_KEY") {
		t.Errorf("message should name the error and what to do:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, simKey) {
		t.Error("the API key was printed")
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output file was written although no row finished")
	}
}

func TestMissingColumnFailsBeforeAnyRequest(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 10)
	for _, in := range []string{"csv", "jsonl", "xlsx"} {
		out := filepath.Join(dir, "out-"+in+".csv")
		r := bulkgen(t, sim, "", "run", "-i", inputs[in], "-o", out, "--prompt", "Translate {{商品名}} ({{sku}})")
		if r.code == 0 {
			t.Fatalf("%s: exit 0 with a missing column", in)
		}
		for _, want := range []string{`"商品名"`, `"sku"`, `"id", "商品名称", "note"`} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: error lacks %s:\n%s", in, want, r.stderr)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: output written", in)
		}
	}
	if n := sim.Stats().Requests; n != 0 {
		t.Fatalf("%d requests sent before the column check", n)
	}
}

func TestSIGINTLeavesValidOutputWithFinishedRows(t *testing.T) {
	sim := newSim(t, modeltest.Options{Latency: 20 * time.Millisecond})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 5000)
	for _, format := range []string{"csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(dir, "out."+format)
			cmd := prepare(t, sim, "run", "-i", inputs["csv"], "-o", out, "-c", "8", "--grace", "5s", "--prompt", "{{商品名称}}")
			var errb strings.Builder
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			before := sim.Stats().OK
			deadline := time.Now().Add(20 * time.Second)
			for sim.Stats().OK-before < 60 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGINT)
			err := cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 130 {
				t.Fatalf("exit %v, want 130\n%s", err, errb.String())
			}
			tb := readTable(t, out)
			if len(tb.rows) < 60 || len(tb.rows) >= 5000 {
				t.Fatalf("%d rows written", len(tb.rows))
			}
			for i := range tb.rows {
				if tb.get(i, "output") == "" || tb.get(i, "error") != "" {
					t.Fatalf("row %d unfinished in output: %q", i, tb.rows[i])
				}
			}
			if !strings.Contains(errb.String(), "interrupted") {
				t.Errorf("stderr: %s", errb.String())
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
			if len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

func TestCSVWithBOMCRLFAndQuotedNewlines(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "bom.csv", "\xef\xbb\xbf\"评论内容\",评分\r\n\"第一行\r\n第二行\",5\r\n\"有,逗号\",3\r\n普通,1\r\n")
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", in, "-o", out, "--bom", "--prompt", "Classify: {{评论内容}}")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	data, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(data), "\xef\xbb\xbf") {
		t.Error("--bom: no BOM in output")
	}
	tb := readTable(t, out)
	if tb.header[0] != "评论内容" || len(tb.rows) != 3 {
		t.Fatalf("header %q rows %d", tb.header, len(tb.rows))
	}
	if tb.get(0, "评论内容") != "第一行\r\n第二行" && tb.get(0, "评论内容") != "第一行\n第二行" {
		t.Errorf("quoted newline lost: %q", tb.get(0, "评论内容"))
	}
	if tb.get(1, "评论内容") != "有,逗号" || tb.get(2, "评分") != "1" {
		t.Errorf("rows %q", tb.rows)
	}
}

func TestXLSXWithSeveralSheets(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"note"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"not this sheet"})
	f.NewSheet("商品")
	f.SetSheetRow("商品", "A1", &[]any{"商品名称", "价格"})
	f.SetSheetRow("商品", "A2", &[]any{"绿茶", 12.5})
	f.SetSheetRow("商品", "A4", &[]any{"红茶", 30})
	in := filepath.Join(dir, "multi.xlsx")
	if err := f.SaveAs(in); err != nil {
		t.Fatal(err)
	}
	for _, sheet := range []string{"商品", "2"} {
		out := filepath.Join(dir, "out-"+sheet+".xlsx")
		r := bulkgen(t, sim, "", "run", "-i", in, "--sheet", sheet, "-o", out, "--prompt", "{{商品名称}}")
		if r.code != 0 {
			t.Fatalf("--sheet %s: exit %d\n%s", sheet, r.code, r.stderr)
		}
		tb := readTable(t, out)
		if len(tb.rows) != 2 || tb.get(0, "商品名称") != "绿茶" || tb.get(1, "商品名称") != "红茶" || tb.get(1, "价格") != "30" {
			t.Fatalf("--sheet %s: %q %q", sheet, tb.header, tb.rows)
		}
	}
	r := bulkgen(t, sim, "", "run", "-i", in, "--sheet", "Nope", "-o", filepath.Join(dir, "x.csv"), "--prompt", "{{商品名称}}")
	if r.code == 0 || !strings.Contains(r.stderr, "商品") {
		t.Errorf("unknown sheet should fail and list the sheets: %d %s", r.code, r.stderr)
	}
}

func TestStdinToStdout(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	in := `{"text":"hello","n":1.50}` + "\n" + `{"text":"world","n":2,"extra":{"a":[1]}}` + "\n"
	r := bulkgen(t, sim, in, "run", "-i", "-", "--format", "jsonl", "--prompt", "Summarize: {{text}}", "-o", "-", "--output-format", "jsonl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout: %q", r.stdout)
	}
	var first map[string]any
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.UseNumber()
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if first["n"].(json.Number).String() != "1.50" || first["output"] == "" {
		t.Errorf("first line %s: numbers must be kept as written", lines[0])
	}
	if !strings.Contains(lines[1], `"extra":{"a":[1]}`) {
		t.Errorf("nested value not kept: %s", lines[1])
	}
	if strings.Contains(r.stdout, "rows:") {
		t.Error("the summary went to stdout")
	}
}

func TestRowErrorsAreRowsAndExitCode3(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", "text\nfine\n[[sim:inspect]] bad words\n\nalso fine\n")
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", in, "-o", out, "--prompt", "{{text}}")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	tb := readTable(t, out)
	if len(tb.rows) != 3 {
		t.Fatalf("rows %q", tb.rows)
	}
	if !strings.Contains(tb.get(1, "error"), "data_inspection_failed") || tb.get(0, "error") != "" || tb.get(2, "output") == "" {
		t.Errorf("rows %q", tb.rows)
	}
	if sim.Stats().Requests != 3 {
		t.Errorf("requests %d: a content-inspection failure must not be retried", sim.Stats().Requests)
	}
}

func TestNativeDashScopeProtocol(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 5)
	for _, thinking := range []string{"false", "true"} {
		out := filepath.Join(dir, "out-"+thinking+".csv")
		r := bulkgen(t, sim, "", "run", "--api", "dashscope", "-i", inputs["csv"], "-o", out,
			"--prompt", "{{商品名称}}", "--enable-thinking="+thinking)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		tb := readTable(t, out)
		if len(tb.rows) != 5 || tb.get(4, "output") == "" {
			t.Fatalf("rows %q", tb.rows)
		}
		if thinking == "true" {
			if rt, _ := strconv.Atoi(tb.get(0, "reasoning_tokens")); rt <= 0 {
				t.Errorf("thinking run: reasoning_tokens %q", tb.get(0, "reasoning_tokens"))
			}
		} else if tb.col("reasoning_tokens") >= 0 {
			t.Error("reasoning_tokens column without thinking")
		}
	}
}

func TestRefusesToOverwriteInput(t *testing.T) {
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 3)
	before, _ := os.ReadFile(inputs["csv"])
	r := bulkgen(t, nil, "", "run", "-i", inputs["csv"], "-o", inputs["csv"], "--prompt", "{{id}}", "--sim")
	if r.code == 0 || !strings.Contains(r.stderr, "never overwrites its input") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	after, _ := os.ReadFile(inputs["csv"])
	if string(before) != string(after) {
		t.Fatal("input changed")
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	inputs := makeInputs(t, dir, 10)
	out := filepath.Join(dir, "out.csv")
	r := bulkgen(t, sim, "", "run", "-i", inputs["xlsx"], "-o", out, "--prompt", "Translate {{商品名称}}", "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if sim.Stats().Requests != 0 {
		t.Fatal("dry run sent requests")
	}
	if strings.Count(r.stdout, `"role": "user"`) != 3 || !strings.Contains(r.stdout, "Translate 商品 1 号") {
		t.Errorf("dry run output:\n%s", r.stdout)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("dry run wrote an output file")
	}
}

func TestSimFlagWorksOffline(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "catalog_en.xlsx")
	cmd := exec.Command(binary, "run", "-i", "../samples/catalog.xlsx", "-j", "../samples/translate.yaml", "-o", out, "-c", "16", "--sim")
	cmd.Env = append(os.Environ(), "DASHSCOPE_API_KEY=", "OPENAI_API_KEY=", "XDG_CACHE_HOME="+cacheDir(t))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !strings.Contains(strings.ToLower(string(b)), "simulated") {
		t.Errorf("--sim output must say the replies are simulated:\n%s", b)
	}
	tb := readTable(t, out)
	for _, c := range []string{"商品编号", "商品名称", "描述", "类目", "价格", "库存", "上架日期", "prompt_tokens", "completion_tokens", "total_tokens", "finish_reason", "error"} {
		if tb.col(c) < 0 {
			t.Errorf("column %s missing from %q", c, tb.header)
		}
	}
	if len(tb.rows) != 40 {
		t.Errorf("%d rows, want the catalogue's 40", len(tb.rows))
	}
}

func TestRunHelpShowsEveryFlagWithExamples(t *testing.T) {
	r := bulkgen(t, nil, "", "run", "--help")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"--input", "--output", "--job", "--prompt", "--system", "--model", "--output-column",
		"--temperature", "--top-p", "--max-tokens", "--seed", "--stop", "--enable-thinking", "--format", "--delimiter",
		"--encoding", "--sheet", "--output-format", "--bom", "--api", "--base-url", "--region", "-c", "--rpm", "--retries",
		"--limit", "--dry-run", "--sim", "Examples:", "bulkgen run -i samples/catalog.xlsx"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}
