package translate

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// language describes one source or target language: the English name used
// in prompts and the scripts whose letters count as text of that language
// (see [Skipper]).
type language struct {
	name    string
	scripts []*unicode.RangeTable
}

// languages are the codes the tool knows by name. Prompts name languages in
// English because the models follow English instructions most reliably,
// whatever the language pair.
var languages = map[string]language{
	"en": {"English", latin},
	"zh": {"Simplified Chinese", []*unicode.RangeTable{unicode.Han, unicode.Bopomofo}},
	"ja": {"Japanese", []*unicode.RangeTable{unicode.Han, unicode.Hiragana, unicode.Katakana}},
	"ko": {"Korean", []*unicode.RangeTable{unicode.Hangul, unicode.Han}},
	"fr": {"French", latin},
	"de": {"German", latin},
	"es": {"Spanish", latin},
	"ru": {"Russian", []*unicode.RangeTable{unicode.Cyrillic}},
	"pt": {"Portuguese", latin},
	"it": {"Italian", latin},
	"vi": {"Vietnamese", latin},
	"th": {"Thai", []*unicode.RangeTable{unicode.Thai}},
	"id": {"Indonesian", latin},
	"ar": {"Arabic", []*unicode.RangeTable{unicode.Arabic}},
}

var latin = []*unicode.RangeTable{unicode.Latin}

// traditional are the region and script subtags that turn "zh" into
// Traditional Chinese. Getting this wrong is the one language mix-up users
// of a zh target notice immediately, so it is handled explicitly.
var traditional = []string{"hant", "tw", "hk", "mo"}

// Languages returns the known language codes, sorted, for help texts and
// error messages.
func Languages() []string {
	codes := make([]string, 0, len(languages))
	for c := range languages {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

// LanguageName returns the English name of a language code for prompts:
// "zh" → "Simplified Chinese", "zh-TW" → "Traditional Chinese", "pt-BR" →
// "Portuguese". Codes are case-insensitive and may carry a region or script
// subtag ("-" or "_"). An unknown code is an error that lists the known
// ones; the empty code is an error too (callers decide what "auto" means).
func LanguageName(code string) (string, error) {
	base, sub := splitCode(code)
	l, ok := languages[base]
	if !ok {
		return "", fmt.Errorf("unknown language %q: use one of %s", code, strings.Join(Languages(), ", "))
	}
	if base == "zh" && slices.Contains(traditional, sub) {
		return "Traditional Chinese", nil
	}
	return l.name, nil
}

// splitCode lowercases code and splits it into the base language and the
// first subtag: "zh-Hant-TW" → ("zh", "hant").
func splitCode(code string) (base, sub string) {
	code = strings.ToLower(strings.TrimSpace(code))
	code = strings.ReplaceAll(code, "_", "-")
	base, rest, _ := strings.Cut(code, "-")
	sub, _, _ = strings.Cut(rest, "-")
	return base, sub
}

// scriptsOf returns the scripts of a known language code, or nil.
func scriptsOf(code string) []*unicode.RangeTable {
	base, _ := splitCode(code)
	return languages[base].scripts
}
