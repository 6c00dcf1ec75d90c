package main

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"bulkgen/model"
)

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		t     *target
		v     float64
		met   bool
		shown string
	}{
		{atMost(1.25, "×"), 1.25, true, "≤ 1.25×"},
		{atMost(1.25, "×"), 1.2501, false, "≤ 1.25×"},
		{atLeast(95, "%"), 95, true, "≥ 95%"},
		{atLeast(95, "%"), 94.9, false, "≥ 95%"},
		{atMost(150, " MB"), math.NaN(), false, "≤ 150 MB"},
	} {
		if got := tc.t.met(tc.v); got != tc.met {
			t.Errorf("%s met(%v) = %v", tc.t, tc.v, got)
		}
		if got := tc.t.String(); got != tc.shown {
			t.Errorf("String() = %q, want %q", got, tc.shown)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		f    figure
		want string
	}{
		{figure{value: 1, target: atMost(2, "")}, "pass"},
		{figure{value: 3, target: atMost(2, "")}, "**FAIL**"},
		{figure{value: 3}, "—"},
	} {
		if got := tc.f.verdict(); got != tc.want {
			t.Errorf("verdict of %v against %v = %q, want %q", tc.f.value, tc.f.target, got, tc.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", 1000000: "1,000,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"-c":                "-c",
		"$BENCH/in.csv":     "$BENCH/in.csv",
		"XDG_CACHE_HOME=/x": "XDG_CACHE_HOME=/x",
		"a b":               "'a b'",
		"it's":              `'it'\''s'`,
		"":                  "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandHidesTemporaryPaths(t *testing.T) {
	r := childRun{
		argv: []string{"/tmp/b1/bulkgen", "run", "-i", "/tmp/b1/in.csv", "--base-url", "http://127.0.0.1:5/compatible-mode/v1"},
		env:  []string{"XDG_CACHE_HOME=/tmp/b1/cache-1"},
	}
	want := "XDG_CACHE_HOME=$BENCH/cache-1 bulkgen run -i $BENCH/in.csv --base-url $SIM"
	if got := r.command("/tmp/b1", "http://127.0.0.1:5/compatible-mode/v1"); got != want {
		t.Errorf("command:\n got %s\nwant %s", got, want)
	}
}

func TestSummaryAndElapsed(t *testing.T) {
	for _, tc := range []struct {
		stderr string
		want   time.Duration
	}{
		{"bulkgen: 2,000 rows: 2,000 ok, 0 failed; tokens 1 in / 2 out; 2,000 requests; 4.18s (478.3 rows/s)\nbulkgen: wrote out.csv\n", 4180 * time.Millisecond},
		{"bulkgen: 1 rows: 1 ok, 0 failed; tokens 68 in / 42 out; 1 requests; 233ms (4.3 rows/s)\n", 233 * time.Millisecond},
		{"bulkgen: 1,000,000 rows: 1,000,000 ok, 0 failed; 1,000,000 requests; 7m42s (2165.3 rows/s)\n", 7*time.Minute + 42*time.Second},
		{"bulkgen: something else\n", 9 * time.Second}, // no summary: the wall time
	} {
		r := childRun{stderr: tc.stderr, wall: 9 * time.Second}
		if got := r.elapsed(); got != tc.want {
			t.Errorf("elapsed of %q = %v, want %v", r.summary(), got, tc.want)
		}
	}
}

func TestChatBodyCarriesTheJobsParameters(t *testing.T) {
	temp, maxTokens := 0.3, int64(20)
	body, err := chatBody(model.Request{Model: "qwen-plus", Messages: []model.Message{{Role: "user", Content: "你好"}},
		Temperature: &temp, MaxTokens: &maxTokens, Stop: []string{"###"}})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got["model"] != "qwen-plus" || got["temperature"] != 0.3 || got["max_tokens"] != 20.0 || got["top_p"] != nil {
		t.Errorf("body %s", body)
	}
	if m := got["messages"].([]any)[0].(map[string]any); m["role"] != "user" || m["content"] != "你好" {
		t.Errorf("messages in %s", body)
	}
}

func TestRowValuesAreDeterministicAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := range 2000 {
		v := rowValues(i)
		if len(v) != len(inputHeader) {
			t.Fatalf("row %d has %d values", i, len(v))
		}
		if strings.Join(rowValues(i), "|") != strings.Join(v, "|") {
			t.Fatalf("row %d differs between calls", i)
		}
		if seen[v[1]] {
			t.Fatalf("row %d repeats the name %q: its request would be deduplicated", i, v[1])
		}
		seen[v[1]] = true
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b strings.Builder
	err := writeMarkdown(&b, header{date: "today", bench: "go run ./bench", cores: 2, loadStart: "1.0, 1.0, 1.0", loadEnd: "2.0, 1.5, 1.0"}, []caseReport{
		{id: "a", title: "A", figures: []figure{{name: "x | y", value: 1.5, format: "%.1f×", target: atMost(1.25, "×"), command: "go run ./bench -run '^a$'"}},
			notes: []string{"- note"}},
		{id: "b", title: "B", err: errors.New("broke\nbadly")},
	}, "", "## What profiling found\n\n- a note\n")
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| x \\| y | 1.5× | ≤ 1.25× | **FAIL** | `go run ./bench -run '^a$'` |",
		"| B | not measured: broke | | **FAIL** | `go run ./bench -run '^b$'` |",
		"Load average (1, 5, 15 min) before: 1.0, 1.0, 1.0, after: 2.0, 1.5, 1.0.",
		"### A (`-run a`)\n\n- note\n",
		"\n## What profiling found\n\n- a note\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestTokenizerTextIsMixed(t *testing.T) {
	rows := tokenizerText(64 << 10)
	text := strings.Join(rows, "")
	if len(text) < 64<<10 {
		t.Fatalf("%d bytes, want at least %d", len(text), 64<<10)
	}
	var cjk, latin int
	for _, r := range text {
		switch {
		case r >= 0x4e00 && r <= 0x9fff:
			cjk++
		case r >= 'a' && r <= 'z':
			latin++
		}
	}
	if cjk < len(text)/20 || latin < len(text)/20 {
		t.Errorf("%d CJK and %d Latin letters in %d bytes: not mixed", cjk, latin, len(text))
	}
}
