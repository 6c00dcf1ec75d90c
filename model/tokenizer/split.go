package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Cutting long pieces between characters that no token spans.
//
// A Chinese clause is one pre-tokenisation piece of tens of characters, and
// such clauses rarely repeat, so the piece cache does not help them and
// each costs a full BPE run. But BPE inside the clause can be split
// exactly. Take adjacent characters a and b that both start as atoms
// (atoms.go: each becomes its own token before any neighbour touches its
// bytes). Any merge across the boundary between them joins a part that
// ends with all of a and a part that starts with all of b, so its result
// contains the bytes of a followed by the bytes of b. If no token in the
// vocabulary contains that byte string, no merge ever crosses the
// boundary; pairs across it never merge, so the merges on either side are
// exactly those of BPE on that side alone (equal ranks on both sides are
// the same merge and commute). The tokens of the piece are then the tokens
// of the left part followed by those of the right.
//
// crossable records, for every pair of adjacent multi-byte characters
// that occurs inside some token, a bit in a small filter. A false positive
// only leaves a cut out; a pair that occurs is never missed. Cut this way,
// a clause falls into short, word-like runs that repeat and hit the piece
// cache. TestSplitAgreesWithBPE compares the result with BPE over whole
// pieces.

const crossBits = 20 // 2^20 bits (128 KiB) for about 20,000 pairs: ~2% false positives

func crossSlot(a, b rune) (word, bit uint64) {
	h := ((uint64(a)<<21 | uint64(b)) * 0x9E3779B97F4A7C15) >> (64 - crossBits)
	return h >> 6, 1 << (h & 63)
}

// crossableTable builds the filter from the regular tokens' bytes.
func (t *Tokenizer) crossableTable() []uint64 {
	f := make([]uint64, 1<<crossBits/64)
	for id := 256; id < t.nRegular; id++ {
		b := t.regularBytes(id)
		for i := 0; i < len(b); i++ {
			r1, w1 := utf8.DecodeRune(b[i:])
			if w1 < 2 { // ASCII or not a whole character (U+FFFD itself counts)
				continue
			}
			r2, w2 := utf8.DecodeRune(b[i+w1:])
			if w2 < 2 {
				continue
			}
			w, bit := crossSlot(r1, r2)
			f[w] |= bit
		}
	}
	return f
}

// mayCross reports whether some token may contain character a followed by
// character b.
func (t *Tokenizer) mayCross(a, b rune) bool {
	w, bit := crossSlot(a, b)
	return t.crossable[w]&bit != 0
}

// atomAt returns the token the multi-byte character r (w bytes) at
// piece[i] starts BPE as, and whether it is an atom there: its entry
// allows the classes of its neighbours in the piece.
func (t *Tokenizer) atomAt(piece string, i int, r rune, w int) (int32, bool) {
	if int(r) >= len(t.atom) {
		return 0, false
	}
	e := t.atom[r]
	if e == 0 {
		return 0, false
	}
	var need uint32
	if i > 0 {
		need = okLeftMulti
		if piece[i-1] < utf8.RuneSelf {
			need = okLeftASCII
		}
	}
	if i+w < len(piece) {
		if piece[i+w] < utf8.RuneSelf {
			need |= okRightASCII
		} else {
			need |= okRightMulti
		}
	}
	return int32(e & atomToken), e&need == need
}

// countSplit counts a normalised piece as the runs between its cuts.
func (t *Tokenizer) countSplit(sc *scratch, piece string) int {
	// Cuts fall between multi-byte characters only: an ASCII piece (an
	// English word, a number, punctuation) is one run. Most pieces are,
	// and this tight loop finds it faster than the one below.
	ascii := true
	for i := 0; i < len(piece); i++ {
		if piece[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		sc.runs++
		return t.countRun(sc, piece)
	}
	n, start := 0, 0
	var prev rune
	prevAtom := false
	var ids [2]int32 // the run's first atoms
	atoms := 0       // runes in the run so far if all are atoms, else -1
	for i := 0; i < len(piece); {
		if piece[i] < utf8.RuneSelf {
			prevAtom, atoms = false, -1
			i++
			continue
		}
		var r rune
		w := 3
		if c := piece[i]; c >= 0xE0 && c < 0xF0 { // most multi-byte text: decoded here, not by a call
			r = rune3(piece, i)
		} else {
			r, w = runeAtMulti(piece, i)
		}
		id, atom := t.atomAt(piece, i, r, w)
		if atom && prevAtom && !t.mayCross(prev, r) {
			n += t.countAtoms(sc, piece[start:i], ids, atoms)
			start, atoms = i, 0
		}
		switch {
		case !atom:
			atoms = -1
		case atoms >= 0 && atoms < len(ids):
			ids[atoms] = id
			atoms++
		case atoms >= 0:
			atoms++
		}
		prev, prevAtom = r, atom
		i += w
	}
	return n + t.countAtoms(sc, piece[start:], ids, atoms)
}

// countAtoms counts a run whose runes are atoms (atoms of them, the first
// two ids; atoms is -1 when some rune is not): one atom is one token, two
// are one token if they merge and two if not, and longer runs go to
// countRun. Short runs are most of a Chinese clause, and this spares them
// the piece cache's hashing.
func (t *Tokenizer) countAtoms(sc *scratch, run string, ids [2]int32, atoms int) int {
	sc.runs++
	switch atoms {
	case 1:
		return 1
	case 2:
		if sc.lookup(t, ids[0], ids[1]) == noMerge {
			return 2
		}
		return 1
	}
	return t.countRun(sc, run)
}

// countRun counts one run of a piece: remembered when short, else by BPE.
func (t *Tokenizer) countRun(sc *scratch, run string) int {
	if len(run) == 1 {
		return 1 // every single byte is a token
	}
	if len(run) > pieceCacheMax {
		sc.out = t.bpe(sc, run, sc.out[:0])
		return len(sc.out)
	}
	if c, ok := sc.pieceCount[run]; ok {
		return int(c)
	}
	sc.out = t.bpe(sc, run, sc.out[:0])
	n := len(sc.out)
	sc.remember(run, n)
	return n
}

// remember stores the count of a piece or run in the piece cache.
func (sc *scratch) remember(piece string, n int) {
	if sc.pieceCount == nil {
		sc.pieceCount = make(map[string]int32, pieceCacheSize)
	} else if len(sc.pieceCount) >= pieceCacheSize {
		clear(sc.pieceCount) // keeps the buckets: no garbage
	}
	// Clone: the key must not pin the caller's (maybe huge) text.
	sc.pieceCount[strings.Clone(piece)] = int32(n)
}
