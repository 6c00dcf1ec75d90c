package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"bulkgen/model"
	"bulkgen/prompts"
	"bulkgen/readers"
)

// TokenCounter counts the input tokens a request is billed for. exact is
// false when the count is an estimate (a model without a known tokenizer).
type TokenCounter func(req model.Request) (n int64, exact bool)

// ShapeCounter returns a counter for the requests made by filling msgs
// with values (see model.PromptCounter.Shape), and whether its counts are
// exact; ok is false when msgs cannot be counted that way.
type ShapeCounter func(base model.Request, msgs []model.ShapedMessage) (count func(values []string) int64, exact, ok bool)

// EstimateOptions is what `bulkgen estimate` needs: the same input and job
// as a run, no output.
type EstimateOptions struct {
	Input         string
	ReaderOptions readers.Options
	Job           prompts.Job
	Stdin         io.Reader
	Limit         int     // first N rows only
	RPM, TPM      float64 // for the time estimate
	Prices        *model.Prices
	Count         TokenCounter
	// Shape, when set, counts each row from its values through the job's
	// template instead of rendering and counting its request: the same
	// figures without tokenising the fixed text again on every row.
	Shape ShapeCounter
	// Pilot sends this many rows, sampled across the file, through Client
	// for real, to measure answer sizes.
	Pilot  int
	Client model.Client
	// ExpectedOutputTokens is assumed per row when there is neither a
	// pilot nor max_tokens.
	ExpectedOutputTokens int64
	Workers              int
	// Translate estimates a translation job: one request per distinct
	// cell that would be sent (see TranslateCells).
	Translate *TranslateOptions
	// ChunkColumn and ChunkTokens are run's: a document whose prompt is
	// over the limit is counted as the parts and the combining requests
	// the run would send (see NewMapReduce).
	ChunkColumn string
	ChunkTokens int64
}

// Range is low / expected / high.
type Range struct {
	Low      float64 `json:"low"`
	Expected float64 `json:"expected"`
	High     float64 `json:"high"`
}

// Estimate is the answer of `bulkgen estimate`.
type Estimate struct {
	Model string `json:"model"`
	// Unit is what Rows counts: "rows", or "cells" for a translation.
	Unit      string `json:"unit"`
	Rows      int64  `json:"rows"`       // rows that would be sent
	Requests  int64  `json:"requests"`   // requests they need: more than rows for long documents in parts, fewer for packed cells
	Skipped   int64  `json:"skipped"`    // rows with every prompt column empty
	RowErrors int64  `json:"row_errors"` // malformed input rows
	Input     struct {
		// Per is what Min, Median and Max are per: "row", "cell", or
		// "request" (packs of cells).
		Per    string `json:"per"`
		Min    int64  `json:"min"`
		Median int64  `json:"median"`
		Max    int64  `json:"max"`
		Total  int64  `json:"total"`
		Exact  bool   `json:"exact"`
	} `json:"input_tokens"`
	Output struct {
		Range
		Basis string `json:"basis"`
	} `json:"output_tokens"`
	Currency     string `json:"currency,omitempty"`
	PriceNote    string `json:"price_note,omitempty"`
	CostRealtime *Range `json:"cost_realtime,omitempty"`
	CostBatch    *Range `json:"cost_batch,omitempty"`
	// Time is the wall time --rpm/--tpm allow at best (0 when neither
	// is set).
	TimeSeconds  float64  `json:"time_seconds"`
	TimeBasis    string   `json:"time_basis"`
	ContextLimit int64    `json:"context_limit"`
	OverContext  int64    `json:"over_context"`
	OverExamples []string `json:"over_context_rows,omitempty"`
	Pilot        *Pilot   `json:"pilot,omitempty"`
}

// Pilot is what the pilot requests measured.
type Pilot struct {
	Rows             int     `json:"rows"`
	Failed           int     `json:"failed"`
	CompletionMean   float64 `json:"completion_mean"`
	CompletionP10    float64 `json:"completion_p10"`
	CompletionP90    float64 `json:"completion_p90"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
}

// countAgg accumulates one worker's counts.
type countAgg struct {
	rows, skipped, rowErrs, total int64
	requests                      int64
	min, max                      int64
	hist                          tally // tokens → rows, for an exact median in bounded memory
	// prompts counts requests by their input tokens, which is all their
	// prices depend on: they are priced once per size at the end (costs)
	// rather than once per request.
	prompts    tally
	over       int64
	overKeys   []string
	exact      bool
	outHint    int64 // Σ expected output tokens (translation: the cells' own size)
	perRequest bool  // min/median/max are per request, not per row (packs of cells)
}

func newCountAgg() *countAgg { return &countAgg{exact: true} }

// add counts one row (or request) of n input tokens.
func (a *countAgg) add(n int64) {
	a.total += n
	if a.min == 0 || n < a.min {
		a.min = n
	}
	a.max = max(a.max, n)
	a.hist.inc(n, 1)
}

// request counts one request of n input tokens, for its price.
func (a *countAgg) request(n int64) { a.prompts.inc(n, 1) }

// costs prices the requests: the realtime cost of their input, each at
// its tier, and the sum over requests of their tier's price per output
// token.
func (a *countAgg) costs(p *model.Price, thinking bool) (input, outPerToken float64) {
	if p == nil {
		return 0, 0
	}
	a.prompts.each(func(n, count int64) {
		in := p.Cost(model.Usage{PromptTokens: n}, thinking, false)
		input += in * float64(count)
		outPerToken += (p.Cost(model.Usage{PromptTokens: n, CompletionTokens: 1}, thinking, false) - in) * float64(count)
	})
	return input, outPerToken
}

func (a *countAgg) merge(b *countAgg) {
	a.rows += b.rows
	a.requests += b.requests
	a.skipped += b.skipped
	a.rowErrs += b.rowErrs
	a.total += b.total
	if b.rows > 0 && (a.min == 0 || b.min < a.min) {
		a.min = b.min
	}
	a.max = max(a.max, b.max)
	b.hist.each(a.hist.inc)
	b.prompts.each(a.prompts.inc)
	a.over += b.over
	a.outHint += b.outHint
	a.overKeys = append(a.overKeys, b.overKeys...)
	a.exact = a.exact && b.exact
}

func (a *countAgg) median() int64 {
	var keys []int64
	count := int64(0) // rows, or requests when counted per request
	a.hist.each(func(k, n int64) {
		keys = append(keys, k)
		count += n
	})
	slices.Sort(keys)
	half, seen := (count+1)/2, int64(0)
	for _, k := range keys {
		seen += a.hist.get(k)
		if seen >= half {
			return k
		}
	}
	return 0
}

// tally counts how often each number occurs: small numbers in a slice,
// others in a map, so that counting a typical prompt size costs an index
// rather than a hash.
type tally struct {
	small []int64 // number → count, for numbers below tallySmall
	big   map[int64]int64
}

const tallySmall = 1 << 13

func (t *tally) inc(n, count int64) {
	if n >= 0 && n < tallySmall {
		if t.small == nil {
			t.small = make([]int64, tallySmall)
		}
		t.small[n] += count
		return
	}
	if t.big == nil {
		t.big = map[int64]int64{}
	}
	t.big[n] += count
}

func (t *tally) get(n int64) int64 {
	if n >= 0 && n < int64(len(t.small)) {
		return t.small[n]
	}
	return t.big[n]
}

// each calls f for every number counted, in no particular order.
func (t *tally) each(f func(n, count int64)) {
	for n, c := range t.small {
		if c > 0 {
			f(int64(n), c)
		}
	}
	for n, c := range t.big {
		f(n, c)
	}
}

// RunEstimate reads the whole input, counts every row's input tokens
// (on all cores) and prices the run, without calling the model unless a
// pilot is asked for.
func RunEstimate(ctx context.Context, opts EstimateOptions) (Estimate, error) {
	var est Estimate
	src, err := readers.Open(opts.Input, opts.ReaderOptions, opts.Stdin)
	if err != nil {
		return est, err
	}
	defer src.Close()
	var render RenderFunc
	var shape *rowShape // counts a row without rendering it, or nil
	var outputHint func([]string) int64
	if opts.Translate != nil {
		cc, err := TranslateCells(src, *opts.Translate, opts.Job, displayName(opts.Input), opts.Count)
		if err != nil {
			return est, err
		}
		src, render, outputHint = cc.cells, cc.render, cc.hint
		est.Unit = "cells"
		if opts.Shape != nil {
			if count, exact, ok := opts.Shape(cc.base, cc.msgs); ok {
				// The cell's own tokens are its prompt's less the
				// bare prompt's: the answer-size guess comes free.
				bare := count([]string{""})
				shape = &rowShape{fits: cc.plain, count: count, exact: exact,
					hint: func(n int64) int64 { return n - bare }}
			}
		}
	} else {
		r, err := prompts.NewRenderer(opts.Job, src.Columns(), displayName(opts.Input))
		if err != nil {
			return est, err
		}
		render = r.Render
		est.Unit = "rows"
		if base, msgs, ok := r.Shape(); ok && opts.Shape != nil {
			if count, exact, ok := opts.Shape(base, msgs); ok {
				shape = &rowShape{skips: r.Skips, count: count, exact: exact}
			}
		}
	}
	est.Model = opts.Job.Model
	var price *model.Price
	thinking := Thinks(opts.Job)
	price, est.Currency, est.PriceNote = priceOf(opts.Prices, opts.Job.Model, " (add prices with --prices FILE)")
	est.ContextLimit = model.MaxInputTokens(opts.Job.Model)
	// Packs of cells, and cells of a workbook translated in place (where
	// the run leaves formula, number and boolean cells alone, whatever
	// their text), are counted by the translation's own planning pass.
	packed := opts.Translate != nil && (opts.Translate.Pack > 1 || opts.Translate.InPlace && inputFormat(opts) == "xlsx")
	var all *countAgg
	var sample []readers.Row // reservoir of pilot rows
	if packed {
		// Packs of cells: counted as the run builds them (see
		// countPackedTranslation); a pilot samples cells in a pass of
		// its own.
		if all, err = countPackedTranslation(ctx, opts); err != nil {
			return est, err
		}
		if opts.Pilot > 0 {
			if sample, err = samplePilot(ctx, src, opts); err != nil {
				return est, err
			}
		}
	} else {
		parts, err := chunkEstimator(opts, src.Columns())
		if err != nil {
			return est, err
		}
		c := rowCounter{opts: opts, render: render, outputHint: outputHint, parts: parts,
			limit: est.ContextLimit}
		if parts == nil {
			c.shape = shape
		}
		if all, sample, err = c.count(ctx, src); err != nil {
			return est, err
		}
	}
	est.Rows, est.Requests, est.Skipped, est.RowErrors = all.rows, all.requests, all.skipped, all.rowErrs
	est.Input.Min, est.Input.Median, est.Input.Max, est.Input.Total, est.Input.Exact = all.min, all.median(), all.max, all.total, all.exact
	est.Input.Per = strings.TrimSuffix(est.Unit, "s")
	if all.perRequest {
		est.Input.Per = "request"
	}
	est.OverContext = all.over
	sort.Strings(all.overKeys)
	est.OverExamples = all.overKeys

	// Output: from the pilot if any, max_tokens as the ceiling.
	perRow := Range{Low: 0, Expected: float64(opts.ExpectedOutputTokens), High: float64(opts.ExpectedOutputTokens)}
	est.Output.Basis = fmt.Sprintf("assumed %d tokens per row (--expect-output-tokens); --pilot N measures it", opts.ExpectedOutputTokens)
	if opts.Pilot > 0 && len(sample) > 0 {
		p, err := runPilot(ctx, opts, render, sample)
		if err != nil {
			return est, err
		}
		est.Pilot = p
		if p.Rows > p.Failed {
			perRow = Range{Low: p.CompletionP10, Expected: p.CompletionMean, High: p.CompletionP90}
			est.Output.Basis = fmt.Sprintf("pilot of %d %s sampled across the input (10th–90th percentile)", p.Rows-p.Failed, est.Unit)
		}
	}
	if mt := opts.Job.MaxTokens; mt != nil {
		ceiling := float64(*mt)
		perRow.Low, perRow.Expected = math.Min(perRow.Low, ceiling), math.Min(perRow.Expected, ceiling)
		perRow.High = ceiling
		if est.Pilot == nil {
			perRow.Expected = ceiling / 2
			est.Output.Basis = fmt.Sprintf("max_tokens %d per row as the ceiling; expected assumed half of it (--pilot N measures it)", *mt)
		} else {
			est.Output.Basis += fmt.Sprintf("; max_tokens %d per row as the ceiling", *mt)
		}
	}
	// Output comes per request: a long document in parts gets an answer
	// per part and per combining request. Packed cells are the exception:
	// a pack's answer holds its cells' translations, and the pilot
	// measured cells one by one.
	requests := float64(all.requests)
	answers := requests
	if packed {
		answers = float64(all.rows)
	}
	est.Output.Range = Range{Low: perRow.Low * answers, Expected: perRow.Expected * answers, High: perRow.High * answers}
	if all.requests > all.rows {
		est.Output.Basis += fmt.Sprintf("; per request: %s requests for %s rows (long documents in parts)", human(all.requests), human(all.rows))
	}
	if mt := opts.Job.MaxTokens; packed && mt != nil {
		est.Output.High = math.Min(est.Output.High, float64(*mt)*requests)
		est.Output.Expected = math.Min(est.Output.Expected, est.Output.High)
		est.Output.Low = math.Min(est.Output.Low, est.Output.Expected)
	}
	if outputHint != nil && est.Pilot == nil {
		// A translation is about as long as its source: the expectation
		// is the cells' own tokens, the range half to twice that (CJK
		// into English grows in tokens, the other way shrinks).
		h := float64(all.outHint)
		est.Output.Range = Range{Low: h * 0.5, Expected: h, High: h * 2}
		est.Output.Basis = "a translation is assumed as long as its cell (half to twice as long); --pilot N measures it"
		if mt := opts.Job.MaxTokens; mt != nil {
			est.Output.High = math.Min(est.Output.High, float64(*mt)*requests)
			est.Output.Expected = math.Min(est.Output.Expected, est.Output.High)
			est.Output.Low = math.Min(est.Output.Low, est.Output.Expected)
			est.Output.Basis += fmt.Sprintf("; max_tokens %d per cell as the ceiling", *mt)
		}
	}

	if price != nil && all.rows > 0 {
		inputCost, outPrice := all.costs(price, thinking)
		avgOut := outPrice / requests // price per output token, averaged over requests' tiers
		rt := Range{
			Low:      inputCost + avgOut*est.Output.Low,
			Expected: inputCost + avgOut*est.Output.Expected,
			High:     inputCost + avgOut*est.Output.High,
		}
		share := price.BatchShare
		if share == 0 {
			share = 0.5
		}
		est.CostRealtime = &rt
		est.CostBatch = &Range{Low: rt.Low * share, Expected: rt.Expected * share, High: rt.High * share}
	}

	// Time: the tighter of --rpm and --tpm, at best.
	var byRPM, byTPM float64
	if opts.RPM > 0 {
		byRPM = requests / opts.RPM * 60
	}
	if opts.TPM > 0 {
		byTPM = (float64(all.total) + est.Output.Expected) / opts.TPM * 60
	}
	switch {
	case byRPM == 0 && byTPM == 0:
		est.TimeBasis = "no --rpm or --tpm given: the time depends on -c and the service's latency"
	case byRPM >= byTPM:
		est.TimeSeconds, est.TimeBasis = byRPM, fmt.Sprintf("%g requests per minute (--rpm)", opts.RPM)
	default:
		est.TimeSeconds, est.TimeBasis = byTPM, fmt.Sprintf("%g tokens per minute (--tpm), expected output", opts.TPM)
	}
	return est, nil
}

// countPackedTranslation counts a translation with --pack as the run
// builds its requests: the same cells skipped and deduplicated, the same
// items and packs, each pack's prompt counted whole. It runs the
// translation's planning pass (executeTranslate, sending nothing) with a
// client that answers every request with its own cells, so every pack
// fits (the run falls back to single cells only when a reply does not)
// and each answer is about as long as a translation. Rows counts cells,
// Requests the requests, and the per-request figures go in the histogram.
func countPackedTranslation(ctx context.Context, opts EstimateOptions) (*countAgg, error) {
	a := newCountAgg()
	a.perRequest = true
	answerTokens := answerCounter(opts.Count, opts.Job.Model)
	var mu sync.Mutex
	echo := clientFunc(func(_ context.Context, req model.Request) (model.Response, error) {
		n, exact := opts.Count(req)
		answer := req.Messages[len(req.Messages)-1].Content
		out := answerTokens(answer)
		mu.Lock()
		defer mu.Unlock()
		a.exact = a.exact && exact
		a.requests++
		a.add(n)
		a.outHint += out
		a.request(n)
		return model.Response{Content: answer}, nil
	})
	o := Options{Input: opts.Input, ReaderOptions: opts.ReaderOptions, Stdin: opts.Stdin, Job: opts.Job,
		Translate: opts.Translate, Client: echo, Stderr: io.Discard,
		Engine: Config{Concurrency: max(opts.Workers, runtime.GOMAXPROCS(0)), FixedConcurrency: true, Limit: opts.Limit}}
	rep, err := executeTranslate(ctx, o, nil, true)
	if err != nil {
		return nil, err
	}
	if rep.Translate != nil {
		a.rows = rep.Translate.Cells
	}
	return a, nil
}

// inputFormat is the input's format as the reader sees it ("" if unknown).
func inputFormat(opts EstimateOptions) string {
	f, _ := readers.DetectFormat(opts.Input, opts.ReaderOptions.Format)
	return f
}

// answerCounter returns the tokens of an answer's text for modelName: an
// assistant message's count less that of an empty one (its framing,
// counted once here).
func answerCounter(count TokenCounter, modelName string) func(text string) int64 {
	answer := func(text string) int64 {
		n, _ := count(model.Request{Model: modelName, Messages: []model.Message{{Role: "assistant", Content: text}}})
		return n
	}
	framing := answer("")
	return func(text string) int64 { return answer(text) - framing }
}

// clientFunc is a model.Client made of a function.
type clientFunc func(context.Context, model.Request) (model.Response, error)

func (f clientFunc) Complete(ctx context.Context, req model.Request) (model.Response, error) {
	return f(ctx, req)
}

// rowCounter counts the rows of an input on all cores: one goroutine
// reads, one per core renders and counts.
type rowCounter struct {
	opts       EstimateOptions
	render     RenderFunc
	outputHint func([]string) int64 // expected output per row, or nil
	// parts lists the requests of a long document (chunkEstimator), or
	// is nil.
	parts func(readers.Row, model.Request) ([]model.Request, error)
	// shape counts a row from its values when set (not with parts).
	shape *rowShape
	limit int64 // the model's input limit; 0 when unknown
}

// rowShape counts rows through their template (see ShapeCounter).
type rowShape struct {
	fits  func(values []string) bool // whether a row's request has the template's shape; nil: all do
	skips func(values []string) bool // whether a row is skipped; nil: none is
	count func(values []string) int64
	exact bool
	// hint, when set, is the output hint of a row of n tokens, replacing
	// rowCounter.outputHint (which would count the row again).
	hint func(n int64) int64
}

// count reads src to the end (or the limit) and returns the counts and a
// sample of opts.Pilot rows taken evenly across it.
func (c rowCounter) count(ctx context.Context, src readers.Reader) (*countAgg, []readers.Row, error) {
	workers := c.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	type batch []readers.Row
	batches := make(chan batch, workers*2)
	rowErrs := make(chan int64, 1)
	pilot := newReservoir(c.opts.Pilot)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(batches)
		var b batch
		var n, errsSeen int64
		for c.opts.Limit <= 0 || n < int64(c.opts.Limit) {
			row, err := src.Read(gctx)
			if errors.Is(err, io.EOF) {
				break
			}
			var rowErr *readers.RowError
			if errors.As(err, &rowErr) {
				errsSeen++
				n++
				continue
			}
			if err != nil {
				return err
			}
			n++
			pilot.add(row)
			b = append(b, row)
			if len(b) == 256 {
				select {
				case batches <- b:
				case <-gctx.Done():
					return gctx.Err()
				}
				b = nil
			}
		}
		if len(b) > 0 {
			select {
			case batches <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		rowErrs <- errsSeen
		return nil
	})
	aggs := make([]*countAgg, workers)
	for w := range workers {
		a := newCountAgg()
		aggs[w] = a
		g.Go(func() error {
			for b := range batches {
				for _, row := range b {
					c.countRow(a, row)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	all := newCountAgg()
	for _, a := range aggs {
		all.merge(a)
	}
	select {
	case all.rowErrs = <-rowErrs:
	default:
	}
	return all, pilot.rows, nil
}

// reservoir keeps n rows sampled evenly from a stream of unknown length,
// in one pass (reservoir sampling: every row equally likely).
type reservoir struct {
	n    int
	seen int64
	rows []readers.Row
	rng  *rand.Rand
}

func newReservoir(n int) *reservoir {
	return &reservoir{n: n, rng: rand.New(rand.NewPCG(1, 2))}
}

func (r *reservoir) add(row readers.Row) {
	if r.n <= 0 {
		return
	}
	r.seen++
	if len(r.rows) < r.n {
		r.rows = append(r.rows, row)
	} else if j := r.rng.Int64N(r.seen); j < int64(r.n) {
		r.rows[j] = row
	}
}

// samplePilot reads src to the end (or the limit) for a pilot's sample
// only: a packed translation is counted by its planning pass, which
// sees packs, not cells.
func samplePilot(ctx context.Context, src readers.Reader, opts EstimateOptions) ([]readers.Row, error) {
	pilot := newReservoir(opts.Pilot)
	for n := 0; opts.Limit <= 0 || n < opts.Limit; n++ {
		row, err := src.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *readers.RowError
		if errors.As(err, &rowErr) {
			continue
		}
		if err != nil {
			return nil, err
		}
		pilot.add(row)
	}
	return pilot.rows, nil
}

// countRow adds one row's requests to a.
func (c rowCounter) countRow(a *countAgg, row readers.Row) {
	var n, requests int64
	hinted := false
	if c.shape != nil && (c.shape.fits == nil || c.shape.fits(row.Values)) {
		if c.shape.skips != nil && c.shape.skips(row.Values) {
			a.skipped++
			return
		}
		n, requests = c.shape.count(row.Values), 1
		a.exact = a.exact && c.shape.exact
		if c.shape.hint != nil {
			a.outHint += c.shape.hint(n)
			hinted = true
		}
		a.request(n)
	} else {
		req, skip := c.render(row.Values)
		if skip {
			a.skipped++
			return
		}
		reqs := []model.Request{req}
		if c.parts != nil {
			// A document that cannot be split (no room for its text) is
			// a row error in the run: it is counted whole, and shows if
			// over the limit.
			if rs, perr := c.parts(row, req); perr == nil {
				reqs = rs
			}
		}
		for _, r := range reqs {
			k, exact := c.opts.Count(r)
			a.exact = a.exact && exact
			n += k
			a.request(k)
		}
		requests = int64(len(reqs))
	}
	a.rows++
	a.requests += requests
	if c.outputHint != nil && !hinted {
		a.outHint += c.outputHint(row.Values)
	}
	a.add(n)
	if requests == 1 && c.limit > 0 && n > c.limit {
		a.over++
		if len(a.overKeys) < 5 {
			a.overKeys = append(a.overKeys, fmt.Sprintf("%s (%d tokens)", row.Key, n))
		}
	}
}

// chunkEstimator returns, for a job with a chunk column, a function that
// lists the requests a row needs: its own when its prompt fits, else the
// parts of its document and the requests that combine their answers
// (NewMapReduce, with answers of the expected output size standing in for
// the real ones). nil when the job is not chunked.
func chunkEstimator(opts EstimateOptions, columns []string) (func(readers.Row, model.Request) ([]model.Request, error), error) {
	if opts.ChunkColumn == "" || opts.Job.Fields != nil || opts.Translate != nil {
		return nil, nil
	}
	render, err := prompts.NewRenderer(opts.Job, columns, displayName(opts.Input))
	if err != nil {
		return nil, err
	}
	multi, err := chunking(Options{Input: opts.Input, Job: opts.Job, ChunkColumn: opts.ChunkColumn, ChunkTokens: opts.ChunkTokens}, render, columns)
	if err != nil || multi == nil {
		return nil, err
	}
	// A stand-in answer: about the expected output of one request.
	perAnswer := opts.ExpectedOutputTokens
	if mt := opts.Job.MaxTokens; mt != nil {
		perAnswer = max(*mt/2, 1)
	}
	answer := strings.Repeat(" word", int(min(perAnswer, 100_000)))
	return func(row readers.Row, _ model.Request) ([]model.Request, error) {
		var reqs []model.Request
		var mu sync.Mutex
		ask := func(req model.Request) (model.Response, error) {
			mu.Lock()
			reqs = append(reqs, req)
			mu.Unlock()
			return model.Response{Content: answer}, nil
		}
		if _, err := multi(row, ask); err != nil {
			return nil, err
		}
		return reqs, nil
	}, nil
}

// runPilot sends the sampled rows for real and measures answer sizes.
func runPilot(ctx context.Context, opts EstimateOptions, render RenderFunc, sample []readers.Row) (*Pilot, error) {
	if opts.Client == nil {
		return nil, errors.New("--pilot needs a model client")
	}
	p := &Pilot{Rows: len(sample)}
	var mu sync.Mutex
	var comps []float64
	var firstFatal error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, row := range sample {
		g.Go(func() error {
			req, skip := render(row.Values)
			if skip {
				mu.Lock()
				p.Failed++
				mu.Unlock()
				return nil
			}
			resp, err := opts.Client.Complete(gctx, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.Failed++
				if model.ClassOf(err) == model.Fatal && firstFatal == nil {
					firstFatal = err
				}
				return nil
			}
			comps = append(comps, float64(resp.Usage.CompletionTokens))
			p.PromptTokens += resp.Usage.PromptTokens
			p.CompletionTokens += resp.Usage.CompletionTokens
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if firstFatal != nil {
		return nil, fmt.Errorf("pilot: %w", firstFatal)
	}
	if len(comps) > 0 {
		sort.Float64s(comps)
		sum := 0.0
		for _, c := range comps {
			sum += c
		}
		p.CompletionMean = sum / float64(len(comps))
		p.CompletionP10 = comps[int(float64(len(comps)-1)*0.1)]
		p.CompletionP90 = comps[int(math.Ceil(float64(len(comps)-1)*0.9))]
	}
	return p, nil
}

// WriteTable prints the estimate for people.
func (e Estimate) WriteTable(w io.Writer) {
	exact := "exact"
	if !e.Input.Exact {
		exact = "estimated (no tokenizer for this model family)"
	}
	unit, per := "rows ", "row"
	if e.Unit == "cells" {
		unit, per = "cells", "cell"
	}
	if e.Input.Per != "" {
		per = e.Input.Per
	}
	fmt.Fprintf(w, "model            %s\n", e.Model)
	switch {
	case e.Unit == "cells" && e.Input.Per == "request":
		fmt.Fprintf(w, "%s            %s to send in %s requests (packs as the run makes them; identical cells once)", unit, human(e.Rows), human(e.Requests))
	case e.Unit == "cells":
		fmt.Fprintf(w, "%s            %s to send (one request each; identical cells once)", unit, human(e.Rows))
	default:
		fmt.Fprintf(w, "%s            %s to send", unit, human(e.Rows))
	}
	if e.Unit != "cells" && e.Requests > e.Rows {
		fmt.Fprintf(w, " in %s requests (long documents go in parts, then a request combines their answers)", human(e.Requests))
	}
	if e.Skipped > 0 {
		fmt.Fprintf(w, ", %s skipped (prompt columns empty)", human(e.Skipped))
	}
	if e.RowErrors > 0 {
		fmt.Fprintf(w, ", %s malformed (would be written with an error)", human(e.RowErrors))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "input tokens     %s total; per %s min %s / median %s / max %s (%s)\n",
		human(e.Input.Total), per, human(e.Input.Min), human(e.Input.Median), human(e.Input.Max), exact)
	fmt.Fprintf(w, "output tokens    %s low / %s expected / %s high\n",
		human(int64(e.Output.Low)), human(int64(e.Output.Expected)), human(int64(e.Output.High)))
	fmt.Fprintf(w, "                 %s\n", e.Output.Basis)
	if e.Pilot != nil {
		unit := e.Unit
		if unit == "" {
			unit = "rows"
		}
		fmt.Fprintf(w, "pilot            %d %s sent (%d failed): %s in / %s out, %.1f out per %s\n",
			e.Pilot.Rows, unit, e.Pilot.Failed, human(e.Pilot.PromptTokens), human(e.Pilot.CompletionTokens), e.Pilot.CompletionMean,
			strings.TrimSuffix(unit, "s"))
	}
	if e.CostRealtime != nil {
		fmt.Fprintf(w, "cost realtime    %s low / %s expected / %s high\n", money(e.CostRealtime.Low, e.Currency), money(e.CostRealtime.Expected, e.Currency), money(e.CostRealtime.High, e.Currency))
		fmt.Fprintf(w, "cost batch API   %s low / %s expected / %s high\n", money(e.CostBatch.Low, e.Currency), money(e.CostBatch.Expected, e.Currency), money(e.CostBatch.High, e.Currency))
	}
	if e.PriceNote != "" {
		fmt.Fprintf(w, "price            %s\n", e.PriceNote)
	}
	if e.TimeSeconds > 0 {
		fmt.Fprintf(w, "time             at least %s at %s\n", roundDuration(time.Duration(e.TimeSeconds*float64(time.Second))), e.TimeBasis)
	} else {
		fmt.Fprintf(w, "time             %s\n", e.TimeBasis)
	}
	switch {
	case e.ContextLimit == 0:
		fmt.Fprintf(w, "context          limit of %s unknown: rows were not checked against it\n", e.Model)
	case e.OverContext == 0:
		fmt.Fprintf(w, "context          every row fits the %s-token input limit\n", human(e.ContextLimit))
	default:
		fmt.Fprintf(w, "context          %s rows exceed the %s-token input limit and would fail: %v\n", human(e.OverContext), human(e.ContextLimit), e.OverExamples)
	}
}
