package tokenizer

import (
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"bulkgen/internal/nfc"
)

// normalize prepares text the way the reference tokenizer sees it: invalid
// UTF-8 replaced by U+FFFD, then NFC. It returns s itself when nothing
// changes, which is the common case and costs no allocation.
func normalize(s string) string {
	if nfc.Plain(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = replaceInvalid(s)
	}
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// replaceInvalid decodes s like the WHATWG Encoding Standard's UTF-8
// decoder (JavaScript's TextDecoder, also Python's errors="replace"): each
// maximal subpart of an ill-formed sequence becomes one U+FFFD. A truncated
// three-byte character "\xe4\xb8" is one U+FFFD, where ranging over the
// string in Go would give two; the reference vectors depend on the
// difference.
func replaceInvalid(s string) string {
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		if r, w := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || w > 1 {
			out = append(out, s[i:i+w]...)
			i += w
			continue
		}
		out = utf8.AppendRune(out, utf8.RuneError)
		i += maximalSubpart(s[i:])
	}
	return string(out)
}

// maximalSubpart returns how many bytes at the start of s (which does not
// start with a valid character) the decoder consumes for one U+FFFD: a
// valid lead byte and the continuation bytes that could still complete it,
// or just one byte.
func maximalSubpart(s string) int {
	c := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(s); k++ {
		b := s[n]
		if b < lo || b > hi {
			break
		}
		n++
		lo, hi = 0x80, 0xBF
	}
	return n
}
