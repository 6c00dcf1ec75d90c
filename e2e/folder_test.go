package e2e

// Folders of documents (issue 7): one row per document in path order, an
// unreadable file as a row error, long documents split and combined, one
// Markdown file per document.

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"bulkgen/model/modeltest"
)

func TestFolderSummariesWithChunking(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "summaries.csv")
	docs := filepath.Join(dir, "docs")
	res := bulkgen(t, sim, "", "run", "-i", "../samples/docs", "-j", "../samples/summarize.yaml", "-o", out,
		"--chunk-tokens", "8000", "--one-file-per-doc", docs, "--omit-columns", "text")
	if res.code != 3 {
		t.Fatalf("exit %d, want 3 (one unreadable document)\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out)
	// The documents' text is read, chunked and sent, but not copied into
	// the output.
	if want := []string{"path", "name", "ext", "bytes", "modified", "summary"}; !slices.Equal(tb.header[:6], want) {
		t.Errorf("header %q, want it to start %q (text omitted)", tb.header, want)
	}
	var paths []string
	requests := 0
	for i := range tb.rows {
		p := tb.get(i, "path")
		paths = append(paths, p)
		n, _ := strconv.Atoi(tb.get(i, "requests"))
		requests += n
		switch {
		case p == "legacy-contract.docx":
			if !strings.Contains(tb.get(i, "error"), "not a valid .docx") || tb.get(i, "summary") != "" {
				t.Errorf("unreadable document: %q", tb.rows[i])
			}
		case p == "product-handbook-long.md":
			// ~34,000 tokens in parts of at most 8,000: five parts and one
			// reduce.
			if n != 6 || tb.get(i, "error") != "" {
				t.Errorf("long document: %d requests, error %q", n, tb.get(i, "error"))
			}
			if pt, _ := strconv.Atoi(tb.get(i, "prompt_tokens")); pt < 34000 {
				t.Errorf("long document billed %d prompt tokens: the parts' usage is not added up", pt)
			}
		default:
			if n != 1 || tb.get(i, "error") != "" || tb.get(i, "summary") == "" {
				t.Errorf("%s: %d requests, %q", p, n, tb.get(i, "error"))
			}
		}
	}
	if !slices.IsSorted(paths) || len(paths) < 10 {
		t.Errorf("documents %v: want every file, in path order", paths)
	}
	if got := sim.Stats().OK; got != int64(requests) {
		t.Errorf("the simulator answered %d requests; the requests column adds up to %d", got, requests)
	}
	// One Markdown file per readable document, holding its summary.
	for i := range tb.rows {
		p := tb.get(i, "path")
		data, err := os.ReadFile(filepath.Join(docs, p+".md"))
		if p == "legacy-contract.docx" {
			if err == nil {
				t.Errorf("a file was written for the unreadable document")
			}
			continue
		}
		if err != nil || string(data) != tb.get(i, "summary") {
			t.Errorf("%s.md: %v, %q", p, err, data)
		}
	}
}

func TestFolderGlobAndSafety(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(filepath.Join(in, "sub"), 0o755)
	writeFile(t, in, "a.txt", "第一份文件。")
	writeFile(t, filepath.Join(in, "sub"), "b.md", "# B\n\nsecond")
	writeFile(t, in, ".hidden.txt", "secret")
	out := filepath.Join(dir, "out.csv")
	res := bulkgen(t, sim, "", "run", "-i", in, "--prompt", "Summarise {{text}}", "-o", out, "--glob", "*.md")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if tb := readTable(t, out); len(tb.rows) != 1 || tb.get(0, "path") != "sub/b.md" {
		t.Errorf("--glob '*.md' gave %v", tb.rows)
	}
	res = bulkgen(t, sim, "", "run", "-i", in, "--prompt", "Summarise {{text}}", "-o", out)
	if tb := readTable(t, out); len(tb.rows) != 2 {
		t.Errorf("hidden file read without --hidden: %v", tb.rows)
	}
	// --one-file-per-doc needs a folder input.
	csv := writeRowsCSV(t, dir, "x.csv", 2, productName, "x")
	res = bulkgen(t, sim, "", "run", "-i", csv, "--prompt", "{{商品名称}}", "-o", filepath.Join(dir, "y.csv"), "--one-file-per-doc", filepath.Join(dir, "d"))
	if res.code == 0 || !strings.Contains(res.stderr, "needs a folder input") {
		t.Errorf("--one-file-per-doc on a CSV: exit %d\n%s", res.code, res.stderr)
	}
}

// TestFolderSummariesInBatchMode: long documents in batch mode. The parts
// of a document and the request that combines their answers are found by
// planning passes and sent in batches, round after round; nothing is sent
// that the realtime run would not send, and the output is the same.
func TestFolderSummariesInBatchMode(t *testing.T) {
	sim := newSim(t, modeltest.Options{Batch: fastBatches})
	dir := t.TempDir()
	args := []string{"-i", "../samples/docs", "-j", "../samples/summarize.yaml", "--chunk-tokens", "8000", "--omit-columns", "text"}
	rt := filepath.Join(dir, "realtime.csv")
	if res := bulkgen(t, sim, "", append([]string{"run", "-o", rt, "--no-store"}, args...)...); res.code != 3 {
		t.Fatalf("realtime exit %d\n%s", res.code, res.stderr)
	}
	realtime := sim.Stats().OK
	out := filepath.Join(dir, "batch.csv")
	res := bulkgen(t, sim, "", append([]string{"run", "--mode", "batch", "--batch-poll", "20ms", "-o", out, "--store", filepath.Join(dir, "s.db")}, args...)...)
	if res.code != 3 {
		t.Fatalf("batch exit %d, want 3 (one unreadable document)\n%s", res.code, res.stderr)
	}
	if got := sim.Stats().BatchLines; got != realtime || sim.Stats().OK != realtime {
		t.Errorf("%d batch lines and %d realtime requests; want %d lines, as the realtime run sent, and none", got, sim.Stats().OK-realtime, realtime)
	}
	if n := strings.Count(res.stderr, "batch request file"); n != 2 {
		t.Errorf("%d request files, want 2 (documents and parts, then the combining request)\n%s", n, res.stderr)
	}
	a, b := readTable(t, rt), readTable(t, out)
	sameTables(t, withoutColumn(t, a, "cost"), withoutColumn(t, b, "cost"))
}
