package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestByteLevelAlphabet(t *testing.T) {
	tab := byteLevelAlphabet()
	seen := map[rune]bool{}
	for _, r := range tab {
		if seen[r] {
			t.Fatalf("rune %U used twice", r)
		}
		seen[r] = true
	}
	for b, want := range map[byte]rune{'a': 'a', '!': '!', ' ': 'Ġ', '\n': 'Ċ', 0: 'Ā', 0xFF: 'ÿ', 0xAD: 'Ń'} {
		if tab[b] != want {
			t.Errorf("byte %#x → %U, want %U", b, tab[b], want)
		}
	}
}

func TestParseMerge(t *testing.T) {
	tests := []struct {
		in      string
		l, r    string
		wantErr bool
	}{
		{`["Ġ","t"]`, "Ġ", "t", false},
		{`"Ġ t"`, "Ġ", "t", false},
		{`["a"]`, "", "", true},
		{`"ab"`, "", "", true},
		{`42`, "", "", true},
	}
	for _, tt := range tests {
		l, r, err := parseMerge(json.RawMessage(tt.in))
		if (err != nil) != tt.wantErr || l != tt.l || r != tt.r {
			t.Errorf("parseMerge(%s) = %q, %q, %v", tt.in, l, r, err)
		}
	}
}

// tiny builds a tokenizer.json with the 256 byte tokens plus merges.
func tiny(t *testing.T, merges ...[2]string) *tokenizerJSON {
	t.Helper()
	tj := &tokenizerJSON{}
	tj.Normalizer.Type = "NFC"
	tj.Model.Type = "BPE"
	tj.Model.Vocab = map[string]int{}
	tab := byteLevelAlphabet()
	// Byte tokens in GPT-2 order: printable first, like the real vocab.
	id := 0
	for b := 0; b < 256; b++ {
		if tab[b] == rune(b) {
			tj.Model.Vocab[string(tab[b])] = id
			id++
		}
	}
	for b := 0; b < 256; b++ {
		if tab[b] != rune(b) {
			tj.Model.Vocab[string(tab[b])] = id
			id++
		}
	}
	for _, m := range merges {
		if _, ok := tj.Model.Vocab[m[0]+m[1]]; !ok {
			tj.Model.Vocab[m[0]+m[1]] = id
			id++
		}
		raw, _ := json.Marshal([]string{m[0], m[1]})
		tj.Model.Merges = append(tj.Model.Merges, raw)
	}
	return tj
}

func TestEncode(t *testing.T) {
	tj := tiny(t, [2]string{"Ġ", "t"}, [2]string{"Ġt", "h"})
	tj.AddedTokens = append(tj.AddedTokens, struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	}{ID: 258, Content: "<|end|>", Special: true})
	out, err := encode(tj, 258)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte("QWENBPE1")) || !bytes.HasSuffix(out, []byte("<|end|>")) {
		t.Errorf("unexpected layout: % x", out[:16])
	}
	// GPT-2 order: the 188 printable bytes from '!', then 0x00…0x20, so
	// the space is token 220 (as "Ġ" is in the real vocabulary).
	if base := out[8+4:]; base[0] != '!' || base[188] != 0 || base[220] != ' ' {
		t.Errorf("base byte order wrong")
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := map[string]struct {
		tj       *tokenizerJSON
		nRegular int
		want     string
	}{
		"wrong size":      {tiny(t, [2]string{"a", "b"}), 300, "vocab has 257 entries"},
		"unknown part":    {tiny(t, [2]string{"a", "b"}, [2]string{"x", "zz"}), 258, "not in the vocab"},
		"merge not in id": {swapIDs(tiny(t, [2]string{"a", "b"}, [2]string{"c", "d"}), "ab", "cd"), 258, "not in id order"},
	}
	for name, tt := range tests {
		_, err := encode(tt.tj, tt.nRegular)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tt.want)
		}
	}
}

func swapIDs(tj *tokenizerJSON, a, b string) *tokenizerJSON {
	v := tj.Model.Vocab
	v[a], v[b] = v[b], v[a]
	return tj
}

func TestCheckPipeline(t *testing.T) {
	good := func() *tokenizerJSON {
		var tj tokenizerJSON
		raw := `{"normalizer":{"type":"NFC"},"pre_tokenizer":{"type":"Sequence","pretokenizers":[
			{"type":"Split","pattern":{"Regex":` + jsonString(wantPattern) + `},"behavior":"Isolated","invert":false},
			{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]},"model":{"type":"BPE"}}`
		if err := json.Unmarshal([]byte(raw), &tj); err != nil {
			t.Fatal(err)
		}
		return &tj
	}
	if err := checkPipeline(good()); err != nil {
		t.Fatalf("good pipeline rejected: %v", err)
	}
	bad := map[string]func(*tokenizerJSON){
		"regex":      func(tj *tokenizerJSON) { tj.PreTokenizer.Pretokenizers[0].Pattern.Regex += "|x" },
		"normalizer": func(tj *tokenizerJSON) { tj.Normalizer.Type = "NFKC" },
		"model":      func(tj *tokenizerJSON) { tj.Model.ByteFallback = true },
		"prefix":     func(tj *tokenizerJSON) { tj.PreTokenizer.Pretokenizers[1].AddPrefixSpc = true },
	}
	for name, breakIt := range bad {
		tj := good()
		breakIt(tj)
		if err := checkPipeline(tj); err == nil {
			t.Errorf("%s: changed pipeline accepted", name)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
