package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<test name>.golden, or rewrites the file
// when the tests run with -update.
func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("output differs from %s (run go test -update after checking)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

var promptTerms = []Term{{Source: "商品", Target: "product"}, {Source: "订单", Target: "order", Note: "noun"}}

func TestSinglePrompt(t *testing.T) {
	tests := []struct {
		name, from, to string
		terms          []Term
	}{
		{"zh_en_glossary", "zh", "en", promptTerms},
		{"auto_zh-TW", "", "zh-TW", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys, user, err := SinglePrompt("商品订单 <b>&</b>", tt.from, tt.to, tt.terms)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "--- system ---\n"+sys+"--- user ---\n"+user+"\n")
		})
	}
}

func TestPackPrompt(t *testing.T) {
	cells := []string{"商品", "订单 \"加急\"\n第二行", "<b>A&B</b>", "4", "5", "6", "7", "8", "9", "第十"}
	sys, user, err := PackPrompt(cells, "zh", "en", promptTerms)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "--- system ---\n"+sys+"--- user ---\n"+user+"\n")

	// The user message is the JSON the reply must mirror: echoing it back
	// must parse into the cells.
	got, err := ParsePacked(user, len(cells))
	if err != nil || !reflect.DeepEqual(got, cells) {
		t.Errorf("ParsePacked(user) = %q, %v; want the cells back", got, err)
	}
}

func TestPromptErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   func() error
		want string
	}{
		{"single: no target", func() error { _, _, err := SinglePrompt("x", "zh", "", nil); return err }, "target language: empty: pass --to, e.g. --to en"},
		{"single: bad source", func() error { _, _, err := SinglePrompt("x", "xx", "en", nil); return err }, `source language: unknown language "xx"`},
		{"pack: bad target", func() error { _, _, err := PackPrompt([]string{"x"}, "", "yy", nil); return err }, `target language: unknown language "yy"`},
		{"pack: no cells", func() error { _, _, err := PackPrompt(nil, "zh", "en", nil); return err }, "pack: no cells"},
		{"pack: empty cell", func() error { _, _, err := PackPrompt([]string{"a", " "}, "zh", "en", nil); return err }, "pack: cell 2 is empty: skip empty cells before packing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestParsePacked(t *testing.T) {
	tests := []struct {
		name, reply string
		n           int
		want        []string
		wantErr     string
	}{
		{"plain", `{"1": "product", "2": "order"}`, 2, []string{"product", "order"}, ""},
		{"keys out of order", `{"2": "order", "1": "product"}`, 2, []string{"product", "order"}, ""},
		{"json fence", "```json\n{\"1\": \"a\", \"2\": \"b\"}\n```", 2, []string{"a", "b"}, ""},
		{"bare fence", "```\n{\"1\": \"a\"}\n```", 1, []string{"a"}, ""},
		{"think block and prose", "<think>the user wants…</think>\nHere you go:\n{\"1\": \"a\"}\nDone.", 1, []string{"a"}, ""},
		{"escapes and newlines kept", `{"1": "line1\nline2 \"q\" {name}"}`, 1, []string{"line1\nline2 \"q\" {name}"}, ""},
		{"spaces around key", `{" 1 ": "a"}`, 1, []string{"a"}, ""},
		{"no object", "I cannot translate this.", 1, nil, `packed reply: no JSON object in "I cannot translate this."`},
		{"array", `["a", "b"]`, 2, nil, "packed reply: no JSON object"},
		{"invalid json", `{"1": "a" "2": "b"}`, 2, nil, "packed reply: invalid JSON"},
		{"missing key", `{"1": "a", "3": "c"}`, 3, nil, "packed reply: 1 of 3 cells missing (keys 2)"},
		{"extra key", `{"1": "a", "2": "b", "3": "c"}`, 2, nil, `packed reply: unexpected key "3": want "1" to "2"`},
		{"non-numeric key", `{"1": "a", "x": "b"}`, 2, nil, `packed reply: unexpected key "x"`},
		{"duplicate key", `{"1": "a", "1": "b"}`, 2, nil, `packed reply: key "1" appears twice`},
		{"number value", `{"1": 5}`, 1, nil, `packed reply: key "1": want a string, got a number`},
		{"null value", `{"1": null}`, 1, nil, `packed reply: key "1": want a string, got null`},
		{"nested value", `{"1": {"text": "a"}}`, 1, nil, `packed reply: key "1": want a string, got an object`},
		{"empty translation", `{"1": "a", "2": "  "}`, 2, nil, `packed reply: key "2": empty translation`},
		{"two objects", `{"1": "a"} {"1": "b"}`, 1, nil, "packed reply: more than one JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePacked(tt.reply, tt.n)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("got %q with the error, want nil", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParsePacked = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseSingle(t *testing.T) {
	tests := []struct{ reply, want, wantErr string }{
		{"Red dress\n", "Red dress", ""},
		{"<think>hmm</think>\n\nRed dress", "Red dress", ""},
		{"```\nline 1\nline 2\n```", "line 1\nline 2", ""},
		{"  padded  ", "padded", ""},
		{"<think>only thinking</think>", "", "reply: empty translation"},
		{"", "", "reply: empty translation"},
	}
	for _, tt := range tests {
		got, err := ParseSingle(tt.reply)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseSingle(%q) error = %v, want %q", tt.reply, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSingle(%q) = %q, %v; want %q", tt.reply, got, err, tt.want)
		}
	}
}

// The fast paths must be invisible: jsonString's shortcut writes what the
// encoder writes, and where parsePlainPacked accepts a reply it returns
// what the decoder does. Replies are built from cells that need escapes
// or not, with keys out of order, repeated or missing, values that are not
// strings, and text after the object.
func TestPackedFastPathsAgreeWithEncodingJSON(t *testing.T) {
	frags := []string{"绿茶", "Green tea", " ", "\"", "\\", "\n", "\t", "\u2028", "\u2029", "<b>", "&", "é", "\xff", "\xe4\xb8",
		"😀", "{", "}", ":", ",", "1", "null"}
	r := rand.New(rand.NewPCG(2, 9))
	cell := func() string {
		var b strings.Builder
		plain := r.IntN(2) == 0 // most replies are plain text: the fast path's case
		for n := 1 + r.IntN(4); n > 0; n-- {
			if plain {
				b.WriteString(frags[r.IntN(3)])
			} else {
				b.WriteString(frags[r.IntN(len(frags))])
			}
		}
		return b.String()
	}
	accepted := 0
	for range 60000 {
		c := cell()
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(c)
		if got, want := jsonString(c), strings.TrimSuffix(b.String(), "\n"); got != want {
			t.Fatalf("jsonString(%q) = %s, the encoder writes %s", c, got, want)
		}

		n := 1 + r.IntN(4)
		var obj strings.Builder
		obj.WriteString("{")
		for k := range n + r.IntN(2) - r.IntN(2) {
			if k > 0 {
				obj.WriteString([]string{",", ", ", ",\n  "}[r.IntN(3)])
			}
			key := strconv.Itoa(1 + k)
			if r.IntN(10) == 0 {
				key = strconv.Itoa(1 + r.IntN(n+1)) // a repeat, or one too many
			}
			value := jsonString(cell())
			if r.IntN(15) == 0 {
				value = []string{"1", "null", "true", `""`, `" "`, "[]"}[r.IntN(6)]
			}
			fmt.Fprintf(&obj, "%q:%s%s", key, []string{"", " "}[r.IntN(2)], value)
		}
		obj.WriteString([]string{"}", "\n}", "} {\"1\": \"x\"}"}[r.IntN(3)])
		s := obj.String()
		if !strings.HasSuffix(s, "}") {
			continue
		}
		fast, ok := parsePlainPacked(s, n)
		if !ok {
			continue
		}
		accepted++
		slow, err := parseDecoded(s, n)
		if err != nil || !slices.Equal(fast, slow) {
			t.Fatalf("%s: fast path %q, decoder %q (%v)", s, fast, slow, err)
		}
	}
	if accepted < 2000 {
		t.Errorf("the fast path accepted only %d replies: the test proves little", accepted)
	}
}
