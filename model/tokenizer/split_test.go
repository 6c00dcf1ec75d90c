package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// Counting a piece in runs cut between characters that no token spans
// (split.go) must give exactly the count of BPE over the whole piece. The
// text is built to make cuts hard: whole multi-byte tokens of the
// vocabulary glued together (so that pairs inside tokens meet at the
// seams), characters from every script the vocabulary has, U+FFFD, and
// ASCII and punctuation between them.
func TestSplitAgreesWithBPE(t *testing.T) {
	tok := qwen(t)
	var words []string // multi-byte tokens that are whole characters
	var chars []rune
	seen := map[rune]bool{}
	for id := 256; id < tok.nRegular; id++ {
		b := tok.regularBytes(id)
		if !utf8.Valid(b) || len(b) < 2 {
			continue
		}
		s := string(b)
		if strings.IndexFunc(s, func(r rune) bool { return r < utf8.RuneSelf }) < 0 {
			words = append(words, s)
		}
		for _, r := range s {
			if r >= utf8.RuneSelf && !seen[r] {
				seen[r] = true
				chars = append(chars, r)
			}
		}
	}
	extra := []string{"\ufffd", "，", "。", " ", "a", "1", "😀", "👍🏽", "é", "\u3000", "ー", "、"}
	r := rand.New(rand.NewPCG(3, 5))
	pieces, cuts := 0, 0
	for range 5000 {
		var b strings.Builder
		for n := 1 + r.IntN(12); n > 0; n-- {
			switch k := r.IntN(10); {
			case k < 6:
				b.WriteString(words[r.IntN(len(words))])
			case k < 9:
				b.WriteRune(chars[r.IntN(len(chars))])
			default:
				b.WriteString(extra[r.IntN(len(extra))])
			}
		}
		text := normalize(b.String())
		for i := 0; i < len(text); {
			end := nextPiece(text, i)
			piece := text[i:end]
			i = end
			want := len(tok.bpe(&scratch{}, piece, nil))
			sc := &scratch{}
			if got := tok.countSplit(sc, piece); got != want {
				t.Fatalf("piece %q: %d tokens in runs, %d by BPE over the whole piece", piece, got, want)
			}
			pieces++
			cuts += sc.runs - 1
		}
	}
	if cuts < pieces/4 {
		t.Errorf("%d pieces were cut only %d times: the cut is not doing its job", pieces, cuts)
	}
}

// The filter holds every pair of characters that meets inside a token.
func TestCrossableHasEveryPairInATokens(t *testing.T) {
	tok := qwen(t)
	for _, w := range []string{"我们", "阿里巴巴", "通义千问", "人工智能", "一个"} {
		if len(tok.Encode(w)) != 1 {
			continue // not a single token in this vocabulary
		}
		rs := []rune(w)
		for i := 0; i+1 < len(rs); i++ {
			if !tok.mayCross(rs[i], rs[i+1]) {
				t.Errorf("%q is one token, but the pair %q%q is not in the filter", w, rs[i], rs[i+1])
			}
		}
	}
}
