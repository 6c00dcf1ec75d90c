package pipeline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"bulkgen/model"
	"bulkgen/readers"
)

// Long documents (issue #7): a document whose prompt is over the limit per
// request is cut into parts that fit, each part is asked on its own (map),
// and the partial answers are asked together again (reduce) until one
// answer is left.

// SplitText cuts text into chunks of at most maxTokens each, as measured
// by count, and returns them in order. strings.Join(chunks, "") is always
// text itself: nothing is dropped, duplicated or changed, and a separator
// (blank lines, a line break, the space after a full stop) stays at the end
// of the chunk before it.
//
// Cuts are made at the coarsest boundary that works: between paragraphs
// (blank lines), else between lines, else after sentences (。！？； and
// .!? followed by white space), else, for one sentence that is too long on
// its own, anywhere between two runes. Chunks are packed greedily: each
// takes as many whole pieces as fit, so a paragraph that fits in a chunk of
// its own is never cut just because it does not fit in what is left of the
// current one.
//
// Packing adds up the pieces' counts and then checks the chunk as a whole,
// so count need not be additive (a BPE tokenizer is nearly so). The only
// chunk that can be over maxTokens is a single rune that alone counts more
// (maxTokens < 1, in practice); callers that need the bound check it.
// The result depends only on the arguments. Empty text gives no chunks.
func SplitText(text string, maxTokens int, count func(string) int) []string {
	if text == "" {
		return nil
	}
	if count(text) <= maxTokens {
		return []string{text}
	}
	s := splitter{max: maxTokens, count: count}
	s.pieces(text, levelParagraph)
	return s.pack(text)
}

// Boundary levels, coarsest first.
const (
	levelParagraph = iota
	levelLine
	levelSentence
	levelRune
)

// splitter cuts a text into pieces of at most max tokens each, at the
// coarsest level that achieves it, then packs them.
type splitter struct {
	max   int
	count func(string) int
	units []textUnit // contiguous pieces, in order
}

type textUnit struct {
	end    int // byte offset in the text where the piece ends
	tokens int
}

// pieces appends the pieces of s, which starts where the last unit so far
// ended.
func (s *splitter) pieces(text string, level int) {
	start := s.offset()
	if level == levelRune {
		s.hardCut(text)
		return
	}
	var parts []string
	switch level {
	case levelParagraph:
		parts = splitParagraphs(text)
	case levelLine:
		parts = splitLines(text)
	default:
		parts = splitSentences(text)
	}
	pos := start
	for _, p := range parts {
		if n := s.count(p); n <= s.max {
			pos += len(p)
			s.units = append(s.units, textUnit{end: pos, tokens: n})
			continue
		}
		s.pieces(p, level+1)
		pos = s.offset()
	}
}

func (s *splitter) offset() int {
	if len(s.units) == 0 {
		return 0
	}
	return s.units[len(s.units)-1].end
}

// hardCut cuts one over-long sentence between runes: each cut takes the
// longest prefix that fits. The prefix is found by galloping (1, 2, 4, …
// runes) and then bisecting, so the work per cut is proportional to the
// cut's own length, not to what is left of the sentence.
func (s *splitter) hardCut(text string) {
	base := s.offset()
	for text != "" {
		fits := func(nRunes int) (int, bool) { // byte length and whether it fits
			b := runePrefix(text, nRunes)
			return b, s.count(text[:b]) <= s.max
		}
		lo := 1 // runes known to fit (1 is taken even when it does not)
		hi := 0 // runes known not to fit; 0 = none found yet
		for step := 2; ; step *= 2 {
			b, ok := fits(step)
			if !ok {
				hi = step
				break
			}
			lo = step
			if b == len(text) {
				break
			}
		}
		for hi > 0 && hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if _, ok := fits(mid); ok {
				lo = mid
			} else {
				hi = mid
			}
		}
		b := runePrefix(text, lo)
		base += b
		s.units = append(s.units, textUnit{end: base, tokens: s.count(text[:b])})
		text = text[b:]
	}
}

// runePrefix returns the byte length of the first n runes of s (all of s
// when it has fewer). Invalid UTF-8 bytes count as one rune each, so a cut
// never splits a valid rune and every byte is kept.
func runePrefix(s string, n int) int {
	b := 0
	for i := 0; i < n && b < len(s); i++ {
		_, size := utf8.DecodeRuneInString(s[b:])
		b += size
	}
	return b
}

// pack joins consecutive units into chunks: greedily by the sum of their
// counts, then checked as a whole (dropping units from the end while the
// chunk is over, for counts that are not additive).
func (s *splitter) pack(text string) []string {
	var chunks []string
	start, first := 0, 0 // byte offset and index of the chunk's first unit
	for first < len(s.units) {
		last, sum := first, s.units[first].tokens
		for last+1 < len(s.units) && sum+s.units[last+1].tokens <= s.max {
			last++
			sum += s.units[last].tokens
		}
		for last > first && s.count(text[start:s.units[last].end]) > s.max {
			last--
		}
		end := s.units[last].end
		chunks = append(chunks, text[start:end])
		start, first = end, last+1
	}
	return chunks
}

// splitLines cuts after every "\n".
func splitLines(text string) []string {
	var out []string
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			return append(out, text)
		}
		out = append(out, text[:i+1])
		text = text[i+1:]
	}
	return out
}

// splitParagraphs cuts before a line that has text and follows a blank
// line, so each paragraph keeps the blank lines after it (and the first
// one any blank lines before it).
func splitParagraphs(text string) []string {
	var out []string
	start, pos := 0, 0
	prevBlank := false
	for _, line := range splitLines(text) {
		blank := strings.TrimSpace(line) == ""
		if !blank && prevBlank && pos > start {
			out = append(out, text[start:pos])
			start = pos
		}
		prevBlank = blank
		pos += len(line)
	}
	return append(out, text[start:])
}

// splitSentences cuts after sentence ends: a Chinese 。！？； (with any
// closing quotes or brackets and white space after it), or a Latin . ! ?
// that is followed by white space (so 3.14 and example.com stay whole), with
// that white space.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		cjk := isCJKEnd(r)
		if !cjk && !isLatinEnd(r) {
			continue
		}
		// The sentence goes on through more ends and closing quotes:
		// "?!", "...", "。”".
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !isCJKEnd(r) && !isLatinEnd(r) && !isCloser(r) {
				break
			}
			cjk = cjk || isCJKEnd(r)
			i += size
		}
		spaces := i
		for spaces < len(text) {
			r, size := utf8.DecodeRuneInString(text[spaces:])
			if !unicode.IsSpace(r) {
				break
			}
			spaces += size
		}
		if !cjk && spaces == i {
			continue // "3.14", "a.m.": not the end of a sentence
		}
		i = spaces
		if i < len(text) {
			out = append(out, text[start:i])
			start = i
		}
	}
	return append(out, text[start:])
}

func isCJKEnd(r rune) bool {
	switch r {
	case '。', '！', '？', '；':
		return true
	}
	return false
}

func isLatinEnd(r rune) bool { return r == '.' || r == '!' || r == '?' }

// isCloser reports closing quotes and brackets, which belong to the
// sentence they end: 他说：“好。” / He said "yes." Then…
func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '”', '’', '」', '』', '）', '》', '】':
		return true
	}
	return false
}

// Chunking limits.
const (
	// MaxReduceRounds bounds how many times partial answers are reduced
	// in parts before one request can take them all.
	MaxReduceRounds = 8
	// chunkTries is how many times a split is redone smaller when a part's
	// request came out over the limit (a text placeholder used twice, a
	// tokenizer that is not additive at the edges).
	chunkTries = 4
)

// ErrNoRoom is the row error when the prompt leaves no room for even a
// small part of the document's text.
var ErrNoRoom = errors.New("no room for the document text")

// ChunkConfig configures NewMapReduce.
type ChunkConfig struct {
	// Render is the job's renderer (the one the run uses for the row).
	Render RenderFunc
	// TextColumn is the index in row.Values of the document's text.
	TextColumn int
	// MaxPrompt is the largest prompt, in tokens as Count measures them,
	// that one request may have; ChunkPromptLimit computes it from
	// --chunk-tokens and the model's limit. 0 or less means no limit:
	// every row is one request.
	MaxPrompt int64
	// Count returns a request's prompt tokens (model.PromptCounter.Count).
	Count func(model.Request) int64
	// Reduce renders the request that combines partial answers, given
	// the row's values with the joined answers in place of the text. nil
	// uses Render: the job's own prompt applied to the partial answers.
	Reduce RenderFunc
	// Parallel is how many parts of one document may be asked at once
	// (the run's -c; 0 or 1: one after another). The run's limiter still
	// bounds the requests in flight over all rows; this only lets one long
	// document use the slots that other rows leave free.
	Parallel int
}

// Safety margins of ChunkPromptLimit, as fractions of the limit.
const (
	// exactMargin is kept below the model's input limit even when the
	// count is the service's own: the service may add tokens we do not
	// model (a changed default system prompt or chat template), and a part
	// over the limit costs a failed row, while a part 2% smaller costs
	// nothing.
	exactMargin = 0.02
	// minExactMargin is the margin's floor in tokens for small limits.
	minExactMargin = 256
	// estimateMargin applies when the count is only an estimate (a model
	// outside the Qwen1.5–Qwen3 vocabulary): a different vocabulary can
	// count a few percent more on some text.
	estimateMargin = 0.10
)

// ChunkPromptLimit returns ChunkConfig.MaxPrompt for a run: the smaller
// of chunkTokens (--chunk-tokens; 0 = not set) and the model's input limit
// (model.MaxInputTokens; 0 = unknown), less a safety margin. exact says
// whether the counter is the service's own count (model.PromptCounter.Exact).
//
// The model limit always loses max(2%, 256 tokens), or 10% when the count
// is an estimate. --chunk-tokens is the user's own number and is kept as
// given when the count is exact (the usage column shows it was honoured);
// when the count is an estimate it loses 10% too. 0 means no limit is
// known: documents are never split.
func ChunkPromptLimit(chunkTokens, modelLimit int64, exact bool) int64 {
	limit := int64(0)
	if modelLimit > 0 {
		margin := int64(float64(modelLimit) * estimateMargin)
		if exact {
			margin = max(int64(float64(modelLimit)*exactMargin), minExactMargin)
		}
		limit = max(modelLimit-margin, 1)
	}
	if chunkTokens > 0 {
		own := chunkTokens
		if !exact {
			own = max(chunkTokens-int64(float64(chunkTokens)*estimateMargin), 1)
		}
		if limit == 0 || own < limit {
			limit = own
		}
	}
	return limit
}

// NewMapReduce returns a MultiFunc that answers one document per row,
// however long it is:
//
//   - a row whose prompt fits MaxPrompt is one request; values are
//     [answer, "1"];
//   - otherwise the text is split (SplitText) so that each part, headed
//     "[part i of n]", fits in the job's prompt; the parts are asked, up
//     to Parallel at a time (map); the answers are joined in part order
//     with blank lines and asked with
//     the Reduce prompt (reduce). When the joined answers do not fit
//     either, they are split, mapped with the Reduce prompt and joined
//     again, up to MaxReduceRounds times. values are [final answer,
//     number of requests].
//
// With Parallel above 1, ask must be safe for concurrent use. Once a part
// fails, parts not yet started are not sent (those already in flight are
// answered and, with a run store, kept for a rerun).
//
// An error from ask is returned unchanged. A prompt that leaves no room
// for the text wraps ErrNoRoom; partial answers that do not get shorter, or
// more than MaxReduceRounds reduce rounds, are row errors too.
func NewMapReduce(cfg ChunkConfig) MultiFunc {
	return func(row readers.Row, ask func(model.Request) (model.Response, error)) ([]string, error) {
		m := &mapReduce{cfg: cfg, row: row, ask: ask}
		answer, err := m.run()
		if err != nil {
			return nil, err
		}
		return []string{answer, strconv.FormatInt(m.asked.Load(), 10)}, nil
	}
}

// mapReduce is the work on one row.
type mapReduce struct {
	cfg   ChunkConfig
	row   readers.Row
	ask   func(model.Request) (model.Response, error)
	asked atomic.Int64
}

func (m *mapReduce) run() (string, error) {
	cfg := m.cfg
	if cfg.Render == nil || cfg.Count == nil {
		return "", errors.New("long documents: chunking is not configured (no renderer or token counter)")
	}
	if cfg.TextColumn < 0 || cfg.TextColumn >= len(m.row.Values) {
		return "", fmt.Errorf("long documents: text column %d is not in the row, which has %d columns", cfg.TextColumn+1, len(m.row.Values))
	}
	req, skip := cfg.Render(m.row.Values)
	if skip {
		return "", nil // the engine does not call a MultiFunc for such rows
	}
	if cfg.MaxPrompt <= 0 || cfg.Count(req) <= cfg.MaxPrompt {
		return m.send(req)
	}
	text := m.row.Values[cfg.TextColumn]
	// Each reduce round must shorten the text, or it would never end (a
	// prompt that answers at length, such as a translation): lastTokens is
	// what the round before had to fit.
	lastTokens := m.textCounter(req)(text)
	parts, err := m.mapParts(cfg.Render, text, "document")
	if err != nil {
		return "", err
	}
	reduce := cfg.Reduce
	if reduce == nil {
		reduce = cfg.Render
	}
	for round := 1; ; round++ {
		joined := strings.Join(parts, "\n\n")
		req, skip := reduce(m.withText(joined))
		if skip {
			return "", nil // every partial answer was empty
		}
		if cfg.Count(req) <= cfg.MaxPrompt {
			return m.send(req)
		}
		if round > MaxReduceRounds {
			return "", fmt.Errorf("long documents: the partial answers still do not fit in one request after %d rounds of combining them; raise --chunk-tokens or ask for shorter answers (max_tokens)", MaxReduceRounds)
		}
		tokens := m.textCounter(req)(joined)
		if tokens >= lastTokens {
			return "", fmt.Errorf("long documents: the %d partial answers (%d tokens) are not shorter than the text they came from (%d tokens), so they would never fit in one request of %d tokens; ask for shorter answers (max_tokens) or raise --chunk-tokens", len(parts), tokens, lastTokens, cfg.MaxPrompt)
		}
		lastTokens = tokens
		if parts, err = m.mapParts(reduce, joined, "partial answers"); err != nil {
			return "", err
		}
	}
}

func (m *mapReduce) send(req model.Request) (string, error) {
	m.asked.Add(1)
	resp, err := m.ask(req)
	if err != nil {
		return "", err
	}
	return resp.Content, nil
}

// withText returns a copy of the row's values with text in place of the
// document's text.
func (m *mapReduce) withText(text string) []string {
	values := append([]string(nil), m.row.Values...)
	values[m.cfg.TextColumn] = text
	return values
}

// partHeader tells the model which part of how many it is reading.
func partHeader(i, n int) string { return fmt.Sprintf("[part %d of %d]\n", i, n) }

// sendAll asks every request, up to cfg.Parallel at a time, and returns
// the answers in the order of reqs. After the first error no further
// request is started; the first error is returned.
func (m *mapReduce) sendAll(reqs []model.Request) ([]string, error) {
	answers := make([]string, len(reqs))
	var g errgroup.Group
	g.SetLimit(max(m.cfg.Parallel, 1))
	var failed, awaiting atomic.Bool
	for i, req := range reqs {
		if failed.Load() {
			break
		}
		g.Go(func() error {
			if failed.Load() {
				return nil
			}
			a, err := m.send(req)
			switch {
			case errors.Is(err, errAwaitingBatch):
				// Batch mode's planning pass: this part goes into a
				// batch, and so do the others.
				awaiting.Store(true)
				return nil
			case err != nil:
				failed.Store(true)
				return err
			}
			answers[i] = a
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if awaiting.Load() {
		return nil, errAwaitingBatch
	}
	return answers, nil
}

// textCounter returns a function that counts a string as the text of a
// message in a request like req: the same model and options, so the same
// vocabulary and chat template, with the framing of an empty message
// subtracted.
func (m *mapReduce) textCounter(req model.Request) func(string) int {
	probe := req
	probe.Messages = []model.Message{{Role: "user", Content: ""}}
	framing := m.cfg.Count(probe)
	return func(s string) int {
		p := req
		p.Messages = []model.Message{{Role: "user", Content: s}}
		return int(m.cfg.Count(p) - framing)
	}
}

// mapParts splits text so that each part's request fits MaxPrompt, asks
// them in order and returns the answers. what names the text in errors.
func (m *mapReduce) mapParts(render RenderFunc, text, what string) ([]string, error) {
	limit := m.cfg.MaxPrompt
	// The overhead is measured with the widest header the parts are likely
	// to get; a wider one is caught by the check below.
	probe, skip := render(m.withText(partHeader(999, 999)))
	if skip {
		return nil, fmt.Errorf("long documents: the prompt renders nothing for a part of the %s", what)
	}
	overhead := m.cfg.Count(probe)
	if overhead >= limit {
		return nil, fmt.Errorf("%w: the %s does not fit in one request, and the prompt around it is already %d tokens, at or over the limit of %d per request; raise --chunk-tokens (or use a model with a larger input limit) or shorten the prompt",
			ErrNoRoom, what, overhead, limit)
	}
	budget := limit - overhead
	countText := m.textCounter(probe)
	for range chunkTries {
		chunks := SplitText(text, int(budget), countText)
		reqs := make([]model.Request, 0, len(chunks))
		worst := int64(0)
		for i, c := range chunks {
			req, skip := render(m.withText(partHeader(i+1, len(chunks)) + c))
			if skip {
				return nil, fmt.Errorf("long documents: the prompt renders nothing for part %d of the %s", i+1, what)
			}
			reqs = append(reqs, req)
			worst = max(worst, m.cfg.Count(req))
		}
		if worst <= limit {
			return m.sendAll(reqs)
		}
		// Shrink the text budget in proportion to the overshoot: a
		// placeholder used twice halves it, a few tokens lost at the
		// edges take off a few.
		next := budget * (limit - overhead) / (worst - overhead)
		if next >= budget {
			next = budget - 1
		}
		if next < 1 {
			break
		}
		budget = next
	}
	return nil, fmt.Errorf("%w: the %s could not be split into parts whose requests fit in %d tokens; raise --chunk-tokens or shorten the prompt",
		ErrNoRoom, what, limit)
}
