package translate

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

func TestSkip(t *testing.T) {
	zh := mustSkipper(t, SkipOptions{From: "zh"})
	en := mustSkipper(t, SkipOptions{From: "en"})
	auto := mustSkipper(t, SkipOptions{})
	noCode := mustSkipper(t, SkipOptions{CodePattern: "-"})
	custom := mustSkipper(t, SkipOptions{CodePattern: `^[a-z]+-\d+$`})

	tests := []struct {
		s    *Skipper
		name string
		text string
		kind CellKind
		want Reason
	}{
		{auto, "formula wins over text", "商品", KindFormula, ReasonFormula},
		{auto, "formula with empty result", "", KindFormula, ReasonFormula},
		{auto, "numeric cell", "45000", KindNumber, ReasonNumber},
		{auto, "boolean cell", "TRUE", KindOther, ReasonNotText},
		{auto, "empty", "", KindText, ReasonEmpty},
		{auto, "whitespace", " \t\n\u3000", KindText, ReasonEmpty},
		{auto, "integer", "42", KindText, ReasonNumber},
		{auto, "negative", "-3", KindText, ReasonNumber},
		{auto, "unicode minus", "−3", KindText, ReasonNumber},
		{auto, "grouped decimal", "1,234.50", KindText, ReasonNumber},
		{auto, "european grouping", "1.234.567,89", KindText, ReasonNumber},
		{auto, "yen", "¥598.00", KindText, ReasonNumber},
		{auto, "fullwidth yen and digits", "￥５９８", KindText, ReasonNumber},
		{auto, "euro after", "12,50 €", KindText, ReasonNumber},
		{auto, "iso currency", "USD 1,200", KindText, ReasonNumber},
		{auto, "percent", "12%", KindText, ReasonNumber},
		{auto, "accounting negative", "(1,234)", KindText, ReasonNumber},
		{auto, "exponent", "1.5E+05", KindText, ReasonNumber},
		{auto, "padded number", "  7  ", KindText, ReasonNumber},
		{auto, "iso date", "2025-03-12", KindText, ReasonDate},
		{auto, "slash date", "2025/3/12", KindText, ReasonDate},
		{auto, "dotted date", "12.03.2025", KindText, ReasonDate},
		{auto, "us date", "3/12/25", KindText, ReasonDate},
		{auto, "iso date-time", "2025-03-12T10:00:00Z", KindText, ReasonDate},
		{auto, "time", "12:30", KindText, ReasonDate},
		{auto, "time with seconds", "12:30:45", KindText, ReasonDate},
		{auto, "time pm", "9:05 PM", KindText, ReasonDate},
		{auto, "https url", "https://example.com/a?b=c", KindText, ReasonURL},
		{auto, "www url", "www.taobao.com", KindText, ReasonURL},
		{auto, "bare domain", "shop.example.cn/item/1", KindText, ReasonURL},
		{auto, "email", "li.lei@example.com", KindText, ReasonEmail},
		{auto, "mailto", "mailto:a@b.org", KindText, ReasonEmail},
		{auto, "sku", "SKU-2024-0012", KindText, ReasonCode},
		{auto, "caps and digits", "AB12345", KindText, ReasonCode},
		{auto, "model number", "4K", KindText, ReasonCode},
		{auto, "uuid", "3F2504E0-4F89-11D3-9A0C-0305E82C3301", KindText, ReasonCode},
		{auto, "hex colour", "#ff8800", KindText, ReasonCode},
		{auto, "punctuation only", "——？！", KindText, ReasonNoLetter},
		{auto, "phone number", "+86 138 0000 0000", KindText, ReasonNoLetter},
		{auto, "emoji", "👍", KindText, ReasonNoLetter},
		{auto, "chinese", "红色连衣裙", KindText, Translate},
		{auto, "english", "Red dress", KindText, Translate},
		{auto, "all caps word is not a code", "NEW", KindText, Translate},
		{auto, "mixed-case product name", "iPhone15", KindText, Translate},
		{auto, "abbreviation is not a url", "e.g.", KindText, Translate},
		{auto, "name with dot is not a url", "Mr.Smith", KindText, Translate},
		{auto, "letters before digits is not a number", "ABC 12x", KindText, Translate},
		{auto, "price with han unit", "598元", KindText, Translate},
		{zh, "zh: chinese", "红色连衣裙 XL", KindText, Translate},
		{zh, "zh: one han character is enough", "Nike 女", KindText, Translate},
		{zh, "zh: latin only", "Nike Air Max", KindText, ReasonOtherScript},
		{zh, "zh: kana only", "ありがとう", KindText, ReasonOtherScript},
		{zh, "zh: han punctuation is not han", "“OK”。", KindText, ReasonOtherScript},
		{zh, "zh: numbers still numbers", "1,234", KindText, ReasonNumber},
		{en, "en: chinese only", "商品", KindText, ReasonOtherScript},
		{en, "en: accented latin", "Café", KindText, Translate},
		{noCode, "code detection off", "SKU-2024-0012", KindText, Translate},
		{custom, "custom pattern matches", "abc-12", KindText, ReasonCode},
		{custom, "custom pattern replaces the default", "AB12345", KindText, Translate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Skip(tt.text, tt.kind); got != tt.want {
				t.Errorf("Skip(%q, %d) = %q, want %q", tt.text, tt.kind, got, tt.want)
			}
		})
	}
}

func TestNewSkipperErrors(t *testing.T) {
	tests := []struct {
		opts SkipOptions
		want string
	}{
		{SkipOptions{From: "xx"}, `source language: unknown language "xx": use one of ar, de, en`},
		{SkipOptions{CodePattern: "("}, `code pattern "(": error parsing regexp`},
	}
	for _, tt := range tests {
		_, err := NewSkipper(tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSkipper(%+v) error = %v, want it to contain %q", tt.opts, err, tt.want)
		}
	}
}

func TestLanguageName(t *testing.T) {
	tests := []struct{ code, want string }{
		{"zh", "Simplified Chinese"},
		{"ZH-cn", "Simplified Chinese"},
		{"zh-TW", "Traditional Chinese"},
		{"zh_Hant_HK", "Traditional Chinese"},
		{"pt-BR", "Portuguese"},
		{"en", "English"},
		{"ar", "Arabic"},
	}
	for _, tt := range tests {
		got, err := LanguageName(tt.code)
		if err != nil || got != tt.want {
			t.Errorf("LanguageName(%q) = %q, %v; want %q", tt.code, got, err, tt.want)
		}
	}
	for _, code := range []string{"", "klingon"} {
		if _, err := LanguageName(code); err == nil {
			t.Errorf("LanguageName(%q): no error", code)
		}
	}
	if got := strings.Join(Languages(), ","); got != "ar,de,en,es,fr,id,it,ja,ko,pt,ru,th,vi,zh" {
		t.Errorf("Languages() = %s", got)
	}
}

func mustSkipper(t *testing.T, opts SkipOptions) *Skipper {
	t.Helper()
	s, err := NewSkipper(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// BenchmarkSkip runs the checks on a mix of cells that are sent and cells
// that are not; every cell of a sheet goes through Skip.
func BenchmarkSkip(b *testing.B) {
	s := mustSkipperB(b, SkipOptions{From: "zh"})
	cells := []string{"红色连衣裙，夏季新款", "1,234.50", "2025-03-12", "https://example.com", "SKU-2024-0012", "Nike Air Max", ""}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cells {
			s.Skip(c, KindText)
		}
	}
}

func mustSkipperB(b *testing.B, opts SkipOptions) *Skipper {
	s, err := NewSkipper(opts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// Skip tries each pattern only when the cell has something every match
// needs (a digit, a leading digit, a dot or "://", an @, only ASCII). Those
// guards must be necessary: on cells built from fragments the patterns
// care about, no pattern may match a cell its guard turns away.
func TestPatternGuardsAreNecessary(t *testing.T) {
	frags := []string{"0", "7", "１", "９", "12", "3.5", ",", ".", "'", "-", "+", "−", "(", ")", "$", "¥", "€", "%", "％",
		"USD", " EUR", "e9", "E", ":", "/", "T", "Z", " ", "\u00a0", "http", "://", "www", "com", "mailto:", "@", "a", "b",
		"AB", "SKU", "#", "fff", "_", "x", "商品", "价格", "é", "\t", "2024-03-28", "3/28/", "12:30", "-01-02", "HTTP", "FTP", "Www", "₹", "₫", "฿", "‰"}
	guards := []struct {
		name  string
		re    *regexp.Regexp
		guard func(string) bool
	}{
		{"number", numberRE, func(s string) bool { return numberStart(s) && hasDigit(s) }},
		{"date", dateRE, func(s string) bool { return s[0] >= '0' && s[0] <= '9' }},
		{"url", urlRE, func(s string) bool {
			return urlStart(s[0]) && (strings.Contains(s, ".") || strings.Contains(s, "://"))
		}},
		{"email", emailRE, func(s string) bool { return strings.Contains(s, "@") }},
		{"code", defaultCode, isPrintableASCII},
	}
	r := rand.New(rand.NewPCG(5, 8))
	matched := map[string]int{}
	for range 200000 {
		var b strings.Builder
		for n := 1 + r.IntN(7); n > 0; n-- {
			b.WriteString(frags[r.IntN(len(frags))])
		}
		s := strings.TrimSpace(b.String())
		if s == "" {
			continue
		}
		for _, g := range guards {
			if g.re.MatchString(s) {
				matched[g.name]++
				if !g.guard(s) {
					t.Errorf("%s pattern matches %q, but its guard turns it away", g.name, s)
				}
			}
		}
	}
	for _, g := range guards {
		if matched[g.name] < 20 {
			t.Errorf("the %s pattern matched only %d cells: the test proves little for it", g.name, matched[g.name])
		}
	}
}

// The shortcuts for ASCII and CJK letters must agree with the tables for
// every source language.
func TestInScriptsAgreesWithTables(t *testing.T) {
	for code := range languages {
		s := mustSkipper(t, SkipOptions{From: code})
		for r := rune(0); r < 0x10000; r++ {
			if unicode.IsLetter(r) && s.inScripts(r) != unicode.In(r, s.scripts...) {
				t.Fatalf("from %s: inScripts(%U) = %v, the tables say otherwise", code, r, s.inScripts(r))
			}
		}
	}
}
