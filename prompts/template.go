package prompts

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"bulkgen/model"
)

// Template is a prompt with {{column}} placeholders.
//
// Placeholders name input columns directly, so names with spaces or Chinese
// characters work as they are: {{商品名称}}, {{ product name }}. Whitespace
// just inside the braces is trimmed. Go's text/template was not used
// because its field syntax cannot name a column with a space in it, and its
// actions would make an innocent "{{" in a prompt an error far from the
// cause. A literal "{{" is written "{{{{" (rarely needed).
type Template struct {
	text  string
	parts []part // literal and placeholder pieces, in order
}

type part struct {
	literal string
	column  string // "" for a literal piece
}

// ParseTemplate parses a template. An unclosed "{{" or an empty "{{ }}" is
// an error that says where.
func ParseTemplate(text string) (*Template, error) {
	t := &Template{text: text}
	rest := text
	var lit strings.Builder
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			lit.WriteString(rest)
			break
		}
		lit.WriteString(rest[:i])
		rest = rest[i+2:]
		if strings.HasPrefix(rest, "{{") { // "{{{{" is a literal "{{"
			lit.WriteString("{{")
			rest = rest[2:]
			continue
		}
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("template: %q at character %d has no closing \"}}\" (write {{{{ for a literal {{)",
				snippet(rest), utf8.RuneCountInString(text[:len(text)-len(rest)-2])+1)
		}
		name := strings.TrimSpace(rest[:j])
		if name == "" {
			return nil, fmt.Errorf("template: empty placeholder {{}} at character %d: put a column name inside",
				utf8.RuneCountInString(text[:len(text)-len(rest)-2])+1)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{literal: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, part{column: name})
		rest = rest[j+2:]
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{literal: lit.String()})
	}
	return t, nil
}

func snippet(s string) string {
	if utf8.RuneCountInString(s) > 20 {
		r := []rune(s)
		return "{{" + string(r[:20]) + "…"
	}
	return "{{" + s
}

// Text returns the template source.
func (t *Template) Text() string { return t.text }

// Columns returns the distinct column names the template uses, in order of
// first use.
func (t *Template) Columns() []string {
	var cols []string
	seen := map[string]bool{}
	for _, p := range t.parts {
		if p.column != "" && !seen[p.column] {
			seen[p.column] = true
			cols = append(cols, p.column)
		}
	}
	return cols
}

// MissingColumnError says which template columns are not in the input.
type MissingColumnError struct {
	Missing []string
	Have    []string
	Input   string // input name, for the message
}

func (e *MissingColumnError) Error() string {
	var b strings.Builder
	if len(e.Missing) == 1 {
		fmt.Fprintf(&b, "the prompt uses column %q", e.Missing[0])
	} else {
		fmt.Fprintf(&b, "the prompt uses columns %s", QuoteList(e.Missing))
	}
	if e.Input != "" {
		fmt.Fprintf(&b, " which %s not in %s", isAre(len(e.Missing)), e.Input)
	} else {
		fmt.Fprintf(&b, " which %s not in the input", isAre(len(e.Missing)))
	}
	for _, m := range e.Missing {
		if s := Closest(m, e.Have); s != "" {
			fmt.Fprintf(&b, "; did you mean %q for %q?", s, m)
		}
	}
	fmt.Fprintf(&b, "; the columns are: %s", QuoteList(e.Have))
	return b.String()
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// QuoteList lists names for a message: "a", "b", "c".
func QuoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// Closest returns the column whose name is nearest to name (case-folded
// edit distance), if it is near enough to be a plausible typo.
func Closest(name string, have []string) string {
	best, bestD := "", -1
	for _, h := range have {
		d := editDistance(strings.ToLower(name), strings.ToLower(h))
		if bestD < 0 || d < bestD {
			best, bestD = h, d
		}
	}
	limit := utf8.RuneCountInString(name) / 3
	if limit < 1 {
		limit = 1
	}
	if bestD >= 0 && bestD <= limit {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Bind resolves the template's columns against a header, once, so that
// rendering a row is a few appends. It fails with *MissingColumnError
// before any row is read when a column does not exist.
func (t *Template) Bind(header []string, inputName string) (*Bound, error) {
	index := make(map[string]int, len(header))
	for i, h := range header {
		if _, dup := index[h]; !dup {
			index[h] = i
		}
	}
	var missing []string
	b := &Bound{t: t, idx: make([]int, len(t.parts))}
	for i, p := range t.parts {
		if p.column == "" {
			b.idx[i] = -1
			b.fixed += len(p.literal)
			continue
		}
		k, ok := index[p.column]
		if !ok {
			missing = append(missing, p.column)
			continue
		}
		b.idx[i] = k
	}
	if len(missing) > 0 {
		missing = dedupe(missing)
		return nil, &MissingColumnError{Missing: missing, Have: header, Input: inputName}
	}
	for _, c := range t.Columns() {
		b.cols = append(b.cols, index[c])
	}
	sort.Ints(b.cols)
	return b, nil
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Bound is a template tied to a header.
type Bound struct {
	t     *Template
	idx   []int // per part: column index, or -1 for a literal
	cols  []int // distinct column indexes used
	fixed int   // bytes of literal text
}

// Render fills the template from one row's values.
func (b *Bound) Render(values []string) string {
	n := b.fixed
	for _, k := range b.idx {
		if k >= 0 && k < len(values) {
			n += len(values[k])
		}
	}
	var sb strings.Builder
	sb.Grow(n)
	for i, p := range b.t.parts {
		k := b.idx[i]
		if k < 0 {
			sb.WriteString(p.literal)
		} else if k < len(values) {
			sb.WriteString(values[k])
		}
	}
	return sb.String()
}

// segments returns the template as literal text and the column indexes
// of its values, for model.PromptCounter.Shape.
func (b *Bound) segments() []model.Segment {
	segs := make([]model.Segment, len(b.t.parts))
	for i, p := range b.t.parts {
		segs[i] = model.Segment{Text: p.literal, Value: b.idx[i]}
	}
	return segs
}

// AllEmpty reports whether every column the template uses is empty (or
// only whitespace) in this row: such a row has nothing to send.
func (b *Bound) AllEmpty(values []string) bool {
	if len(b.cols) == 0 {
		return false
	}
	for _, k := range b.cols {
		if k < len(values) && !blank(values[k]) {
			return false
		}
	}
	return true
}

// blank reports whether s is only white space, as strings.TrimSpace(s)
// == "" does, but stops at the first other rune instead of trimming both
// ends.
func blank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
