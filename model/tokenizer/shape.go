package tokenizer

import (
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"bulkgen/internal/nfc"
)

// Counting many requests that share one prompt template.
//
// A bulk job sends the same system prompt and template on every row; only
// the values filled into the template change. CountChat tokenises the
// whole rendered chat every time, and even with the line cache that means
// building, scanning and hashing the fixed text again per row. A Shape
// counts the fixed text once; per row it counts the values, and the fixed
// text only where a value may change its tokens.
//
// That rests on cuts: places where the tokens of a text are those of the
// text before and of the text after, one after the other. Special tokens
// are cuts, and so is every line feed followed by a rune other than white
// space (lineCut), whatever text is around it. Where a value meets literal
// text, joinCuts decides from the two runes at the join. Per row, the text
// between two cuts is counted as one: a literal between cuts on both
// sides adds its count from NewShape, a value that meets "Review:\n" adds
// its own count, and "Title: " followed by its value is counted together,
// from the literal's last line feed on. TestShapeAgreesWithCountChat
// compares the result with CountChat on text built to stress the joins.

// Segment is a piece of a message's content: literal text, or the value
// Value (an index into Count's values; -1 for literal text).
type Segment struct {
	Text  string
	Value int
}

// ShapedMessage is a chat message whose content is a template.
type ShapedMessage struct {
	Role     string
	Segments []Segment
}

// Shape counts the chat requests that fill one template with values. It
// is immutable and safe for concurrent use.
type Shape struct {
	t     *Tokenizer
	added []string
	fixed int // tokens of the special tokens
	items []shapeItem
	ok    bool // false when NewShape met something it cannot record
}

// shapeItem is one element of the framed chat: a special token, a run of
// literal text between special tokens and values, or a value.
type shapeItem struct {
	special bool
	value   int // index into values, or -1 for literal text

	// Literal text, its count, and its first and last line cuts (0 when
	// it has none) with the counts of the text before the first, between
	// them and after the last.
	text               string
	n                  int
	cut1, cut2         int
	headN, midN, tailN int
	first, last        rune // -1 when not plain: see joinCuts
	open               bool // an added token may start in its tail
}

// holeMark brackets a value's index in the text NewShape frames; literal
// text containing it is refused.
const holeMark = "\x00"

// NewShape prepares counting for msgs framed with tmpl (see CountChat).
// Only system and user messages are supported (the framing of other roles
// depends on their content); ok is false otherwise, or when a literal
// contains a NUL byte.
func (t *Tokenizer) NewShape(tmpl Template, msgs []ShapedMessage, thinking bool) (s *Shape, ok bool) {
	flat := make([]Message, len(msgs))
	for i, m := range msgs {
		if m.Role != "system" && m.Role != "user" {
			return nil, false
		}
		var b strings.Builder
		for _, seg := range m.Segments {
			if seg.Value < 0 {
				if strings.Contains(seg.Text, holeMark) {
					return nil, false
				}
				b.WriteString(seg.Text)
				continue
			}
			b.WriteString(holeMark + strconv.Itoa(seg.Value) + holeMark)
		}
		flat[i] = Message{Role: m.Role, Content: b.String()}
	}
	s = &Shape{t: t, ok: true}
	sc := t.pool.Get().(*scratch)
	defer t.pool.Put(sc)
	f := framer{t: t, sc: sc, shape: s}
	f.frame(tmpl, flat, thinking)
	s.added = f.added
	s.fixed = f.n // the special tokens
	if !s.ok {
		return nil, false
	}
	return s, true
}

// text records framed text: literal runs and the values marked in it.
func (s *Shape) text(f *framer, text string) {
	for len(text) > 0 {
		lit, rest, found := strings.Cut(text, holeMark)
		if lit != "" {
			s.items = append(s.items, s.literal(f, lit))
		}
		if !found {
			return
		}
		num, after, found := strings.Cut(rest, holeMark)
		k, err := strconv.Atoi(num)
		if !found || err != nil || k < 0 {
			s.ok = false // cannot happen: NewShape wrote the marks
			return
		}
		s.items = append(s.items, shapeItem{value: k})
		text = after
	}
}

// literal prepares a run of literal text.
func (s *Shape) literal(f *framer, lit string) shapeItem {
	count := func(x string) int { return countText(f.t, f.sc, f.added, x) }
	it := shapeItem{value: -1, text: lit, n: count(lit), first: firstPlain(lit), last: lastPlain(lit),
		open: openTail(f.added, lit)}
	for k := 0; ; {
		c := lineCut(lit[k:])
		if k+c >= len(lit) {
			break
		}
		k += c
		if it.cut1 == 0 {
			it.cut1 = k
		}
		it.cut2 = k
	}
	if it.cut1 > 0 {
		it.headN, it.midN, it.tailN = count(lit[:it.cut1]), count(lit[it.cut1:it.cut2]), count(lit[it.cut2:])
	}
	return it
}

// Count returns the tokens of the chat with values filled in; a value
// index beyond values reads as "".
func (s *Shape) Count(values []string) int {
	sc := s.t.pool.Get().(*scratch)
	defer s.t.pool.Put(sc)

	// The texts of this row, and whether a cut comes before each.
	texts := sc.texts[:0]
	afterSpecial := true
	for i := range s.items {
		it := &s.items[i]
		switch {
		case it.special:
			afterSpecial = true
			continue
		case it.value < 0:
			texts = append(texts, rowText{item: it, first: it.first, last: it.last, open: it.open})
		default:
			if it.value >= len(values) || values[it.value] == "" {
				continue
			}
			v := values[it.value]
			texts = append(texts, rowText{value: v, first: firstPlain(v), last: lastPlain(v),
				open: strings.IndexByte(v, '<') >= 0 && openTail(s.added, v)})
		}
		x := &texts[len(texts)-1]
		x.cutBefore = afterSpecial || len(texts) == 1
		if !x.cutBefore {
			p := &texts[len(texts)-2]
			x.cutBefore = joinCuts(p.last, p.open, x.first)
		}
		afterSpecial = false
	}
	sc.texts = texts

	// Count each stretch between cuts as one text; pending holds the
	// stretch so far.
	n := s.fixed
	pending := sc.pending[:0]
	flush := func() {
		if len(pending) > 0 {
			n += countText(s.t, sc, s.added, unsafe.String(&pending[0], len(pending)))
			pending = pending[:0]
		}
	}
	for i, x := range texts {
		if x.cutBefore {
			flush()
		}
		cutAfter := i+1 == len(texts) || texts[i+1].cutBefore
		it := x.item
		switch {
		case it == nil && x.cutBefore && cutAfter:
			n += countText(s.t, sc, s.added, x.value)
		case it == nil:
			pending = append(pending, x.value...)
		case x.cutBefore && cutAfter:
			n += it.n
		case it.cut1 > 0:
			if len(pending) == 0 {
				n += it.headN
			} else {
				pending = append(pending, it.text[:it.cut1]...)
				flush()
			}
			n += it.midN
			if cutAfter {
				n += it.tailN
			} else {
				pending = append(pending, it.text[it.cut2:]...)
			}
		default:
			pending = append(pending, it.text...)
		}
	}
	flush()
	// Keep the buffers, but not the row's values, nor a huge stretch.
	clear(texts)
	if cap(pending) > maxKeptPending {
		pending = nil
	}
	sc.pending = pending
	return n
}

// maxKeptPending is the largest stretch buffer a scratch keeps for the
// next row: a long document's would otherwise stay allocated.
const maxKeptPending = 1 << 16

// rowText is a literal or a value as it occurs in one row.
type rowText struct {
	item        *shapeItem // nil for a value
	value       string
	first, last rune
	open        bool
	cutBefore   bool
}

// joinCuts reports whether text ending in rune a (open: with the start of
// an added token in its tail) followed by text starting with rune b is
// tokenised as the two texts one after the other. Both runes must be
// plain (-1 otherwise), so NFC never composes across the join: plain
// runes never compose with a neighbour, and a value's invalid bytes end
// before them. No piece starts differently for what precedes it (the
// pattern has no look-behind), and with a not white space, the only piece
// of the left text the right one can change is its last, the one that
// holds a. That piece ends at a:
//
//   - after \r or \n when b is not white space (see lineCut);
//   - always when a is a number: \p{N} is a piece of one rune, and no
//     other alternative takes in a number;
//   - when a is a letter and b is not: a letter run, or a contraction,
//     which is fixed text;
//   - when a is other and b a number or a blank: a can only be in
//     " ?[^\s\p{L}\p{N}]+[\r\n]*", which stops there (a letter after a
//     would have made a the prefix of a letter run).
func joinCuts(a rune, open bool, b rune) bool {
	if a < 0 || b < 0 || open {
		return false
	}
	cb := class(b)
	switch class(a) {
	case clsNewline:
		return cb != clsSpace && cb != clsNewline
	case clsNumber:
		return true
	case clsLetter:
		return cb != clsLetter
	case clsOther:
		return cb == clsNumber || cb == clsSpace
	}
	return false
}

// firstPlain returns the first rune of s if it is plain (see nfc.Plain),
// else -1.
func firstPlain(s string) rune {
	r, w := utf8.DecodeRuneInString(s)
	if w == 0 || !nfc.Plain(s[:w]) {
		return -1
	}
	return r
}

// lastPlain returns the last rune of s if it is plain, else -1.
func lastPlain(s string) rune {
	r, w := utf8.DecodeLastRuneInString(s)
	if w == 0 || !nfc.Plain(s[len(s)-w:]) {
		return -1
	}
	return r
}

// openTail reports whether an added token could start in the tail of s
// and be completed by what follows: some suffix of s from a '<' is a
// proper prefix of an added token's name.
func openTail(added []string, s string) bool {
	for i := strings.LastIndexByte(s, '<'); i >= 0; i = strings.LastIndexByte(s[:i], '<') {
		tail := s[i:]
		longer := false
		for _, a := range added {
			if len(a) > len(tail) && strings.HasPrefix(a, tail) {
				return true
			}
			longer = longer || len(a) > len(tail)
		}
		if !longer {
			return false // no name is longer than this tail, nor than any earlier one
		}
	}
	return false
}
