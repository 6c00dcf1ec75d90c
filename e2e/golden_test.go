package e2e

// Golden files: every sample job run through the real binary against the
// simulator, whose replies are deterministic. A change in an output is a
// change in behaviour; regenerate on purpose with
//
//	go test ./e2e -run TestSamplesGolden -update

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"bulkgen/model/modeltest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func TestSamplesGolden(t *testing.T) {
	prices := "prices:\n  - model: qwen-plus\n    tiers: [{input: 0.8, output: 2}]\n  - model: qwen-flash\n    tiers: [{input: 0.15, output: 1.5}]\n"
	cases := []struct {
		name string
		args []string
	}{
		{"sentiment.csv", []string{"run", "-i", "../samples/reviews.csv", "-j", "../samples/sentiment.yaml"}},
		{"sentiment_gbk.csv", []string{"run", "-i", "../samples/reviews_gbk.csv", "-j", "../samples/sentiment.yaml"}},
		{"extract.jsonl", []string{"run", "-i", "../samples/tickets.jsonl", "-j", "../samples/extract.yaml"}},
		{"translate_task.csv", []string{"run", "-i", "../samples/catalog.xlsx", "-j", "../samples/translate_task.yaml"}},
		{"translate_inplace.csv", []string{"translate", "-i", "../samples/reviews.csv", "--to", "en", "--columns", "评论内容", "--in-place", "--pack", "8"}},
		{"label.csv", []string{"label", "-i", "../samples/reviews.csv", "--labels", "positive,negative,neutral", "--text", "评论内容", "--reason"}},
		{"translate_prompt.csv", []string{"run", "-i", "../samples/catalog.xlsx", "-j", "../samples/translate.yaml"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := newSim(t, modeltest.Options{})
			dir := t.TempDir()
			out := filepath.Join(dir, c.name)
			args := append(append([]string{}, c.args...), "-o", out, "--no-store", "--prices", writeFile(t, dir, "prices.yaml", prices))
			res := bulkgen(t, sim, "", args...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			// Folder-free outputs hold no paths or times; normalise line
			// endings only.
			got = regexp.MustCompile("\r\n").ReplaceAll(got, []byte("\n"))
			golden := filepath.Join("testdata", "golden", c.name)
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update if the change is intended)\n%s", c.name, golden, firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(al) && i < len(bl); i++ {
		if !bytes.Equal(al[i], bl[i]) {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + string(al[i]) + "\nwant: " + string(bl[i])
		}
	}
	return "lengths differ: " + strconv.Itoa(len(al)) + " vs " + strconv.Itoa(len(bl)) + " lines"
}
