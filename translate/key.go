package translate

import (
	"strings"

	"golang.org/x/text/unicode/norm"

	"bulkgen/internal/nfc"
)

// Key returns the deduplication key of a cell: its text trimmed and in
// Unicode NFC, so " 商品" and "商品", or "é" typed as e + combining accent
// and as one rune, are translated once. Inner whitespace and case are kept:
// "a  b" and "A b" may well need different translations.
func Key(cell string) string {
	t := strings.TrimSpace(cell)
	if nfc.Plain(t) {
		return t // most cells: spares the general check
	}
	return norm.NFC.String(t)
}

// KeepSpace returns translation with the leading and trailing whitespace of
// orig, so a translation shared through [Key] fits each cell it goes back to.
func KeepSpace(orig, translation string) string {
	core := strings.TrimSpace(orig)
	if core == "" {
		return orig
	}
	lead := orig[:strings.Index(orig, core)]
	trail := orig[len(lead)+len(core):]
	return lead + strings.TrimSpace(translation) + trail
}
