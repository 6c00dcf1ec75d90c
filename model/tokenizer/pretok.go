package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// This file splits text into the pieces BPE runs on. The Qwen tokenizer
// defines them with the regular expression
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// Go's regexp has no look-ahead for (?!\S), and a backtracking engine would
// be slow, so nextPiece walks the alternatives by hand, in order, exactly as
// a leftmost-first backtracking engine would try them.
//
// Character classes follow the JavaScript engine the reference vectors come
// from (transformers.js / @lenml/tokenizers under node): \s is ECMAScript
// white space (see isSpace), the contractions are ASCII-case-insensitive,
// and \p{L} / \p{N} come from unicode_tables.go, generated from node's
// Unicode 17.0 tables, because Go's own unicode package (15.0) lacks the
// letters and digits assigned since.

// Rune classes. Every rune is exactly one of them.
const (
	clsOther   = iota // not a letter, number or white space
	clsLetter         // \p{L}
	clsNumber         // \p{N}
	clsSpace          // \s other than \r and \n
	clsNewline        // \r or \n
)

// isSpace reports ECMAScript's \s: the Unicode Zs category plus tab, line
// feed, vertical tab, form feed, carriage return, U+2028, U+2029 and U+FEFF.
// It differs from Go's unicode.IsSpace (which has U+0085 and not U+FEFF).
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r',
		0x00A0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// class returns the class of r: from bmpClass in the Basic Multilingual
// Plane, where nearly all text is, else from the tables.
func class(r rune) uint8 {
	if uint32(r) < uint32(len(bmpClass)) {
		return bmpClass[r]
	}
	return classOf(r)
}

// bmpClass holds the class of every rune below U+10000 (64 KiB). It is
// built once from the Unicode tables and never changes.
var bmpClass = func() *[0x10000]uint8 {
	var t [0x10000]uint8
	for r := range rune(len(t)) {
		t[r] = classOf(r)
	}
	return &t
}()

// classOf computes the class of r from the Unicode tables.
func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			return clsLetter
		case r >= '0' && r <= '9':
			return clsNumber
		case r == '\r' || r == '\n':
			return clsNewline
		case r == ' ', r >= '\t' && r <= '\f':
			return clsSpace
		}
		return clsOther
	}
	switch {
	case unicode.Is(letterTable, r):
		return clsLetter
	case unicode.Is(numberTable, r):
		return clsNumber
	case isSpace(r):
		return clsSpace
	}
	return clsOther
}

// runeAt decodes the rune at s[i]. s must be valid UTF-8 (normalised, see
// normalize): the lead byte alone says how long the character is, which
// spares the checks of utf8.DecodeRuneInString on the hottest path.
func runeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return runeAtMulti(s, i)
}

// rune3 decodes the three-byte character at s[i] (most of CJK text); it is
// small enough to be inlined into the loops that run per character.
func rune3(s string, i int) rune {
	return rune(s[i]&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
}

// runeAtMulti is runeAt for a multi-byte character.
func runeAtMulti(s string, i int) (rune, int) {
	c := s[i]
	switch {
	case c < 0xE0:
		return rune(c&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case c < 0xF0:
		return rune3(s, i), 3
	}
	return rune(c&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F), 4
}

// nextPiece returns the end of the piece that starts at s[i] (i < len(s)).
func nextPiece(s string, i int) int {
	r, w := runeAt(s, i)
	if r == '\'' {
		if n := contraction(s[i+1:]); n > 0 {
			return i + 1 + n
		}
	}
	c := class(r)
	switch c {
	case clsLetter: // [^\r\n\p{L}\p{N}]?\p{L}+ with the optional part empty
		return skipClass(s, i+w, clsLetter)
	case clsNumber: // \p{N}
		return i + w
	case clsNewline: // only the white-space alternatives can start here
		return spaceRun(s, i)
	}
	// c is clsOther or clsSpace: a one-rune prefix before letters?
	j := i + w
	if j < len(s) {
		r2, w2 := runeAt(s, j)
		if class(r2) == clsLetter {
			return skipClass(s, j+w2, clsLetter)
		}
		// " ?[^\s\p{L}\p{N}]+[\r\n]*" with the optional space present.
		if r == ' ' && class(r2) == clsOther {
			return skipClass(s, skipClass(s, j+w2, clsOther), clsNewline)
		}
	}
	if c == clsOther { // " ?[^\s\p{L}\p{N}]+[\r\n]*" without the space
		return skipClass(s, skipClass(s, j, clsOther), clsNewline)
	}
	return spaceRun(s, i)
}

// skipClass returns the end of the run of runes of class c from s[i].
// (runeAt is written out for the common one- and three-byte characters:
// this loop runs once per character of nearly all text.)
func skipClass(s string, i int, c uint8) int {
	for i < len(s) {
		var r rune
		w := 1
		switch b := s[i]; {
		case b < utf8.RuneSelf:
			r = rune(b)
		case b >= 0xE5 && b <= 0xE9 && c == clsLetter:
			// U+5000–U+9FFF: CJK ideographs, all letters, no need to
			// decode.
			i += 3
			continue
		case b >= 0xE0 && b < 0xF0:
			r, w = rune3(s, i), 3
		default:
			r, w = runeAtMulti(s, i)
		}
		if class(r) != c {
			break
		}
		i += w
	}
	return i
}

// spaceRun handles the three white-space alternatives at s[i], which is
// white space:
//
//	\s*[\r\n]+   up to and including the last \r or \n of the run
//	\s+(?!\S)    the run, less its last rune when a non-space follows
//	\s+          a single white-space rune before a non-space
func spaceRun(s string, i int) int {
	end, afterNL, lastStart := i, -1, i
	for end < len(s) {
		r, w := runeAt(s, end)
		if !isSpace(r) {
			break
		}
		lastStart = end
		end += w
		if r == '\r' || r == '\n' {
			afterNL = end
		}
	}
	switch {
	case afterNL > 0:
		return afterNL
	case end == len(s):
		return end
	case lastStart > i:
		return lastStart
	}
	return end
}

// contraction returns the length of 's 't 're 've 'm 'll 'd (without the
// apostrophe) at the start of s, or 0. Only ASCII letters count, in either
// case: that is how transformers.js rewrites the (?i:...) group for
// JavaScript. (b|0x20 folds an ASCII upper-case letter to lower case and
// maps no other byte onto a lower-case letter.)
func contraction(s string) int {
	if len(s) == 0 {
		return 0
	}
	second := func(want byte) int {
		if len(s) > 1 && s[1]|0x20 == want {
			return 2
		}
		return 0
	}
	switch s[0] | 0x20 {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		return second('e')
	case 'l':
		return second('l')
	}
	return 0
}
