// Package nfc answers, fast, whether text is certainly valid UTF-8 in
// Unicode NFC made of characters that never compose with a neighbour,
// which is what most Chinese and English text is. Callers that must
// normalise (the tokenizer, translation's cell keys) skip
// golang.org/x/text's general check, which looks each character up in
// its tables, when it says yes.
package nfc

import "unicode/utf8"

// Plain is a fast sufficient test for valid UTF-8 in NFC, one pass
// over s: it reports whether s consists only of characters that are NFC
// starters which never compose with a neighbour: ASCII, U+4000–U+9FFF (CJK
// ideographs, Yijing hexagrams), U+3000–U+3029 and U+3030–U+303F (CJK
// punctuation, without the combining tone marks U+302A–U+302F),
// U+2002–U+207F (general punctuation such as “ ” — …, without U+2000 and
// U+2001, which NFC replaces, and U+2017 and U+203E, which x/text does not
// mark as boundaries) and U+FF00–U+FF7F (full-width forms), each well
// formed. That covers most Chinese and English text in a fraction of the
// time of the general checks.
func Plain(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		if i+2 >= len(s) || (s[i+1]^0x80)|(s[i+2]^0x80) >= 0x40 {
			return false // not a complete three-byte sequence
		}
		switch {
		case c >= 0xE4 && c <= 0xE9:
		case c == 0xE3 && s[i+1] == 0x80 && (s[i+2] < 0xAA || s[i+2] > 0xAF):
		case c == 0xE2 && s[i+1] == 0x81,
			c == 0xE2 && s[i+1] == 0x80 && s[i+2] >= 0x82 && s[i+2] != 0x97 && s[i+2] != 0xBE:
		case c == 0xEF && (s[i+1] == 0xBC || s[i+1] == 0xBD):
		default:
			return false
		}
		i += 3
	}
	return true
}
