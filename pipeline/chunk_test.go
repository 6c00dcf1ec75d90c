package pipeline

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"bulkgen/model"
	"bulkgen/prompts"
	"bulkgen/readers"
)

func perRune(s string) int { return utf8.RuneCountInString(s) }

// perWord counts runs of non-space runes, and every newline: a coarse
// stand-in for a tokenizer that is not 1 token per rune.
func perWord(s string) int {
	return len(strings.Fields(s)) + strings.Count(s, "\n")
}

// superAdditive counts more for a whole than for its pieces (10% extra),
// the case where packing by the sum of the pieces overfills a chunk.
func superAdditive(s string) int {
	n := utf8.RuneCountInString(s)
	return n + n/10
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		max   int
		count func(string) int
		want  []string
	}{
		{"empty", "", 5, perRune, nil},
		{"fits whole", "one\n\ntwo", 100, perRune, []string{"one\n\ntwo"}},
		{"paragraphs one each", "aaa\n\nbbb\n\nccc", 5, perRune, []string{"aaa\n\n", "bbb\n\n", "ccc"}},
		{"paragraphs packed", "aaa\n\nbbb\n\nccc", 10, perRune, []string{"aaa\n\nbbb\n\n", "ccc"}},
		{"blank run with spaces stays with its paragraph", "aa\n \n\t\nbb", 7, perRune, []string{"aa\n \n\t\n", "bb"}},
		{"leading blank lines stay first", "\n\naa\n\nbb", 6, perRune, []string{"\n\naa\n\n", "bb"}},
		// "cc\ndd" fits a chunk of its own, so it is not cut to fill the
		// first one ("aaaa\n\n" leaves room for "cc\n").
		{"paragraph not cut to fill", "aaaa\n\ncc\ndd", 9, perRune, []string{"aaaa\n\n", "cc\ndd"}},
		{"lines", "line one\nline two\nline three", 10, perRune, []string{"line one\n", "line two\n", "line three"}},
		{"lines packed", "ab\ncd\nef\ngh", 6, perRune, []string{"ab\ncd\n", "ef\ngh"}},
		{"CJK sentences", "第一句。第二句！第三句？第四句；第五句", 4, perRune, []string{"第一句。", "第二句！", "第三句？", "第四句；", "第五句"}},
		{"CJK sentences packed", "一。二。三。四。", 5, perRune, []string{"一。二。", "三。四。"}},
		{"CJK closing quote", "他说：“好。”然后走了。", 7, perRune, []string{"他说：“好。”", "然后走了。"}},
		{"Latin sentences", "One. Two! Three? Four", 7, perRune, []string{"One. ", "Two! ", "Three? ", "Four"}},
		{"Latin needs a space", "Pi is 3.14 or so. Yes", 18, perRune, []string{"Pi is 3.14 or so. ", "Yes"}},
		{"Latin ellipsis and quote", `He said "no..." Then left.`, 16, perRune, []string{`He said "no..." `, "Then left."}},
		{"hard cut", "abcdefghij", 3, perRune, []string{"abc", "def", "ghi", "j"}},
		{"hard cut within a sentence only", "ab. cdefghij", 4, perRune, []string{"ab. ", "cdef", "ghij"}},
		// 3 bytes per rune, at most 4 bytes: one rune per chunk, never half.
		{"hard cut at rune boundaries", "中文字", 4, func(s string) int { return len(s) }, []string{"中", "文", "字"}},
		{"rune over the limit stands alone", "abc", 0, perRune, []string{"a", "b", "c"}},
		{"invalid UTF-8 kept", "a\xffb\xfe", 2, perRune, []string{"a\xff", "b\xfe"}},
		{"words", "one two three four five six", 3, perWord, []string{"one two three ", "four five six"}},
		{"super-additive", "aaaa\nbbbb\ncccc\n", 12, superAdditive, []string{"aaaa\nbbbb\n", "cccc\n"}},
		// Two lines add up to 10 but count 11 together: checked, not packed.
		{"whole counts more than its pieces", "aaaa\nbbbb\ncccc\n", 10, func(s string) int { n := perRune(s); return n + n*n/100 }, []string{"aaaa\n", "bbbb\n", "cccc\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitText(tt.text, tt.max, tt.count)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("SplitText(%q, %d) =\n%q\nwant\n%q", tt.text, tt.max, got, tt.want)
			}
		})
	}
}

// TestSplitTextProperties checks, over random texts made of the pieces
// that matter (blank lines, line breaks, sentence ends, CJK, invalid
// bytes), that chunks give back the text exactly, stay within the limit,
// are never empty, and come out the same every time.
func TestSplitTextProperties(t *testing.T) {
	alphabet := []string{"a", "bc", " ", "\n", "\n\n", " \n \n", ".", ". ", "!", "? ", "。", "！", "”", "中文", "\xff", "3.14", "\t"}
	counters := map[string]func(string) int{"runes": perRune, "words": perWord, "super": superAdditive}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 3000 {
		var b strings.Builder
		for range rng.IntN(80) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		text := b.String()
		maxTokens := 1 + rng.IntN(30)
		for name, count := range counters {
			chunks := SplitText(text, maxTokens, count)
			if got := strings.Join(chunks, ""); got != text {
				t.Fatalf("case %d (%s, max %d): chunks %q join to %q, want %q", i, name, maxTokens, chunks, got, text)
			}
			for _, c := range chunks {
				if c == "" {
					t.Fatalf("case %d (%s): empty chunk in %q", i, name, chunks)
				}
				if count(c) > maxTokens && utf8.RuneCountInString(c) > 1 {
					t.Fatalf("case %d (%s): chunk %q counts %d, over %d", i, name, c, count(c), maxTokens)
				}
			}
			if again := SplitText(text, maxTokens, count); !slices.Equal(again, chunks) {
				t.Fatalf("case %d (%s): not deterministic: %q then %q", i, name, chunks, again)
			}
		}
	}
}

// TestSplitTextGreedy checks that with an additive count no chunk could
// have taken the first unit of the next one: paragraphs here are units
// that always fit alone.
func TestSplitTextGreedy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 500 {
		var paras []string
		for range 1 + rng.IntN(20) {
			paras = append(paras, strings.Repeat("x", 1+rng.IntN(9))+"\n\n")
		}
		text := strings.Join(paras, "")
		maxTokens := 11 + rng.IntN(20)
		chunks := SplitText(text, maxTokens, perRune)
		for k := 0; k+1 < len(chunks); k++ {
			next := chunks[k+1][:strings.Index(chunks[k+1], "\n\n")+2]
			if perRune(chunks[k])+perRune(next) <= maxTokens {
				t.Fatalf("case %d: chunk %q could also hold %q (max %d)", i, chunks[k], next, maxTokens)
			}
		}
	}
}

// fakeRender renders a two-column row (name, text) like a small job.
func fakeRender(prefix string) RenderFunc {
	return func(v []string) (model.Request, bool) {
		if v[0] == "" && v[1] == "" {
			return model.Request{}, true
		}
		return model.Request{Model: "m", Messages: []model.Message{{Role: "user", Content: prefix + v[0] + ":\n" + v[1]}}}, false
	}
}

// runeCount is a fake billed count: one token per rune of every message.
func runeCount(req model.Request) int64 {
	n := 0
	for _, m := range req.Messages {
		n += utf8.RuneCountInString(m.Content)
	}
	return int64(n)
}

// recorder is a fake ask: it records requests and answers with reply.
type recorder struct {
	reqs  []model.Request
	reply func(i int, req model.Request) (string, error)
}

func (r *recorder) ask(req model.Request) (model.Response, error) {
	r.reqs = append(r.reqs, req)
	s, err := r.reply(len(r.reqs)-1, req)
	if err != nil {
		return model.Response{}, err
	}
	return model.Response{Content: s}, nil
}

func (r *recorder) user(i int) string { return r.reqs[i].Messages[len(r.reqs[i].Messages)-1].Content }

// fixedReply answers every request with a 30-rune answer.
func fixedReply(i int, _ model.Request) (string, error) { return fmt.Sprintf("answer %-23d", i), nil }

// paragraphs returns n paragraphs of 58 runes plus "\n\n" (none after the
// last).
func paragraphs(n int) string {
	var ps []string
	for i := range n {
		ps = append(ps, fmt.Sprintf("paragraph %-3d %s", i, strings.Repeat("w", 44)))
	}
	return strings.Join(ps, "\n\n")
}

func docRow(name, text string) readers.Row {
	return readers.Row{Key: "docs:" + name, Values: []string{name, text}}
}

// Numbers for the fake job: "Summarise doc:\n" is 15 runes, the widest
// header "[part 999 of 999]\n" 18, so with MaxPrompt 100 a part's text
// may have 67 runes: one 60-rune paragraph per part.
const fakeMax = 100

func TestMapReduceShortDocument(t *testing.T) {
	rec := &recorder{reply: fixedReply}
	mr := NewMapReduce(ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount})
	values, err := mr(docRow("doc", "short text"), rec.ask)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"answer 0                      ", "1"}; !slices.Equal(values, want) {
		t.Fatalf("values = %q, want %q", values, want)
	}
	if len(rec.reqs) != 1 || rec.user(0) != "Summarise doc:\nshort text" {
		t.Fatalf("requests = %+v, want the row's own prompt once", rec.reqs)
	}
}

func TestMapReduceNoLimit(t *testing.T) {
	rec := &recorder{reply: fixedReply}
	mr := NewMapReduce(ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, Count: runeCount})
	values, err := mr(docRow("doc", paragraphs(20)), rec.ask)
	if err != nil || values[1] != "1" || len(rec.reqs) != 1 {
		t.Fatalf("values %q, err %v, %d requests; want one request with MaxPrompt 0", values, err, len(rec.reqs))
	}
}

// partText takes the header and the part's text out of a map request.
func partText(t *testing.T, user, prefix string) (header, text string) {
	t.Helper()
	rest, ok := strings.CutPrefix(user, prefix)
	if !ok {
		t.Fatalf("request %q does not start with %q", user, prefix)
	}
	header, text, ok = strings.Cut(rest, "\n")
	if !ok || !strings.HasPrefix(header, "[part ") {
		t.Fatalf("request %q has no part header", user)
	}
	return header + "\n", text
}

func TestMapReduceLongDocument(t *testing.T) {
	text := paragraphs(5)
	rec := &recorder{reply: func(i int, _ model.Request) (string, error) { return fmt.Sprintf("s%d", i), nil }}
	mr := NewMapReduce(ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount})
	values, err := mr(docRow("doc", text), rec.ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.reqs) != 6 || values[1] != "6" {
		t.Fatalf("%d requests, values %q; want 5 parts + 1 reduce", len(rec.reqs), values)
	}
	var parts []string
	for i := range 5 {
		header, part := partText(t, rec.user(i), "Summarise doc:\n")
		if want := fmt.Sprintf("[part %d of 5]\n", i+1); header != want {
			t.Errorf("request %d header %q, want %q", i, header, want)
		}
		if n := runeCount(rec.reqs[i]); n > fakeMax {
			t.Errorf("request %d has %d tokens, over %d", i, n, fakeMax)
		}
		parts = append(parts, part)
	}
	if got := strings.Join(parts, ""); got != text {
		t.Fatalf("the parts, in order, are %q; want the document %q", got, text)
	}
	if want := "Summarise doc:\ns0\n\ns1\n\ns2\n\ns3\n\ns4"; rec.user(5) != want {
		t.Fatalf("reduce request %q, want %q", rec.user(5), want)
	}
	if values[0] != "s5" {
		t.Fatalf("answer %q, want the reduce request's", values[0])
	}
}

// TestMapReduceRecursive: 20 parts give 20 answers of 30 runes, 638 runes
// joined, far over the limit. Two answers (32 runes with "\n\n") fit one
// part, so the rounds take 20 → 10 → 5 → 3 → 2 answers, and the last
// two (62 runes + 15) fit one reduce: 20+10+5+3+2+1 = 41 requests.
func TestMapReduceRecursive(t *testing.T) {
	for _, separate := range []bool{false, true} {
		t.Run(fmt.Sprintf("separate reduce %v", separate), func(t *testing.T) {
			cfg := ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount}
			reducePrefix := "Summarise "
			if separate {
				// Same length as "Summarise ", so the same numbers hold.
				reducePrefix = "Combine-- "
				cfg.Reduce = fakeRender(reducePrefix)
			}
			rec := &recorder{reply: fixedReply}
			values, err := NewMapReduce(cfg)(docRow("doc", paragraphs(20)), rec.ask)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.reqs) != 41 || values[1] != "41" {
				t.Fatalf("%d requests, values %q; want 41", len(rec.reqs), values)
			}
			rounds := []int{20, 10, 5, 3, 2, 1}
			i := 0
			for r, n := range rounds {
				prefix := "Summarise doc:\n"
				if r > 0 {
					prefix = reducePrefix + "doc:\n"
				}
				for k := range n {
					user := rec.user(i)
					if !strings.HasPrefix(user, prefix) {
						t.Fatalf("round %d request %d = %q, want prefix %q", r, k, user, prefix)
					}
					if n > 1 {
						if header, _ := partText(t, user, prefix); header != fmt.Sprintf("[part %d of %d]\n", k+1, n) {
							t.Fatalf("round %d request %d header %q", r, k, header)
						}
					}
					if c := runeCount(rec.reqs[i]); c > fakeMax {
						t.Fatalf("round %d request %d has %d tokens, over %d", r, k, c, fakeMax)
					}
					i++
				}
			}
		})
	}
}

func TestMapReduceErrors(t *testing.T) {
	errService := errors.New("service says no")
	tests := []struct {
		name     string
		cfg      ChunkConfig
		row      readers.Row
		reply    func(int, model.Request) (string, error)
		wantIs   error
		wantText string
		wantReqs int
	}{
		{
			name:     "prompt leaves no room",
			cfg:      ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: 40, Count: runeCount},
			row:      docRow("a-document-with-a-long-name", paragraphs(3)),
			wantIs:   ErrNoRoom,
			wantText: "raise --chunk-tokens",
		},
		{
			name:     "ask error on a part",
			cfg:      ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount},
			row:      docRow("doc", paragraphs(5)),
			reply:    func(i int, _ model.Request) (string, error) { return "ok", map[bool]error{true: errService}[i == 1] },
			wantIs:   errService,
			wantReqs: 2,
		},
		{
			name:     "ask error on the reduce",
			cfg:      ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount},
			row:      docRow("doc", paragraphs(5)),
			reply:    func(i int, _ model.Request) (string, error) { return "ok", map[bool]error{true: errService}[i == 5] },
			wantIs:   errService,
			wantReqs: 6,
		},
		{
			name:     "ask error on a short document",
			cfg:      ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount},
			row:      docRow("doc", "short"),
			reply:    func(int, model.Request) (string, error) { return "", errService },
			wantIs:   errService,
			wantReqs: 1,
		},
		{
			// An answer as long as its part (a translation) never
			// shortens: stopped after the map, not after 8 rounds.
			name: "answers do not shorten",
			cfg:  ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount},
			row:  docRow("doc", paragraphs(5)),
			reply: func(_ int, req model.Request) (string, error) {
				_, part, _ := strings.Cut(strings.TrimPrefix(req.Messages[0].Content, "Summarise doc:\n"), "\n")
				return part, nil
			},
			wantText: "not shorter",
			wantReqs: 5,
		},
		{
			// Every answer is 1 rune shorter than its part (58 runes at
			// first), so the text shrinks each round but 20 parts stay 20
			// parts (two never fit in one) and never fit one request:
			// 20 map + 8 rounds of 20.
			name: "too many rounds",
			cfg:  ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: fakeMax, Count: runeCount},
			row:  docRow("doc", paragraphs(20)),
			reply: func(_ int, req model.Request) (string, error) {
				_, part, _ := strings.Cut(strings.TrimPrefix(req.Messages[0].Content, "Summarise doc:\n"), "\n")
				part = strings.TrimRight(part, "\n")
				return part[:len(part)-1], nil
			},
			wantText: "after 8 rounds",
			wantReqs: 20 * 9,
		},
		{
			name:     "text column out of range",
			cfg:      ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 5, MaxPrompt: fakeMax, Count: runeCount},
			row:      docRow("doc", "x"),
			wantText: "text column 6 is not in the row",
		},
		{
			name:     "not configured",
			cfg:      ChunkConfig{TextColumn: 1, MaxPrompt: fakeMax},
			row:      docRow("doc", "x"),
			wantText: "not configured",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := tt.reply
			if reply == nil {
				reply = fixedReply
			}
			rec := &recorder{reply: reply}
			values, err := NewMapReduce(tt.cfg)(tt.row, rec.ask)
			if err == nil {
				t.Fatalf("no error; values %q", values)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if tt.wantIs == errService && err != errService {
				t.Errorf("ask's error came back as %v, want it unchanged", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			if len(rec.reqs) != tt.wantReqs {
				t.Errorf("%d requests, want %d", len(rec.reqs), tt.wantReqs)
			}
		})
	}
}

// TestMapReduceTextTwice: a prompt that quotes the text twice makes every
// part cost twice its count; the split is redone smaller until each
// request fits.
func TestMapReduceTextTwice(t *testing.T) {
	render := func(v []string) (model.Request, bool) {
		return model.Request{Model: "m", Messages: []model.Message{{Role: "user", Content: "S " + v[0] + ":\n" + v[1] + "\nAgain:\n" + v[1]}}}, false
	}
	rec := &recorder{reply: func(int, model.Request) (string, error) { return "a", nil }}
	text := paragraphs(4)
	values, err := NewMapReduce(ChunkConfig{Render: render, TextColumn: 1, MaxPrompt: 200, Count: runeCount})(docRow("doc", text), rec.ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.reqs) < 3 {
		t.Fatalf("%d requests (values %q), want the document in parts", len(rec.reqs), values)
	}
	var parts []string
	for i, req := range rec.reqs[:len(rec.reqs)-1] {
		if n := runeCount(req); n > 200 {
			t.Errorf("request %d has %d tokens, over 200", i, n)
		}
		body := strings.TrimPrefix(req.Messages[0].Content, "S doc:\n")
		body, _, _ = strings.Cut(body, "\nAgain:\n")
		_, part, _ := strings.Cut(body, "\n")
		parts = append(parts, part)
	}
	if strings.Join(parts, "") != text {
		t.Fatalf("parts %q do not give back the document", parts)
	}
}

// TestMapReduceRealTokenizer runs the sample summary job over the long
// sample handbook with the real Qwen counter: every request fits 8000
// tokens, and the parts give back the document.
func TestMapReduceRealTokenizer(t *testing.T) {
	job, err := prompts.LoadJob("../samples/summarize.yaml")
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"path", "name", "ext", "bytes", "modified", "text"}
	r, err := prompts.NewRenderer(job.WithDefaults(), header, "samples/docs")
	if err != nil {
		t.Fatal(err)
	}
	counter, err := model.NewPromptCounter(job.Model)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../samples/docs/product-handbook-long.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	name := "product-handbook-long.md"
	values := []string{name, name, "md", fmt.Sprint(len(doc)), "2025-03-31T00:00:00Z", text}

	// Where the text sits in the user message, to take it out again.
	probe, _ := r.Render(append(values[:5:5], "\x00"))
	before, after, _ := strings.Cut(probe.Messages[len(probe.Messages)-1].Content, "\x00")

	const limit = 8000
	rec := &recorder{reply: func(i int, _ model.Request) (string, error) {
		return fmt.Sprintf("- Part summary %d.\n- Second point.\n- Third point.", i), nil
	}}
	mr := NewMapReduce(ChunkConfig{Render: r.Render, TextColumn: 5, MaxPrompt: limit, Count: counter.Count})
	out, err := mr(readers.Row{Key: "docs:" + name, Values: values}, rec.ask)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rec.reqs); n < 5 || out[1] != fmt.Sprint(n) {
		t.Fatalf("%d requests, values %q; want the ~34k-token document in several parts", n, out)
	}
	var parts []string
	for i, req := range rec.reqs {
		if n := counter.Count(req); n > limit {
			t.Errorf("request %d: %d prompt tokens, over %d", i, n, limit)
		}
		if i == len(rec.reqs)-1 {
			break // the reduce
		}
		user := req.Messages[len(req.Messages)-1].Content
		body := strings.TrimSuffix(strings.TrimPrefix(user, before), after)
		header, part, _ := strings.Cut(body, "\n")
		if want := fmt.Sprintf("[part %d of %d]", i+1, len(rec.reqs)-1); header != want {
			t.Fatalf("request %d header %q, want %q", i, header, want)
		}
		parts = append(parts, part)
	}
	if strings.Join(parts, "") != text {
		t.Fatal("the parts, in order, do not give back the document")
	}
}

func TestChunkPromptLimit(t *testing.T) {
	tests := []struct {
		chunk, model int64
		exact        bool
		want         int64
	}{
		{0, 0, true, 0},
		{0, 129_024, true, 129_024 - 2580},
		{0, 10_000, true, 10_000 - 256},
		{8000, 129_024, true, 8000},
		{200_000, 129_024, true, 129_024 - 2580},
		{8000, 0, true, 8000},
		{8000, 0, false, 7200},
		{0, 100_000, false, 90_000},
		{0, 100, true, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_%d_%v", tt.chunk, tt.model, tt.exact), func(t *testing.T) {
			if got := ChunkPromptLimit(tt.chunk, tt.model, tt.exact); got != tt.want {
				t.Fatalf("ChunkPromptLimit(%d, %d, %v) = %d, want %d", tt.chunk, tt.model, tt.exact, got, tt.want)
			}
		})
	}
}

func BenchmarkSplitTextHandbook(b *testing.B) {
	doc, err := os.ReadFile("../samples/docs/product-handbook-long.md")
	if err != nil {
		b.Fatal(err)
	}
	counter, err := model.NewPromptCounter("qwen-plus")
	if err != nil {
		b.Fatal(err)
	}
	count := func(s string) int {
		return int(counter.Count(model.Request{Model: "qwen-plus", Messages: []model.Message{{Role: "user", Content: s}}}))
	}
	b.ResetTimer()
	for b.Loop() {
		SplitText(string(doc), 8000, count)
	}
}

// With Parallel, a long document's parts are asked at once (never more
// than Parallel), answered out of order, and still joined in part order;
// after a failed part no further part is started.
func TestMapReduceParallelParts(t *testing.T) {
	var (
		mu             sync.Mutex
		inFlight, peak int
		asked          []string
	)
	// The answer to a part is its header, and the answer to the reduce
	// its whole request, which so shows the order the answers were joined
	// in. Later parts answer sooner; the failing part fails at once.
	ask := func(fail string) func(model.Request) (model.Response, error) {
		return func(req model.Request) (model.Response, error) {
			user := req.Messages[len(req.Messages)-1].Content
			if strings.Count(user, "[part ") > 1 {
				return model.Response{Content: user}, nil
			}
			header, _, _ := strings.Cut(strings.TrimPrefix(user, "Summarise doc:\n"), "\n")
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			asked = append(asked, header)
			mu.Unlock()
			var n int
			fmt.Sscanf(header, "[part %d", &n)
			if header != fail {
				time.Sleep(time.Duration(12-n) * time.Millisecond)
			}
			mu.Lock()
			inFlight--
			mu.Unlock()
			if header == fail {
				return model.Response{}, errors.New("part failed")
			}
			return model.Response{Content: header}, nil
		}
	}
	cfg := ChunkConfig{Render: fakeRender("Summarise "), TextColumn: 1, MaxPrompt: 200, Count: runeCount, Parallel: 4}
	values, err := NewMapReduce(cfg)(docRow("doc", paragraphs(10)), ask(""))
	if err != nil {
		t.Fatal(err)
	}
	if peak < 2 || peak > 4 {
		t.Errorf("%d parts in flight at most, want 2 to 4", peak)
	}
	// 10 paragraphs, 2 per part: 5 parts, then the reduce over their
	// answers in part order.
	want := "Summarise doc:\n[part 1 of 5]\n\n[part 2 of 5]\n\n[part 3 of 5]\n\n[part 4 of 5]\n\n[part 5 of 5]"
	if values[1] != "6" || values[0] != want {
		t.Fatalf("values %q, want 6 requests and the reduce request %q as the answer", values, want)
	}

	// Part 1 fails while parts 2–4 are in flight: part 5 is never sent.
	mu.Lock()
	asked, peak = nil, 0
	mu.Unlock()
	_, err = NewMapReduce(cfg)(docRow("doc", paragraphs(10)), ask("[part 1 of 5]"))
	if err == nil || err.Error() != "part failed" {
		t.Fatalf("err = %v, want the part's error", err)
	}
	if slices.Contains(asked, "[part 5 of 5]") {
		t.Errorf("asked %q: part 5 was started after part 1 failed", asked)
	}
}
