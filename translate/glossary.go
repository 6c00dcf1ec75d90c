package translate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Term is one glossary entry.
type Term struct {
	Source string // as written in the glossary, trimmed and NFC-normalised
	Target string
	Note   string // optional third column, passed on to the prompt
	Line   int    // line of the glossary file, for messages
}

// Glossary maps source terms to fixed translations and finds them in a
// cell. Matching ignores case (so "Order" at the start of a sentence finds
// "order") and, for scripts written with spaces, respects word boundaries
// ("cat" is not found in "category"); Chinese, Japanese and Thai have no
// spaces, so there any occurrence counts.
//
// A Glossary is read-only after loading and safe for concurrent use.
type Glossary struct {
	terms []Term
	root  *trieNode
	seen  map[string]int // folded source → index in terms
}

// trieNode is one node of a trie over case-folded runes. A trie rather
// than Aho–Corasick: the greedy longest-match-from-each-position walk that
// Match needs costs O(len(text) × longest term), which for cell-sized text
// and glossaries of a few thousand terms is microseconds (see
// BenchmarkMatch), and it keeps the leftmost-longest rule obvious.
type trieNode struct {
	next map[rune]*trieNode
	term int // index into terms + 1; 0 when no term ends here
}

// headerNames are the first-row values that mark a header rather than an
// entry. Language codes count too, because "zh,en" is the most common
// header of a hand-made glossary.
var (
	sourceHeaders = []string{"source", "src", "term", "from", "original", "source term", "原文", "源", "术语", "源语言"}
	targetHeaders = []string{"target", "tgt", "translation", "to", "target term", "译文", "目标", "翻译", "目标语言"}
)

// LoadGlossary reads a glossary CSV: source,target[,note] per line, UTF-8
// with or without a byte-order mark, with or without a header row (a first
// row such as "source,target", "zh,en" or "原文,译文" is taken as a header).
// Errors name the file and line and say what to fix: a missing target, an
// empty source, or one source given two different targets.
func LoadGlossary(path string) (*Glossary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("glossary: %w", err)
	}
	defer f.Close()
	g, err := ReadGlossary(f)
	if err != nil {
		return nil, fmt.Errorf("glossary %s: %w", path, err)
	}
	return g, nil
}

// ReadGlossary is LoadGlossary on a reader; its errors name the line but
// not the file.
func ReadGlossary(r io.Reader) (*Glossary, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked below, with a better message
	cr.TrimLeadingSpace = true

	g := newGlossary()
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// csv.ParseError already names the line.
			return nil, fmt.Errorf("%w: put a field with a comma or quote in double quotes, and double the quotes inside", err)
		}
		line, _ := cr.FieldPos(0)
		if !utf8.ValidString(strings.Join(rec, "")) {
			return nil, fmt.Errorf("line %d: not UTF-8: save the file as UTF-8 (in Excel: CSV UTF-8)", line)
		}
		if isBlank(rec) || strings.HasPrefix(strings.TrimSpace(rec[0]), "#") {
			continue
		}
		if first && isHeader(rec) {
			continue
		}
		if len(rec) < 2 || strings.TrimSpace(rec[1]) == "" {
			return nil, fmt.Errorf("line %d: %q has no target: write source,target (to keep a term unchanged, repeat it as the target)", line, rec[0])
		}
		if len(rec) > 3 {
			return nil, fmt.Errorf("line %d: %d fields, want source,target[,note]: quote fields that contain commas", line, len(rec))
		}
		t := Term{Source: rec[0], Target: rec[1], Line: line}
		if len(rec) == 3 {
			t.Note = rec[2]
		}
		if err := g.add(t); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	return g, nil
}

// NewGlossary builds a glossary from terms in memory (tests, or terms from
// another source), with the checks of LoadGlossary. A Term's Line, when
// set, is used in messages; otherwise its position (1-based) is.
func NewGlossary(terms []Term) (*Glossary, error) {
	g := newGlossary()
	for i, t := range terms {
		if t.Line == 0 {
			t.Line = i + 1
		}
		if t.Target == "" {
			return nil, fmt.Errorf("term %d: %q has no target", t.Line, t.Source)
		}
		if err := g.add(t); err != nil {
			return nil, fmt.Errorf("term %d: %w", t.Line, err)
		}
	}
	return g, nil
}

func newGlossary() *Glossary {
	return &Glossary{root: &trieNode{}, seen: map[string]int{}}
}

// add cleans t and adds it, unless it repeats an entry with the same
// target. The error does not name the line: callers do.
func (g *Glossary) add(t Term) error {
	t.Source, t.Target, t.Note = clean(t.Source), clean(t.Target), clean(t.Note)
	if t.Source == "" {
		return errors.New("empty source term")
	}
	key := fold(t.Source)
	if i, ok := g.seen[key]; ok {
		prev := g.terms[i]
		if prev.Target == t.Target {
			return nil // a harmless repeat, common in merged glossaries
		}
		return fmt.Errorf("%q → %q conflicts with line %d: %q → %q (matching ignores case): keep one",
			t.Source, t.Target, prev.Line, prev.Source, prev.Target)
	}
	g.seen[key] = len(g.terms)
	g.terms = append(g.terms, t)
	g.insert(key, len(g.terms))
	return nil
}

// Len returns the number of distinct terms.
func (g *Glossary) Len() int { return len(g.terms) }

// Terms returns the terms in file order.
func (g *Glossary) Terms() []Term { return append([]Term(nil), g.terms...) }

func (g *Glossary) insert(key string, idx int) {
	n := g.root
	for _, r := range key {
		c := n.next[r]
		if c == nil {
			if n.next == nil {
				n.next = map[rune]*trieNode{}
			}
			c = &trieNode{}
			n.next[r] = c
		}
		n = c
	}
	n.term = idx
}

// Match returns the glossary terms found in text, each once, in order of
// first occurrence. Matching is leftmost-longest and non-overlapping: in
// "商品价格" with terms 商品, 价格 and 商品价格, only 商品价格 is found.
// A nil Glossary matches nothing.
func (g *Glossary) Match(text string) []Term {
	if g == nil || len(g.terms) == 0 {
		return nil
	}
	runes := []rune(norm.NFC.String(text))
	var (
		found []Term
		seen  map[int]bool
		ends  []match // reused per position
	)
	for i := 0; i < len(runes); {
		ends = ends[:0]
		n := g.root
		for j := i; j < len(runes); j++ {
			n = n.next[unicode.ToLower(runes[j])]
			if n == nil {
				break
			}
			if n.term != 0 {
				ends = append(ends, match{end: j + 1, term: n.term})
			}
		}
		// Longest first; a candidate that would split a word is dropped
		// in favour of a shorter one at the same position.
		matched := 0
		for k := len(ends) - 1; k >= 0; k-- {
			if atBoundary(runes, i, ends[k].end) {
				matched = k + 1
				break
			}
		}
		if matched == 0 {
			i++
			continue
		}
		m := ends[matched-1]
		if !seen[m.term] {
			if seen == nil {
				seen = map[int]bool{}
			}
			seen[m.term] = true
			found = append(found, g.terms[m.term-1])
		}
		i = m.end
	}
	return found
}

type match struct{ end, term int }

// atBoundary reports whether runes[start:end] can be a whole term: the runes
// just outside must not continue a word of a script written with spaces.
func atBoundary(runes []rune, start, end int) bool {
	if start > 0 && isWordRune(runes[start-1]) && isWordRune(runes[start]) {
		return false
	}
	if end < len(runes) && isWordRune(runes[end-1]) && isWordRune(runes[end]) {
		return false
	}
	return true
}

// isWordRune reports whether r is part of a word in a script that separates
// words with spaces. Han, kana, Hangul and the South-East Asian scripts are
// excluded: there a term is often glued to its neighbours (商品价格,
// 상품을).
func isWordRune(r rune) bool {
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return false
	}
	return !unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// PromptSnippet returns the glossary lines for a prompt, or "" when terms
// is empty:
//
//	Use these translations for the following terms:
//	- 商品 → product
//	- 订单 → order (note: noun, not the verb)
func PromptSnippet(terms []Term) string {
	if len(terms) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Use these translations for the following terms:\n")
	for _, t := range terms {
		fmt.Fprintf(&b, "- %s → %s", t.Source, t.Target)
		if t.Note != "" {
			fmt.Fprintf(&b, " (note: %s)", t.Note)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Check returns the targets of the terms that occur in text but are
// missing from translation, in the order of terms, for a consistency
// warning. Sources are found as Match finds them (ignoring case, whole words
// in spaced scripts); targets are looked for as plain substrings ignoring
// case, so "products" still counts as containing "product". terms may be
// the whole glossary or just what Match found.
func Check(text, translation string, terms []Term) []string {
	src, dst := []rune(fold(text)), fold(translation)
	var missing []string
	for _, t := range terms {
		if occurs(src, []rune(fold(t.Source))) && !strings.Contains(dst, fold(t.Target)) {
			missing = append(missing, t.Target)
		}
	}
	return missing
}

// occurs reports whether term occurs in text as a whole term (see
// atBoundary). Both are folded.
func occurs(text, term []rune) bool {
	if len(term) == 0 {
		return false
	}
	for i := 0; i+len(term) <= len(text); i++ {
		if slices.Equal(text[i:i+len(term)], term) && atBoundary(text, i, i+len(term)) {
			return true
		}
	}
	return false
}

// clean trims a field and normalises it to NFC, so that a term typed with a
// combining accent still matches the precomposed text of a cell.
func clean(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

// fold is the matching key: NFC and per-rune lower case. Per-rune (not
// strings.ToLower) keeps one key rune per text rune, which Match relies on.
func fold(s string) string {
	return strings.Map(unicode.ToLower, norm.NFC.String(s))
}

func isBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func isHeader(rec []string) bool {
	if len(rec) < 2 {
		return false
	}
	a, b := strings.ToLower(strings.TrimSpace(rec[0])), strings.ToLower(strings.TrimSpace(rec[1]))
	isName := func(s string, names []string) bool {
		for code, l := range languages {
			if s == code || s == strings.ToLower(l.name) {
				return true
			}
		}
		return slices.Contains(names, s)
	}
	return isName(a, sourceHeaders) && isName(b, targetHeaders)
}
