package translate

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CellKind is what the container says about a cell before its text is
// looked at. Readers of CSV and JSONL only ever have [KindText]; an XLSX
// caller maps excelize's cell types onto it.
type CellKind int

const (
	// KindText is a string cell, or any value of a format without types.
	KindText CellKind = iota
	// KindNumber is a numeric cell, including dates and times that Excel
	// stores as serial numbers with a date format.
	KindNumber
	// KindFormula is a cell with a formula; its text is a computed result,
	// and overwriting it would destroy the formula.
	KindFormula
	// KindOther is a boolean or error cell.
	KindOther
)

// Reason says why a cell is not sent to the model; the empty Reason means
// "translate it". The values are short words meant for a run summary
// ("412 cells skipped: 300 number, 80 code, 32 url").
type Reason string

// The reasons [Skipper.Skip] returns, in the order it checks them.
const (
	Translate      Reason = ""
	ReasonFormula  Reason = "formula"
	ReasonNumber   Reason = "number" // a numeric cell, or text that reads as a number
	ReasonNotText  Reason = "not-text"
	ReasonEmpty    Reason = "empty"
	ReasonDate     Reason = "date" // a date or time written as text
	ReasonURL      Reason = "url"
	ReasonEmail    Reason = "email"
	ReasonCode     Reason = "code" // SKUs, IDs, UUIDs: see SkipOptions.CodePattern
	ReasonNoLetter Reason = "no-letters"
	// ReasonOtherScript is a cell without a single letter of the source
	// language's script, e.g. an English brand name in a --from zh sheet.
	ReasonOtherScript Reason = "other-script"
)

// DefaultCodePattern matches codes that a translator must leave alone:
// upper-case letters and digits with - _ . / # : between them and at least
// one digit ("SKU-2024-0012", "AB12345", "4K", "A1"), UUIDs and hex colours.
// All-caps words without a digit ("USB", "NEW") are not codes: they are
// often labels that do need translating.
const DefaultCodePattern = `^(?:[0-9]|[A-Z][A-Z0-9\-_./#:]*[0-9])[A-Z0-9\-_./#:]*$` +
	`|^(?i:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$` +
	`|^#(?i:[0-9a-f]{3}|[0-9a-f]{6})$`

// SkipOptions configures a [Skipper].
type SkipOptions struct {
	// From is the source language code ("zh", "en", ...). When set, a cell
	// needs at least one letter of that language's script to be sent (Han
	// for zh; Latin for en, fr, de, ...). Empty means auto-detect, and then
	// only cells without any letter are skipped.
	From string
	// CodePattern replaces DefaultCodePattern; it is matched against the
	// trimmed cell. "-" turns code detection off.
	CodePattern string
}

// Skipper decides which cells need translation. It is safe for concurrent
// use.
type Skipper struct {
	scripts []*unicode.RangeTable // nil: any script counts
	code    *regexp.Regexp        // nil: no code detection
	// codeNeeds, when set, is what every match of code needs (known for
	// the default pattern only): a cell without it is not tried.
	codeNeeds func(string) bool
	// Whether ASCII letters and CJK Unified Ideographs (U+4E00–U+9FFF) are
	// of the source scripts: the letters of nearly every cell, answered
	// without a search of the tables.
	latin, han bool
}

// inScripts reports whether the letter r is of the source scripts.
func (s *Skipper) inScripts(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return s.latin
	case r >= 0x4E00 && r <= 0x9FFF:
		return s.han
	}
	return unicode.In(r, s.scripts...)
}

// NewSkipper checks opts and compiles the code pattern. An unknown From
// or a pattern that does not compile is an error saying which option to fix.
func NewSkipper(opts SkipOptions) (*Skipper, error) {
	s := &Skipper{}
	if opts.From != "" {
		if _, err := LanguageName(opts.From); err != nil {
			return nil, fmt.Errorf("source language: %w", err)
		}
		s.scripts = scriptsOf(opts.From)
		s.latin, s.han = unicode.In('a', s.scripts...), unicode.In('中', s.scripts...)
	}
	switch opts.CodePattern {
	case "-":
	case "":
		s.code, s.codeNeeds = defaultCode, isPrintableASCII
	default:
		re, err := regexp.Compile(opts.CodePattern)
		if err != nil {
			return nil, fmt.Errorf("code pattern %q: %w", opts.CodePattern, err)
		}
		s.code = re
	}
	return s, nil
}

var (
	defaultCode = regexp.MustCompile(DefaultCodePattern)

	// number: optional sign, currency symbol or ISO code ("USD 12",
	// "12 EUR"; the space keeps "ABC123" a code) before or after,
	// thousands separators (, . space ' and the narrow spaces), decimals,
	// exponent, percent or per mille, accounting parentheses. Full-width
	// digits count because CJK sheets use them.
	numberRE = regexp.MustCompile(`^[-+−]?\(?[-+−]?(?:[$€£¥￥₩₹₽฿₫]\s?|[A-Z]{3}\s)?` +
		`(?:[0-9０-９]{1,3}(?:[,.'\s\x{00A0}\x{202F}][0-9０-９]{3})+|[0-9０-９]+)(?:[.,][0-9０-９]+)?` +
		`(?:[eE][-+]?[0-9]+)?(?:\s?(?:%|％|‰|[$€£¥￥₩₹₽฿₫])|\s[A-Z]{3})?\)?$`)

	// date and time as text: 2025-03-12, 2025/3/12, 12.03.2025, 3/12/25,
	// ISO 8601 date-times, 12:30, 12:30:45, 9:05 PM.
	dateRE = regexp.MustCompile(`^(?:` +
		`[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}` +
		`|[0-9]{1,2}[-/.][0-9]{1,2}[-/.](?:[0-9]{4}|[0-9]{2})` +
		`)(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$` +
		`|^[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:\s?(?i:[ap]\.?m\.?))?$`)

	// url: a scheme, or www., or a lower-case host name with a dot and a
	// top-level domain (so "Mr.Smith" and "e.g." are not URLs).
	urlRE = regexp.MustCompile(`^(?i:(?:https?|ftp|file)://\S+|www\.\S+\.\S+)$` +
		`|^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}(?::[0-9]+)?(?:/\S*)?$`)

	emailRE = regexp.MustCompile(`^(?i:mailto:)?[^\s@]+@[^\s@]+\.[^\s@]{2,}$`)
)

// Skip reports whether a cell needs no model call and why. kind comes from
// the container (see [CellKind]); text is the cell's text. The checks run in
// the order of the Reason constants, so a formula is reported as "formula"
// even when its result is empty. Translate ("") means the cell must be sent.
func (s *Skipper) Skip(text string, kind CellKind) Reason {
	switch kind {
	case KindFormula:
		return ReasonFormula
	case KindNumber:
		return ReasonNumber
	case KindOther:
		return ReasonNotText
	}
	t := strings.TrimSpace(text)
	// Each pattern is tried only when the cell has what every match of it
	// needs, found with a scan for a byte: most cells are prose, and
	// Go's matcher walks a whole cell before it fails (about 10 µs for a
	// 100-byte review, which made estimating a big translation slow).
	switch {
	case t == "":
		return ReasonEmpty
	case numberStart(t) && hasDigit(t) && numberRE.MatchString(t):
		return ReasonNumber
	case t[0] >= '0' && t[0] <= '9' && dateRE.MatchString(t):
		return ReasonDate
	case urlStart(t[0]) && (strings.IndexByte(t, '.') >= 0 || strings.Contains(t, "://")) && urlRE.MatchString(t):
		return ReasonURL
	case strings.IndexByte(t, '@') >= 0 && emailRE.MatchString(t):
		return ReasonEmail
	case s.code != nil && (s.codeNeeds == nil || s.codeNeeds(t)) && s.code.MatchString(t):
		return ReasonCode
	}
	hasLetter, hasSource := false, s.scripts == nil
	for _, r := range t {
		if !unicode.IsLetter(r) {
			continue
		}
		hasLetter = true
		if !hasSource && s.inScripts(r) {
			hasSource = true
		}
		if hasSource {
			break
		}
	}
	switch {
	case !hasLetter:
		return ReasonNoLetter
	case !hasSource:
		return ReasonOtherScript
	}
	return Translate
}

// hasDigit reports whether s has an ASCII or a full-width digit (０–９,
// U+FF10–U+FF19, encoded EF BC 90–99), which numberRE needs.
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			return true
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99:
			return true
		}
	}
	return false
}

// isPrintableASCII reports whether s is all printable ASCII without
// spaces, as every match of DefaultCodePattern is.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7F {
			return false
		}
	}
	return true
}

// numberStart reports whether s starts with a rune a match of numberRE can
// start with: a sign, a parenthesis, a currency symbol, an ISO code's
// capital or a digit.
func numberStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	switch {
	case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r >= '０' && r <= '９':
		return true
	}
	return strings.ContainsRune("-+−($€£¥￥₩₹₽฿₫", r)
}

// urlStart reports whether c is an ASCII letter, digit or '-': what a
// match of urlRE starts with.
func urlStart(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '-'
}
