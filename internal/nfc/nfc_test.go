package nfc

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Plain skips the general NFC check; everything it accepts must be a
// starter that composes with nothing on either side.
func TestPlainIsSound(t *testing.T) {
	accepted := 0
	for r := rune(0x80); r < 0x10000; r++ {
		s := string(r)
		if !utf8.ValidRune(r) || !Plain(s) {
			continue
		}
		accepted++
		p := norm.NFC.PropertiesString(s)
		if p.CCC() != 0 || !p.BoundaryBefore() || !p.BoundaryAfter() || !norm.NFC.IsNormalString(s) {
			t.Fatalf("Plain accepts %U, which NFC may change or combine", r)
		}
	}
	if accepted < 20000 {
		t.Errorf("Plain accepts only %d characters", accepted)
	}
	// It also vouches for valid UTF-8: truncated and broken sequences of
	// the lead bytes it accepts are refused.
	for _, s := range []string{"e\u0301", "\u3099", "\u302a", "\uf900", "é", "\u2000", "\u2001", "\u20d0",
		"\xe4\xb8", "\xe4", "\xe4\xb8a", "\xe4a\xad", "\xe4\xb8\xc0", "\xe3\x80", "\xe3\x80\x41", "\xef\xbc\x01", "a\xe2\x80"} {
		if Plain(s) {
			t.Errorf("Plain(%q) = true", s)
		}
	}
}
