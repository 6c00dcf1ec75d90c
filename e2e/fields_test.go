package e2e

// Label and extract jobs (issue 6): replies parsed into one column per
// field, invalid replies asked again with the problem fed back, the label
// distribution, thinking text kept.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"bulkgen/model/modeltest"
)

const extractJob = `task: extract
model: qwen-plus
prompt: |
  Extract from the ticket: {{text}}
fields:
  category: [defect, shipping, refund, other]
  urgency: [1, 2, 3]
  product: string?
temperature: 0
`

func TestExtractFieldsWithRepair(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	const rows = 30
	var b strings.Builder
	b.WriteString("id,text\n")
	kind := func(i int) string {
		switch {
		case i%10 == 3:
			return "repairable"
		case i%15 == 7:
			return "hopeless"
		}
		return "ok"
	}
	for i := 1; i <= rows; i++ {
		text := fmt.Sprintf("ticket %d: the kettle leaks", i)
		switch kind(i) {
		case "repairable":
			text += " [[sim:badjson]]"
		case "hopeless":
			text += " [[sim:badjson-always]]"
		}
		fmt.Fprintf(&b, "%d,%s\n", i, text)
	}
	in := writeFile(t, dir, "tickets.csv", b.String())
	job := writeFile(t, dir, "extract.yaml", extractJob)
	out := filepath.Join(dir, "out.csv")
	res := bulkgen(t, sim, "", "run", "-i", in, "-j", job, "-o", out, "--retries", "2")
	if res.code != 3 {
		t.Fatalf("exit %d, want 3 (two rows never valid)\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out)
	for _, col := range []string{"category", "urgency", "product", "error"} {
		if tb.col(col) < 0 {
			t.Fatalf("no column %q in %v", col, tb.header)
		}
	}
	if tb.col("output") >= 0 {
		t.Errorf("a fields job has an output column: %v", tb.header)
	}
	repairable, hopeless := 0, 0
	for i := range tb.rows {
		n := i + 1
		e := tb.get(i, "error")
		switch kind(n) {
		case "hopeless":
			hopeless++
			if !strings.Contains(e, "invalid reply after 3 attempt(s)") || !strings.Contains(e, `"unsure" is not one of`) || !strings.Contains(e, "reply: {") {
				t.Errorf("row %d error %q: want the problem, the attempts and the raw reply", n, e)
			}
			if tb.get(i, "category") != "" {
				t.Errorf("row %d has a category despite its error", n)
			}
			if tok, _ := strconv.Atoi(tb.get(i, "total_tokens")); tok == 0 {
				t.Errorf("row %d: tokens of its three attempts not counted", n)
			}
			continue
		case "repairable":
			repairable++
		}
		if e != "" {
			t.Errorf("row %d: %s", n, e)
		}
		if c := tb.get(i, "category"); !regexp.MustCompile(`^(defect|shipping|refund|other)$`).MatchString(c) {
			t.Errorf("row %d category %q", n, c)
		}
		if u := tb.get(i, "urgency"); u != "1" && u != "2" && u != "3" {
			t.Errorf("row %d urgency %q", n, u)
		}
	}
	// One request per row, one more per repaired row, three in all per
	// hopeless row.
	if want := int64(rows + repairable + 2*hopeless); sim.Stats().OK != want {
		t.Errorf("%d requests, want %d (%d repaired, %d hopeless)", sim.Stats().OK, want, repairable, hopeless)
	}
	// The distribution counts the labels in the output.
	counts := map[string]int{}
	for i := range tb.rows {
		if c := tb.get(i, "category"); c != "" {
			counts[c]++
		}
	}
	for label, n := range counts {
		if !regexp.MustCompile(`(?m)^\s+` + label + `\s+` + strconv.Itoa(n) + `\s`).MatchString(res.stderr) {
			t.Errorf("summary lacks %s %d:\n%s", label, n, res.stderr)
		}
	}
	if !strings.Contains(res.stderr, "labels:") {
		t.Errorf("no label distribution in the summary:\n%s", res.stderr)
	}

	// A rerun reuses every stored answer, repairs included: nothing is
	// sent but the hopeless rows' retries.
	before := sim.Stats().OK
	res = bulkgen(t, sim, "", "run", "-i", in, "-j", job, "-o", filepath.Join(dir, "again.csv"), "--retries", "2")
	if got := sim.Stats().OK - before; got != 0 {
		t.Errorf("the rerun sent %d requests; every attempt is stored\n%s", got, res.stderr)
	}
}

func TestLabelShortcutAndJSONSchema(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", 12, productName, "x")
	out := filepath.Join(dir, "labeled.csv")
	res := bulkgen(t, sim, "", "label", "-i", in, "--labels", "cheap, expensive", "--text", "商品名称", "-o", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out)
	for i := range tb.rows {
		if l := tb.get(i, "label"); l != "cheap" && l != "expensive" {
			t.Errorf("row %d label %q", i+1, l)
		}
	}

	// json_schema: the schema goes to the service, which answers by it.
	job := writeFile(t, dir, "schema.yaml", `task: extract
prompt: "Describe {{商品名称}}"
response_format: json_schema
schema:
  type: object
  properties:
    colour: {type: string, enum: [red, green]}
    weight_kg: {type: number}
  required: [colour, weight_kg]
`)
	out2 := filepath.Join(dir, "schema.csv")
	res = bulkgen(t, sim, "", "run", "-i", in, "-j", job, "-o", out2)
	if res.code != 0 {
		t.Fatalf("json_schema exit %d\n%s", res.code, res.stderr)
	}
	tb = readTable(t, out2)
	for i := range tb.rows {
		if c := tb.get(i, "colour"); c != "red" && c != "green" {
			t.Errorf("row %d colour %q", i+1, c)
		}
		if _, err := strconv.ParseFloat(tb.get(i, "weight_kg"), 64); err != nil {
			t.Errorf("row %d weight %q", i+1, tb.get(i, "weight_kg"))
		}
	}
}

func TestKeepReasoning(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", 5, productName, "x")
	out := filepath.Join(dir, "out.csv")
	res := bulkgen(t, sim, "", "run", "-i", in, "--prompt", "Think about {{商品名称}}", "-m", "qwen-plus", "--enable-thinking", "--keep-reasoning", "-o", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out)
	if tb.col("reasoning") < 0 || tb.col("reasoning_tokens") < 0 {
		t.Fatalf("columns %v", tb.header)
	}
	for i := range tb.rows {
		rt, _ := strconv.Atoi(tb.get(i, "reasoning_tokens"))
		if tb.get(i, "reasoning") == "" || rt == 0 {
			t.Errorf("row %d: reasoning %q, %d reasoning tokens", i+1, tb.get(i, "reasoning"), rt)
		}
	}
	// Without the flag the text is not kept, the tokens still are.
	res = bulkgen(t, sim, "", "run", "-i", in, "--prompt", "Think about {{商品名称}}", "-m", "qwen-plus", "--enable-thinking", "-o", out)
	if tb := readTable(t, out); tb.col("reasoning") >= 0 || tb.col("reasoning_tokens") < 0 {
		t.Errorf("columns without --keep-reasoning: %v", tb.header)
	}
}
