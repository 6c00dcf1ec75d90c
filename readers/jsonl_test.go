package readers

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func openJSONLString(t *testing.T, content string) (Reader, error) {
	t.Helper()
	r, err := Open(writeFile(t, "data.jsonl", []byte(content)), Options{}, nil)
	if err == nil {
		t.Cleanup(func() { r.Close() })
	}
	return r, err
}

func TestJSONL(t *testing.T) {
	const input = "\xEF\xBB\xBF" + `{"id": 1, "name": "apple", "price": 1.50}` + "\r\n" +
		"   \n" +
		`{"id": 2, "name": "caf\u00e9 \"q\"", "tags": ["a", "b"], "meta": {"x": 1, "y": null}}` + "\n" +
		`{"big": 12345678901234567890, "ok": true, "none": null, "id": 3, "neg": -0.5e3}` + "\n" +
		`not json` + "\n" +
		`[1, 2]` + "\n" +
		`"just a string"` + "\n" +
		`{"id": 8} {"id": 9}` + "\n" +
		`{"id": 9, "name": "truncated"` + "\n" +
		`{"id": 10, "extra": "last line, no newline"}`

	r, err := openJSONLString(t, input)
	checkErr(t, err, "")
	wantCols := []string{"id", "name", "price", "tags", "meta", "big", "ok", "none", "neg", "extra"}
	if got := r.Columns(); !reflect.DeepEqual(got, wantCols) {
		t.Fatalf("Columns() = %q, want %q", got, wantCols)
	}
	if n, ok := r.Total(); n != 9 || !ok {
		t.Errorf("Total() = %d, %v; want 9, true", n, ok)
	}
	e := func(values ...string) []string { // pads to the 10 columns
		return append(values, make([]string, len(wantCols)-len(values))...)
	}
	const hint = " (each line must be one JSON object)"
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{
		ok(0, "data.jsonl:1", e("1", "apple", "1.50")...),
		ok(1, "data.jsonl:3", e("2", `café "q"`, "", `["a","b"]`, `{"x":1,"y":null}`)...),
		ok(2, "data.jsonl:4", e("3", "", "", "", "", "12345678901234567890", "true", "", "-0.5e3")...),
		bad(3, "data.jsonl:5", "data.jsonl line 5: invalid JSON: invalid character 'o' in literal null (expecting 'u')"+hint, e()...),
		bad(4, "data.jsonl:6", "data.jsonl line 6: found an array, not a JSON object"+hint, e()...),
		bad(5, "data.jsonl:7", "data.jsonl line 7: found a string, not a JSON object"+hint, e()...),
		bad(6, "data.jsonl:8", "data.jsonl line 8: invalid JSON: invalid character '{' after top-level value"+hint, e()...),
		bad(7, "data.jsonl:9", "data.jsonl line 9: invalid JSON: unexpected end of JSON input"+hint, e()...),
		ok(8, "data.jsonl:10", e("10", "", "", "", "", "", "", "", "", "last line, no newline")...),
	})
}

func TestJSONLRawValues(t *testing.T) {
	r, err := openJSONLString(t, `{"n": 1.50, "s": "a\tb", "o": {"k": [1, 2]}, "z": null}`+"\n"+`{"n": 2}`+"\n")
	checkErr(t, err, "")
	row, err := r.Read(context.Background())
	checkErr(t, err, "")
	want := []json.RawMessage{json.RawMessage(`1.50`), json.RawMessage(`"a\tb"`), json.RawMessage(`{"k": [1, 2]}`), json.RawMessage(`null`)}
	if !reflect.DeepEqual(row.JSON, want) {
		t.Errorf("JSON = %q, want %q", row.JSON, want)
	}
	if got := row.Values[1]; got != "a\tb" {
		t.Errorf("escaped string value = %q, want a tab", got)
	}
	row, err = r.Read(context.Background())
	checkErr(t, err, "")
	if row.JSON[0] == nil || row.JSON[1] != nil || row.JSON[3] != nil {
		t.Errorf("JSON for a row with only n = %q: want nil for the missing keys", row.JSON)
	}
}

func TestJSONLFixture(t *testing.T) {
	r, err := Open("testdata/data.jsonl", Options{}, nil)
	checkErr(t, err, "")
	defer r.Close()
	if got, want := r.Columns(), []string{"id", "text", "price", "tags", "meta"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %q, want %q", got, want)
	}
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{
		ok(0, "data.jsonl:1", "1", "Great kettle", "1.50", `["home","kitchen"]`, ""),
		ok(1, "data.jsonl:3", "2", "Noisy fan", "", "", `{"source":"web","verified":true}`),
		bad(2, "data.jsonl:4", "data.jsonl line 4: invalid JSON: unexpected end of JSON input (each line must be one JSON object)", "", "", "", "", ""),
		ok(3, "data.jsonl:5", "4", "", "12345678901234567890", "", ""),
	})
}

func TestJSONLLongLine(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	r, err := openJSONLString(t, `{"a": 1}`+"\n"+`{"text": "`+long+`", "a": 2}`+"\n"+`{"a": 3}`+"\n")
	checkErr(t, err, "")
	got, err := readAll(t, r)
	checkErr(t, err, "")
	if len(got) != 3 {
		t.Fatalf("got %d rows, want 3", len(got))
	}
	if got[1].Values[1] != long || got[1].Values[0] != "2" || got[1].Key != "data.jsonl:2" {
		t.Errorf("long line row: key %s, a=%q, text of %d bytes", got[1].Key, got[1].Values[0], len(got[1].Values[1]))
	}
	if got[2].Values[0] != "3" || got[2].Key != "data.jsonl:3" {
		t.Errorf("row after the long line = %+v", got[2])
	}
}

func TestJSONLStdin(t *testing.T) {
	r, err := Open("-", Options{Format: "ndjson"}, strings.NewReader(`{"b": 1}`+"\n\n"+`{"a": "x", "b": 2}`+"\n"))
	checkErr(t, err, "")
	spooled := r.(*jsonlReader).remove
	if _, err := os.Stat(spooled); err != nil {
		t.Fatalf("stdin should be spooled to a temporary file: %v", err)
	}
	if got, want := r.Columns(), []string{"b", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %q, want %q", got, want)
	}
	if n, ok := r.Total(); n != 2 || !ok {
		t.Errorf("Total() = %d, %v; want 2, true", n, ok)
	}
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{ok(0, "stdin:1", "1", ""), ok(1, "stdin:3", "2", "x")})
	checkErr(t, r.Close(), "")
	if _, err := os.Stat(spooled); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close should remove the spooled copy of stdin; Stat = %v", err)
	}
}

func TestJSONLOpenErrors(t *testing.T) {
	tests := []struct{ name, input, wantErr string }{
		{"empty", "", "data.jsonl is empty: expected one JSON object per line"},
		{"blank lines only", "\n  \n", "data.jsonl is empty"},
		{"no object anywhere", "a,b\n1,2\n", "data.jsonl has no usable rows; the first problem: data.jsonl line 1: invalid JSON"},
		{"objects without keys", "{}\n{}\n", "data.jsonl: no line has any keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openJSONLString(t, tt.input)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestJSONLCancelledPrepass(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := OpenContext(ctx, writeFile(t, "data.jsonl", []byte(`{"a":1}`+"\n")), Options{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("OpenContext with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestParseObject(t *testing.T) {
	type kv struct{ Key, Raw, Text string }
	tests := []struct {
		line    string
		want    []kv
		wantErr string
	}{
		{`{}`, nil, ""},
		{` { "a" :  1 , "b":[1, 2] } `, []kv{{"a", "1", "1"}, {"b", "[1, 2]", "[1,2]"}}, ""},
		{`{"a":"}{","b":{"c":"]\"}","d":[{}]},"e":-1.5E+3}`, []kv{{"a", `"}{"`, "}{"}, {"b", `{"c":"]\"}","d":[{}]}`, `{"c":"]\"}","d":[{}]}`}, {"e", "-1.5E+3", "-1.5E+3"}}, ""},
		{`{"k\"ey\u00e9":"\ud83d\ude00 \u4e2d\n"}`, []kv{{`k"eyé`, `"\ud83d\ude00 \u4e2d\n"`, "😀 中\n"}}, ""},
		{`{"t":true,"f":false,"n":null}`, []kv{{"t", "true", "true"}, {"f", "false", "false"}, {"n", "null", ""}}, ""},
		{`{"a":1,"a":2}`, []kv{{"a", "1", "1"}, {"a", "2", "2"}}, ""}, // the reader keeps the last
		{`{"a":1,}`, nil, "invalid JSON: invalid character '}' looking for beginning of object key string"},
		{`{"a":01}`, nil, "invalid JSON: invalid character '1' after object key:value pair"},
		{`12`, nil, "found a number, not a JSON object"},
		{`true`, nil, "found a boolean, not a JSON object"},
		{`null`, nil, "found null, not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			var got []kv
			err := parseObject([]byte(tt.line), func(key string, raw []byte) error {
				text, err := jsonText(raw)
				got = append(got, kv{key, string(raw), text})
				return err
			})
			checkErr(t, err, tt.wantErr)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONLEncoding(t *testing.T) {
	encoded := gb18030(t, `{"名称": "苹果", "价格": 3}`+"\n")
	path := writeFile(t, "gbk.jsonl", encoded)

	_, err := Open(path, Options{}, nil)
	checkErr(t, err, "gbk.jsonl line 1: text is not valid UTF-8; if the file is GBK/GB18030 pass --encoding gb18030")

	for _, enc := range []string{"gb18030", "gbk"} {
		r, err := Open(path, Options{Encoding: enc}, nil)
		checkErr(t, err, "")
		if got, want := r.Columns(), []string{"名称", "价格"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Columns() = %q, want %q", got, want)
		}
		got, err := readAll(t, r)
		checkErr(t, err, "")
		diffResults(t, got, []result{ok(0, "gbk.jsonl:1", "苹果", "3")})
		r.Close()
	}

	// Said explicitly, UTF-8 is trusted: the file opens (the GBK bytes make
	// no sense, but that was asked for).
	r, err := Open(path, Options{Encoding: "utf-8"}, nil)
	checkErr(t, err, "")
	r.Close()
}
