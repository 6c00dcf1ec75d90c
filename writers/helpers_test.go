package writers

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<test name>.golden, or rewrites the file
// when the tests run with -update.
func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// sampleHeader and sampleRows exercise every value type and the quoting
// cases that matter: separators, quotes, newlines, leading spaces, Chinese
// text, HTML characters and JSON that is a string, an object or invalid.
var sampleHeader = []string{"id", "text", "score", "ratio", "meta", "empty", "名称"}

func sampleRows() [][]any {
	return [][]any{
		{int64(1), "plain", int64(42), 0.5, json.RawMessage(`{"b": [1, 2], "a": "<x> & y"}`), nil, "王小明"},
		{int64(2), "line1\nline2", int64(-7), 3.0, json.RawMessage(`"decoded \"quoted\"\nnext"`), "", "你好，世界"},
		{3, `say "hi", ok`, int64(0), 1e-7, json.RawMessage(`true`), nil, " leading space"},
		{int64(4), "<b>Tom & Jerry</b>", int64(9007199254740993), 123456789.125, json.RawMessage(`not json`), nil, "tab\there"},
		{int64(5), "=SUM(A1:A2)", int64(1), math.Copysign(0, -1), json.RawMessage("{\n  \"nested\": {\"k\": null}\n}"), nil, "emoji 😀"},
	}
}

// writeFile writes header and rows to a fresh file named name in a temp
// dir and returns its bytes.
func writeFile(t *testing.T, name string, opts Options, header []string, rows [][]any) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	w, err := Create(path, header, opts, nil)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write row %d: %v", i+1, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// writeStdout writes header and rows to "-" and returns what reached stdout.
func writeStdout(t *testing.T, opts Options, header []string, rows [][]any) []byte {
	t.Helper()
	var stdout bytes.Buffer
	w, err := Create(Stdout, header, opts, &stdout)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for i, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write row %d: %v", i+1, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return stdout.Bytes()
}

// tmpLeftovers lists files in dir that look like our temporary files.
func tmpLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") || strings.HasPrefix(e.Name(), "bulkgen-stdout-") {
			out = append(out, e.Name())
		}
	}
	return out
}
