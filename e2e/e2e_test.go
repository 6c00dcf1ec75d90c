// Package e2e runs the real bulkgen binary against the simulator
// (model/modeltest) over loopback HTTP, the way a user runs it.
package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"bulkgen/model/modeltest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bulkgen-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bulkgen")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build bulkgen:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const simKey = "sk-e2e-test-key-0123456789"

// result is one finished bulkgen process.
type result struct {
	code           int
	stdout, stderr string
}

// bulkgen runs the binary with args, pointed at sim unless args already
// choose a service, with the simulator's key in the environment.
func bulkgen(t *testing.T, sim *modeltest.Server, stdin string, args ...string) result {
	t.Helper()
	cmd := prepare(t, sim, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String()+errb.String(), "panic:") {
		t.Fatalf("bulkgen panicked:\n%s", errb.String())
	}
	return result{code, out.String(), errb.String()}
}

func prepare(t *testing.T, sim *modeltest.Server, args ...string) *exec.Cmd {
	t.Helper()
	full := append([]string{}, args...)
	// The service flags go right after the command words: flags after a
	// positional argument (batch import FILE) are not parsed.
	at := 0
	switch {
	case len(args) > 0 && (args[0] == "run" || args[0] == "label" || args[0] == "translate"):
		at = 1
	case len(args) > 1 && args[0] == "batch" && args[1] != "status":
		at = 2
	}
	if sim != nil && at > 0 {
		base := sim.CompatibleBaseURL()
		for i, a := range args {
			if a == "--api" && i+1 < len(args) && args[i+1] == "dashscope" {
				base = sim.NativeBaseURL()
			}
		}
		extra := []string{"--base-url", base, "--api-key-env", "BULKGEN_TEST_KEY"}
		if at == 1 {
			extra = append(extra, "--retry-base", "5ms", "--retry-max", "50ms")
		}
		full = append(append(append([]string{}, args[:at]...), extra...), args[at:]...)
	}
	cmd := exec.Command(binary, full...)
	cmd.Env = append(os.Environ(), "BULKGEN_TEST_KEY="+simKey, "XDG_CACHE_HOME="+cacheDir(t))
	return cmd
}

var cacheDirs sync.Map // *testing.T → string

// cacheDir gives each test its own default run store, so that answers
// stored by one test never serve another (tests that share a store say so
// with --store).
func cacheDir(t *testing.T) string {
	if d, ok := cacheDirs.Load(t); ok {
		return d.(string)
	}
	d := t.TempDir()
	cacheDirs.Store(t, d)
	return d
}

func newSim(t *testing.T, opts modeltest.Options) *modeltest.Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = simKey
	}
	s := modeltest.NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// table is an output file read back: header and rows.
type table struct {
	header []string
	rows   [][]string
}

func (tb table) col(name string) int {
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	return -1
}

func (tb table) get(row int, name string) string {
	i := tb.col(name)
	if i < 0 {
		panic("no column " + name)
	}
	if i >= len(tb.rows[row]) {
		return ""
	}
	return tb.rows[row][i]
}

func readTable(t *testing.T, path string) table {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseTable(t, path, data)
}

func parseTable(t *testing.T, name string, data []byte) table {
	t.Helper()
	switch filepath.Ext(name) {
	case ".csv", ".tsv":
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		if filepath.Ext(name) == ".tsv" {
			r.Comma = '\t'
		}
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return table{recs[0], recs[1:]}
	case ".jsonl":
		var tb table
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line == "" {
				continue
			}
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			// keep key order: walk tokens
			keys, vals := orderedObject(t, dec)
			if i == 0 {
				tb.header = keys
			}
			tb.rows = append(tb.rows, vals)
		}
		return tb
	case ".xlsx":
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil {
			t.Fatal(err)
		}
		return table{rows[0], rows[1:]}
	}
	t.Fatalf("unknown output type %s", name)
	return table{}
}

func orderedObject(t *testing.T, dec *json.Decoder) (keys, vals []string) {
	t.Helper()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v %v", tok, err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var s string
		if json.Unmarshal(raw, &s) == nil {
			vals = append(vals, s)
		} else if string(raw) == "null" {
			vals = append(vals, "")
		} else {
			vals = append(vals, string(raw))
		}
	}
	return keys, vals
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
