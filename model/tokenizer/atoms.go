package tokenizer

import "unicode/utf8"

// Pre-merged characters.
//
// BPE starts from single bytes, so a Chinese character costs three parts
// and two merges before the interesting merges (between characters) can
// start. For most characters the outcome of those first merges is fixed
// in advance, which lets BPE start from the character's token instead.
// The argument:
//
//  1. Ranks are ids, and a merged token's id is larger than the ids of its
//     two parts (internal/gen checks this). A merge at rank r only creates
//     pairs whose merge result contains the new token, so their rank is
//     above r: merges happen in increasing rank order.
//  2. Take a character c whose bytes, tokenised alone, merge into a single
//     token T. Inside a longer piece, c's own merges can be disturbed only
//     by a merge between a neighbour p and c's current first part X,
//     (p, X), or between c's current last part Y and a neighbour q, (Y, q).
//     If every such merge ranks above the internal merge that consumes X
//     (or Y), then by (1) none can happen while X (or Y) exists: c becomes
//     T at exactly the step it would alone.
//  3. Every merge involving T itself ranks above T, so starting from T
//     leaves all other merges, and their order, unchanged.
//
// In valid UTF-8 the neighbour p ends with the last byte of the previous
// character, ASCII or a continuation byte, and q starts with the first
// byte of the next one, ASCII or a lead byte. Condition 2 is checked for
// each class of neighbour separately, because it fails far more often
// next to ASCII (merges such as " " + lead byte are early) than next to
// another multi-byte character.
//
// The tests compare the shortcut with plain byte-level BPE on all vectors
// and on the benchmark text.

// An atom entry is the token a character starts as, plus the neighbour
// classes for which that is safe; 0 means never.
const (
	atomToken      = 1<<idBits - 1
	okLeftASCII    = 1 << 24 // previous character is ASCII
	okLeftMulti    = 1 << 25 // previous character is multi-byte
	okRightASCII   = 1 << 26 // next character is ASCII
	okRightMulti   = 1 << 27 // next character is multi-byte
	neighbourASCII = 0
	neighbourMulti = 1
)

// atomTable computes the atom entries of every character of the Basic
// Multilingual Plane.
func (t *Tokenizer) atomTable() []uint32 {
	// minAsRight[k][X] is the lowest rank of a merge (p, X) where p can
	// end a character of class k; minAsLeft[k][X] the lowest of (X, q)
	// where q can start one.
	var minAsRight, minAsLeft [2][]int32
	for k := range 2 {
		minAsRight[k] = make([]int32, t.nRegular)
		minAsLeft[k] = make([]int32, t.nRegular)
		for i := range t.nRegular {
			minAsRight[k][i], minAsLeft[k][i] = noMerge, noMerge
		}
	}
	for id := int32(256); int(id) < t.nRegular; id++ {
		l, r := t.mergeParts[id-256][0], t.mergeParts[id-256][1]
		lb := t.regularBytes(int(l))
		switch last := lb[len(lb)-1]; {
		case last < utf8.RuneSelf:
			minAsRight[neighbourASCII][r] = min(minAsRight[neighbourASCII][r], id)
		case last < 0xC0: // continuation byte
			minAsRight[neighbourMulti][r] = min(minAsRight[neighbourMulti][r], id)
		}
		switch first := t.regularBytes(int(r))[0]; {
		case first < utf8.RuneSelf:
			minAsLeft[neighbourASCII][l] = min(minAsLeft[neighbourASCII][l], id)
		case first >= 0xC0: // lead byte
			minAsLeft[neighbourMulti][l] = min(minAsLeft[neighbourMulti][l], id)
		}
	}

	atom := make([]uint32, 0x10000)
	var buf [utf8.UTFMax]byte
	parts := make([]int32, 0, utf8.UTFMax)
	for r := rune(utf8.RuneSelf); r < 0x10000; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		parts = parts[:0]
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			parts = append(parts, t.byteToken[b])
		}
		ok := [4]bool{true, true, true, true} // left ASCII, left multi, right ASCII, right multi
		for len(parts) > 1 {
			best, at := noMerge, -1
			for i := 0; i+1 < len(parts); i++ {
				if m := t.pairs.lookup(parts[i], parts[i+1]); m < best {
					best, at = m, i
				}
			}
			if at < 0 {
				break // does not become one token
			}
			if at == 0 { // consumes the first part
				ok[0] = ok[0] && minAsRight[neighbourASCII][parts[0]] > best
				ok[1] = ok[1] && minAsRight[neighbourMulti][parts[0]] > best
			}
			if at+2 == len(parts) { // consumes the last part
				ok[2] = ok[2] && minAsLeft[neighbourASCII][parts[at+1]] > best
				ok[3] = ok[3] && minAsLeft[neighbourMulti][parts[at+1]] > best
			}
			parts[at] = best
			parts = append(parts[:at+1], parts[at+2:]...)
		}
		if len(parts) != 1 {
			continue
		}
		e := uint32(parts[0])
		for i, bit := range []uint32{okLeftASCII, okLeftMulti, okRightASCII, okRightMulti} {
			if ok[i] {
				e |= bit
			}
		}
		atom[r] = e
	}
	return atom
}
