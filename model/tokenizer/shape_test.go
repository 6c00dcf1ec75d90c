package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// shapeFrags stress the joins between literal text and values: white
// space and line feeds on either side, punctuation, digits, letters,
// contractions, combining marks and NFC singletons, invalid bytes and
// pieces of added tokens that only become one when joined.
var shapeFrags = []string{
	"\n", "\r\n", "\r", "\n\n", " \n", "\n ", "\t", " ", "  ", "\u3000", "\u00a0", "\u2028",
	"a", "ab", "Word", "'s", "'", "ll", "x'", "1", "42", "٣", "你好", "评论", "。", "：", "，", "!", "?!", ":", "-", "\"",
	"\u0301", "e\u0301", "\u1100", "\u1161", "\u212b", "\xe4\xb8", "\xad", "\xff",
	"<|im_end|>", "<|im_", "end|>", "<think>", "<", "|>", "<tool_call>", "</think", ">",
	"Review:", "Title: ", "标题：", "Classify the sentiment of the review below.\n", "\n\nReview:\n",
}

func randomText(r *rand.Rand, maxFrags int) string {
	var b strings.Builder
	for n := r.IntN(maxFrags + 1); n > 0; n-- {
		b.WriteString(shapeFrags[r.IntN(len(shapeFrags))])
	}
	return b.String()
}

// render fills a shaped message's segments the way a caller would.
func render(m ShapedMessage, values []string) Message {
	var b strings.Builder
	for _, seg := range m.Segments {
		if seg.Value < 0 {
			b.WriteString(seg.Text)
		} else if seg.Value < len(values) {
			b.WriteString(values[seg.Value])
		}
	}
	return Message{Role: m.Role, Content: b.String()}
}

// A Shape's count must equal CountChat's on the rendered messages, for
// both templates, with and without thinking, on templates and values
// built from fragments that make joins hard, each shape counted for many
// rows so that the line and piece caches answer too.
func TestShapeAgreesWithCountChat(t *testing.T) {
	tok := qwen(t)
	r := rand.New(rand.NewPCG(3, 5))
	for shapes := 0; shapes < 300; shapes++ {
		nValues := 1 + r.IntN(3)
		var msgs []ShapedMessage
		for _, role := range []string{"system", "user"} {
			if role == "system" && r.IntN(3) == 0 {
				continue
			}
			m := ShapedMessage{Role: role}
			for n := 1 + r.IntN(5); n > 0; n-- {
				if r.IntN(2) == 0 {
					m.Segments = append(m.Segments, Segment{Text: randomText(r, 4), Value: -1})
				} else {
					m.Segments = append(m.Segments, Segment{Value: r.IntN(nValues + 1)}) // one index past the values
				}
			}
			msgs = append(msgs, m)
		}
		tmpl, thinking := Template(r.IntN(2)), r.IntN(2) == 0
		s, ok := tok.NewShape(tmpl, msgs, thinking)
		if !ok {
			t.Fatalf("NewShape refused %+v", msgs)
		}
		for rows := 0; rows < 40; rows++ {
			values := make([]string, nValues)
			for i := range values {
				values[i] = randomText(r, 5)
			}
			plain := make([]Message, len(msgs))
			for i, m := range msgs {
				plain[i] = render(m, values)
			}
			if got, want := s.Count(values), tok.CountChat(tmpl, plain, thinking); got != want {
				t.Fatalf("template %v thinking %v: Shape.Count %d, CountChat %d\nmessages %q\nvalues %q", tmpl, thinking, got, want, plain, values)
			}
		}
	}
}

// joinCuts must only claim a cut where there is one: for every pair of
// runes it accepts, text ending in the first and text starting with the
// second have, together, exactly the tokens of each alone.
func TestJoinCutsIsSound(t *testing.T) {
	tok := qwen(t)
	runes := []rune{'a', 'Z', 's', 'l', '1', '9', ' ', '\t', '\n', '\r', '\'', '!', '.', ':', '<', '>', '|', '_', '-',
		'你', '。', '：', '，', '\u3000', '\u2014', '\u201c', 0xff01, '٣', 0x2028}
	contexts := []string{"", "x", "ab", " ", "  ", "\n", "'", "1", "你", "。", "!", "\t\n"}
	accepted := 0
	for _, a := range runes {
		for _, b := range runes {
			if !joinCuts(firstPlain(string(a)), false, firstPlain(string(b))) {
				continue
			}
			accepted++
			for _, pre := range contexts {
				for _, post := range contexts {
					left, right := pre+string(a), string(b)+post
					if got, want := len(tok.Encode(left))+len(tok.Encode(right)), len(tok.Encode(left+right)); got != want {
						t.Errorf("joinCuts(%q, %q): %q and %q count %d apart, %d together", a, b, left, right, got, want)
					}
				}
			}
		}
	}
	if accepted < 100 {
		t.Errorf("joinCuts accepted only %d pairs: the test would prove little", accepted)
	}
}

func TestNewShapeRefuses(t *testing.T) {
	tok := qwen(t)
	for _, msgs := range [][]ShapedMessage{
		{{Role: "assistant", Segments: []Segment{{Text: "hi", Value: -1}}}},
		{{Role: "user", Segments: []Segment{{Text: "a\x00b", Value: -1}}}},
	} {
		if _, ok := tok.NewShape(TemplateQwen3, msgs, false); ok {
			t.Errorf("NewShape(%+v) accepted", msgs)
		}
	}
}

// BenchmarkShapeRows counts the rows of BenchmarkCountChatRows through
// their shape; bytes are those of the rendered chats, as there.
func BenchmarkShapeRows(b *testing.B) {
	tok := qwen(b)
	msgs := []ShapedMessage{
		{Role: "system", Segments: []Segment{{Text: benchSystem, Value: -1}}},
		{Role: "user", Segments: []Segment{{Text: benchPrompt, Value: -1}, {Value: 0}, {Text: "\n", Value: -1}}},
	}
	s, ok := tok.NewShape(TemplateQwen3, msgs, false)
	if !ok {
		b.Fatal("NewShape refused")
	}
	rows := strings.SplitAfter(benchText(1<<20), "。")
	size := 0
	for _, row := range rows {
		size += len(benchSystem) + len(benchPrompt) + len(row) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	values := make([]string, 1)
	for b.Loop() {
		for _, row := range rows {
			values[0] = row
			s.Count(values)
		}
	}
}
