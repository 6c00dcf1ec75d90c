package writers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestTextGolden pins the exact bytes of CSV, TSV and JSONL output.
func TestTextGolden(t *testing.T) {
	tests := []struct {
		name string // also the golden file name
		file string
		opts Options
	}{
		{name: "csv", file: "out.csv"},
		{name: "csv_bom", file: "out.csv", opts: Options{BOM: true}},
		{name: "tsv", file: "out.tsv"},
		{name: "tsv_by_format", file: "out.txt", opts: Options{Format: "TSV"}},
		{name: "jsonl", file: "out.jsonl"},
		{name: "ndjson", file: "out.ndjson"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := writeFile(t, tt.file, tt.opts, sampleHeader, sampleRows())
			golden(t, got)
		})
	}
}

// TestCSVParsesBack checks the CSV output with an independent reader: the
// BOM is only at the start, values survive quoting, and lines end in LF.
func TestCSVParsesBack(t *testing.T) {
	for _, bom := range []bool{false, true} {
		got := writeFile(t, "out.csv", Options{BOM: bom}, sampleHeader, sampleRows())
		if bytes.HasPrefix(got, []byte(utf8BOM)) != bom {
			t.Errorf("bom=%v: output starts with %q", bom, got[:min(len(got), 6)])
		}
		if bytes.Contains(got, []byte("\r\n")) {
			t.Errorf("bom=%v: output contains CRLF", bom)
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(got, []byte(utf8BOM)))).ReadAll()
		if err != nil {
			t.Fatalf("bom=%v: parse back: %v", bom, err)
		}
		want := [][]string{
			sampleHeader,
			{"1", "plain", "42", "0.5", `{"b": [1, 2], "a": "<x> & y"}`, "", "王小明"},
			{"2", "line1\nline2", "-7", "3", "decoded \"quoted\"\nnext", "", "你好，世界"},
			{"3", `say "hi", ok`, "0", "0.0000001", "true", "", " leading space"},
			{"4", "<b>Tom & Jerry</b>", "9007199254740993", "123456789.125", "not json", "", "tab\there"},
			{"5", "=SUM(A1:A2)", "1", "-0", "{\n  \"nested\": {\"k\": null}\n}", "", "emoji 😀"},
		}
		if len(recs) != len(want) {
			t.Fatalf("bom=%v: got %d records, want %d", bom, len(recs), len(want))
		}
		for i := range want {
			if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
				t.Errorf("bom=%v record %d:\n got %q\nwant %q", bom, i, recs[i], want[i])
			}
		}
	}
}

// TestJSONLLines checks JSONL semantics beyond the golden bytes: one valid
// object per line, keys in header order, JSON types kept.
func TestJSONLLines(t *testing.T) {
	got := writeFile(t, "out.jsonl", Options{}, sampleHeader, sampleRows())
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != len(sampleRows()) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(sampleRows()), got)
	}
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("line %d is not valid JSON: %s", i+1, line)
		}
		if keys := objectKeys(t, line); strings.Join(keys, ",") != strings.Join(sampleHeader, ",") {
			t.Errorf("line %d keys %v, want %v", i+1, keys, sampleHeader)
		}
	}
	tests := []struct {
		name string
		line int
		want string // substring of the line
	}{
		{"int as number", 1, `"score":42,`},
		{"float as number", 1, `"ratio":0.5,`},
		{"raw object kept and compacted", 1, `"meta":{"b":[1,2],"a":"<x> & y"}`},
		{"nil is null", 1, `"empty":null`},
		{"empty string stays a string", 2, `"empty":""`},
		{"raw string kept", 2, `"meta":"decoded \"quoted\"\nnext"`},
		{"raw bool kept", 3, `"meta":true`},
		{"small float", 3, `"ratio":1e-7`},
		{"html not escaped", 4, `"text":"<b>Tom & Jerry</b>"`},
		{"big int exact", 4, `"score":9007199254740993`},
		{"invalid raw becomes string", 4, `"meta":"not json"`},
		{"pretty raw compacted", 5, `"meta":{"nested":{"k":null}}`},
		{"chinese key and value", 1, `"名称":"王小明"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(lines[tt.line-1], tt.want) {
				t.Errorf("line %d = %s\nwant it to contain %s", tt.line, lines[tt.line-1], tt.want)
			}
		})
	}
}

// objectKeys returns the top-level keys of a JSON object in order.
func objectKeys(t *testing.T, obj string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestJSONLSpecialValues(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"NaN as string", math.NaN(), `{"v":"NaN"}`},
		{"+Inf as string", math.Inf(1), `{"v":"+Inf"}`},
		{"empty raw is null", json.RawMessage(nil), `{"v":null}`},
		{"blank raw is null", json.RawMessage("  "), `{"v":null}`},
		{"raw with html kept", json.RawMessage(`"<a href='x'>&amp;</a>"`), `{"v":"<a href='x'>&amp;</a>"}`},
		{"raw number", json.RawMessage(` 12.50 `), `{"v":12.50}`},
		{"invalid utf8 replaced", "a\xffb", `{"v":"a\ufffdb"}`},
		{"control chars escaped", "a\tb\x01", `{"v":"a\tb\u0001"}`},
		{"int", 7, `{"v":7}`},
		{"large float", 1e21, `{"v":1e+21}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := writeStdout(t, Options{Format: "jsonl"}, []string{"v"}, [][]any{{tt.v}})
			if string(got) != tt.want+"\n" {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCSVSpecialValues(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"NaN", math.NaN(), "NaN"},
		{"large float has no exponent", 1e21, "1000000000000000000000"},
		{"raw string decoded", json.RawMessage(` "x,y" `), `"x,y"`},
		{"raw object as text", json.RawMessage(`{"a":1}`), `"{""a"":1}"`},
		{"empty raw", json.RawMessage(nil), ""},
		{"int", 7, "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := writeStdout(t, Options{Format: "csv"}, []string{"v"}, [][]any{{tt.v}})
			if string(got) != "v\n"+tt.want+"\n" {
				t.Errorf("got %q, want %q", got, "v\n"+tt.want+"\n")
			}
		})
	}
}

// TestStdoutMatchesFile checks that streaming to stdout produces the same
// bytes as the file path for the text formats.
func TestStdoutMatchesFile(t *testing.T) {
	tests := []struct {
		file string
		opts Options
	}{
		{"out.csv", Options{Format: "csv", BOM: true}},
		{"out.tsv", Options{Format: "tsv"}},
		{"out.jsonl", Options{Format: "jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.opts.Format, func(t *testing.T) {
			file := writeFile(t, tt.file, tt.opts, sampleHeader, sampleRows())
			stdout := writeStdout(t, tt.opts, sampleHeader, sampleRows())
			if !bytes.Equal(file, stdout) {
				t.Errorf("stdout output differs from file output:\n%s\n---\n%s", stdout, file)
			}
		})
	}
}

// TestStdoutStreams checks that CSV/JSONL rows reach stdout as the buffer
// fills, without waiting for Close: a long run piped into another tool
// must not sit on all its output.
func TestStdoutStreams(t *testing.T) {
	for _, format := range []string{"csv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			var stdout bytes.Buffer
			w, err := Create(Stdout, []string{"v"}, Options{Format: format}, &stdout)
			if err != nil {
				t.Fatal(err)
			}
			row := []any{strings.Repeat("x", 1000)}
			for range 2 * bufSize / 1000 {
				if err := w.Write(row); err != nil {
					t.Fatal(err)
				}
			}
			if stdout.Len() == 0 {
				t.Error("nothing reached stdout before Close")
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort: %v", err)
			}
		})
	}
}

// TestBOMOnlyForCSV: a BOM would make JSONL lines invalid JSON, so the
// option is ignored there.
func TestBOMOnlyForCSV(t *testing.T) {
	got := writeStdout(t, Options{Format: "jsonl", BOM: true}, []string{"v"}, [][]any{{"x"}})
	if bytes.HasPrefix(got, []byte(utf8BOM)) {
		t.Errorf("jsonl output starts with a BOM: %q", got)
	}
	if got := writeStdout(t, Options{Format: "tsv", BOM: true}, []string{"v"}, [][]any{{"x"}}); string(got) != utf8BOM+"v\nx\n" {
		t.Errorf("tsv with BOM = %q", got)
	}
}
