package pipeline

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"bulkgen/model"
)

// ResultStore keeps results across runs (see package store). The pipeline
// asks it before sending and saves to it before writing.
type ResultStore interface {
	// Lookup returns the stored response for key, and whether it was
	// stored by this same run (an in-run duplicate) or an earlier one.
	Lookup(ctx context.Context, key string) (resp model.Response, sameRun, ok bool, err error)
	// LookupError returns a stored row-level error for key.
	LookupError(ctx context.Context, key string) (msg string, ok bool, err error)
	// Save commits resp durably before returning.
	Save(ctx context.Context, key string, resp model.Response) error
	// SaveError records a row-level error for key.
	SaveError(ctx context.Context, key, msg string) error
}

// StoredError is a row-level error taken from the store (--keep-errors).
type StoredError struct{ Msg string }

func (e *StoredError) Error() string {
	return e.Msg + " (stored by an earlier run; rerun without --keep-errors to retry)"
}

// caller sends rows' requests: it looks in the store, joins identical
// requests in flight, paces and limits, retries, keeps the budget, and
// saves results.
type caller struct {
	cfg         Config
	client      model.Client
	stats       *Stats
	sendCtx     context.Context
	callCtx     context.Context
	stopSending context.CancelCauseFunc

	ctl     *controller
	tokens  *tokenPacer
	budgets []*budget // tokens and/or money; all must allow a request
	flights flights
	recent  *recentResults        // in-run dedupe when there is no store
	saves   sync.WaitGroup        // saves still committing (see save)
	saveErr atomic.Pointer[error] // the first failed save
	// saveSlots bounds the answers awaiting their commit to one per
	// worker: a kill -9 loses at most those and the requests in flight.
	saveSlots chan struct{}

	mu        sync.Mutex
	maxOutput int64 // largest completion seen, for estimates
}

func newCaller(cfg Config, client model.Client, stats *Stats, sendCtx, callCtx context.Context, stop context.CancelCauseFunc) *caller {
	c := &caller{
		cfg: cfg, client: client, stats: stats,
		sendCtx: sendCtx, callCtx: callCtx, stopSending: stop,
		ctl:       newController(cfg.Concurrency, cfg.RPM, !cfg.FixedConcurrency),
		tokens:    newTokenPacer(cfg.TPM),
		flights:   flights{m: map[string]*flight{}},
		saveSlots: make(chan struct{}, max(1, cfg.Concurrency)),
	}
	if cfg.MaxTokensTotal > 0 {
		c.budgets = append(c.budgets, &budget{limit: float64(cfg.MaxTokensTotal),
			measure: func(u model.Usage) float64 { return float64(u.PromptTokens + u.CompletionTokens) }})
	}
	if cfg.MaxCost > 0 && cfg.Price != nil {
		price, thinking := *cfg.Price, cfg.Thinking
		c.budgets = append(c.budgets, &budget{limit: cfg.MaxCost,
			measure: func(u model.Usage) float64 { return price.Cost(u, thinking || u.ReasoningTokens > 0, false) }})
	}
	if cfg.Store == nil {
		c.recent = newRecentResults(10000)
	}
	if h, ok := client.(model.RoundTripHinter); ok {
		c.ctl.roundTrip = h.RoundTripHint
	}
	return c
}

// do produces one row's result. An error return is a failure of the run
// itself (the store could not be read or written), not of the row.
func (c *caller) do(t task) (Result, error) {
	if c.cfg.Multi != nil && t.err == nil && !t.skip {
		return c.multi(t)
	}
	r, err := c.ask(t)
	if err != nil || c.cfg.Parser == nil || r.Err != nil || r.Skipped || r.unfinished {
		return r, err
	}
	return c.validate(t, r)
}

// errNotFinished is what a MultiFunc's ask returns when the run stopped
// before the request had an answer.
var errNotFinished = errors.New("not finished: the run stopped first")

// multi runs cfg.Multi for one row, adding up its requests. The Multi
// may call ask from several goroutines at once (the parts of a long
// document): the row's sums are kept under a lock.
func (c *caller) multi(t task) (Result, error) {
	r := Result{Row: t.row, seq: t.seq, FromStore: true}
	var (
		mu       sync.Mutex
		runErr   error
		asked    int
		awaiting bool // some request's answer is to come from a batch
	)
	ask := func(req model.Request) (model.Response, error) {
		mu.Lock()
		stopped := runErr != nil || r.unfinished
		mu.Unlock()
		if stopped {
			return model.Response{}, errNotFinished
		}
		one, err := c.ask(task{row: t.row, seq: t.seq, req: req})
		mu.Lock()
		defer mu.Unlock()
		asked++
		r.Attempts += one.Attempts
		r.FromStore = r.FromStore && one.FromStore
		r.Response.Usage = addUsage(r.Response.Usage, one.Response.Usage)
		switch {
		case err != nil:
			runErr = err
			return model.Response{}, errNotFinished
		case one.awaiting:
			// The row's other requests may still be asked: a planning
			// pass collects them all.
			awaiting = true
			return model.Response{}, errAwaitingBatch
		case one.unfinished:
			r.unfinished = true
			return model.Response{}, errNotFinished
		case one.Err != nil:
			return model.Response{}, one.Err
		}
		r.Response.FinishReason = one.Response.FinishReason
		r.Response.Model = one.Response.Model
		r.Response.Batch = one.Response.Batch
		return one.Response, nil
	}
	values, err := c.cfg.Multi(t.row, ask)
	if runErr != nil {
		r.unfinished = true
		return r, runErr
	}
	if asked == 0 {
		r.FromStore = false
	}
	switch {
	case r.unfinished || awaiting || errors.Is(err, errNotFinished):
		r.unfinished = true
	case err != nil:
		r.Err = err
	default:
		r.Fields = values
		if r.Response.FinishReason == "" {
			r.Response.FinishReason = "stop"
		}
	}
	return r, nil
}

// InvalidReplyError is a row whose reply never passed the job's field
// checks. It carries the last reply, so that the output shows what the
// model said.
type InvalidReplyError struct {
	Err      error
	Reply    string
	Attempts int
}

func (e *InvalidReplyError) Error() string {
	reply := e.Reply
	if r := []rune(reply); len(r) > 300 {
		reply = string(r[:300]) + "…"
	}
	return fmt.Sprintf("invalid reply after %d attempt(s): %v; reply: %s", e.Attempts, e.Err, reply)
}

func (e *InvalidReplyError) Unwrap() error { return e.Err }

// validate parses r's reply; an invalid one is asked again with the problem
// fed back (each repair is an ordinary request: stored, deduplicated,
// retried), up to Retries times. The row's usage adds up every attempt.
func (c *caller) validate(t task, r Result) (Result, error) {
	req := t.req
	var spent model.Usage // earlier attempts
	for attempt := 1; ; attempt++ {
		values, perr := c.cfg.Parser.Parse(r.Response.Content)
		if perr == nil {
			r.Fields = values
			r.Response.Usage = addUsage(spent, r.Response.Usage)
			return r, nil
		}
		if attempt > c.cfg.Retries {
			r.Err = &InvalidReplyError{Err: perr, Reply: r.Response.Content, Attempts: attempt}
			r.Response.Usage = addUsage(spent, r.Response.Usage)
			return r, nil
		}
		spent = addUsage(spent, r.Response.Usage)
		req = c.cfg.Parser.Repair(req, r.Response.Content, perr)
		next, err := c.ask(task{row: t.row, seq: t.seq, req: req})
		if err != nil || next.Err != nil || next.unfinished {
			next.Response.Usage = addUsage(spent, next.Response.Usage)
			next.Attempts += r.Attempts
			return next, err
		}
		next.Attempts += r.Attempts
		next.FromStore = r.FromStore && next.FromStore
		next.Deduped = r.Deduped && next.Deduped
		r = next
	}
}

func addUsage(a, b model.Usage) model.Usage {
	return model.Usage{
		PromptTokens: a.PromptTokens + b.PromptTokens, CompletionTokens: a.CompletionTokens + b.CompletionTokens,
		TotalTokens: a.TotalTokens + b.TotalTokens, ReasoningTokens: a.ReasoningTokens + b.ReasoningTokens,
		CachedTokens: a.CachedTokens + b.CachedTokens,
	}
}

// ask produces the answer to one request: from the store, from an
// identical request in flight, or from the service.
func (c *caller) ask(t task) (Result, error) {
	r := Result{Row: t.row, seq: t.seq}
	switch {
	case t.err != nil:
		r.Err = t.err
		return r, nil
	case t.skip:
		r.Skipped = true
		return r, nil
	}
	key := model.RequestKey(c.cfg.Endpoint, t.req)

	// Answered before?
	if done, err := c.answered(key, &r); done || err != nil {
		return r, err
	}

	// Asked right now by another row? Wait for its answer.
	f, leader := c.flights.join(key)
	if !leader {
		select {
		case <-f.done:
		case <-c.callCtx.Done():
			r.unfinished = true
			return r, nil
		}
		if f.res.unfinished || (f.res.Err != nil && model.ClassOf(f.res.Err) != model.RowFinal) {
			// The first row did not get a final answer; this row
			// has not either (it will be asked on the next run).
			r.unfinished, r.awaiting = f.res.unfinished, f.res.awaiting
			r.Err = f.res.Err
			return r, nil
		}
		r.Response, r.Err, r.Deduped, r.saved = f.res.Response, f.res.Err, true, f.res.saved
		return r, nil
	}
	// Look again: the row this one would have joined may have finished
	// between the lookup above and the join.
	if done, err := c.answered(key, &r); done || err != nil {
		if err != nil {
			r.unfinished = true
		}
		c.flights.finish(key, f, r)
		return r, err
	}
	r = c.send(t, r)
	switch {
	case r.unfinished:
	case r.Err == nil:
		if c.cfg.Store != nil {
			resp := r.Response
			r = c.save(key, f, r, func(ctx context.Context) error { return c.cfg.Store.Save(ctx, key, resp) })
			return r, nil
		}
		c.recent.put(key, r.Response)
	case model.ClassOf(r.Err) == model.RowFinal && c.cfg.Store != nil:
		msg := r.Err.Error()
		r = c.save(key, f, r, func(ctx context.Context) error { return c.cfg.Store.SaveError(ctx, key, msg) })
		return r, nil
	}
	c.flights.finish(key, f, r)
	return r, nil
}

// save commits a paid-for answer in the background, so that the worker
// goes on to its next request while the store gathers a batch, and r
// carries the commit's outcome: the writer waits for it before writing
// the row (saved before written: a crash loses nothing that was paid
// for).
//
// The flight ends only once the answer is committed: a twin of the
// request that comes after then finds it in the store instead of sending
// it again. A failed save stops all sending at once; the writer reports
// the error when it reaches the row.
func (c *caller) save(key string, f *flight, r Result, commit func(context.Context) error) Result {
	r.saved = &saveWait{done: make(chan struct{})}
	c.saveSlots <- struct{}{}
	c.saves.Add(1)
	go func() {
		defer func() { <-c.saveSlots; c.saves.Done() }()
		// Without the run's cancellation: an answer paid for is kept
		// even when the run is interrupted.
		err := commit(context.WithoutCancel(c.callCtx))
		if err != nil {
			err = fmt.Errorf("run store: save result of row %s: %w", r.Row.Key, err)
			c.saveErr.CompareAndSwap(nil, &err)
			c.stopSending(err)
		}
		r.saved.err = err
		close(r.saved.done)
		c.flights.finish(key, f, r)
	}()
	return r
}

// saveWait is the outcome of a background save.
type saveWait struct {
	done chan struct{}
	err  error // set before done is closed
}

func (w *saveWait) wait() error {
	<-w.done
	return w.err
}

// answered fills r from an earlier answer to the request key, if there is
// one: the store (this run or, unless --refresh, an earlier one) or, with
// no store, the recent in-run answers.
func (c *caller) answered(key string, r *Result) (bool, error) {
	if c.cfg.Store == nil {
		if resp, ok := c.recent.get(key); ok {
			r.Response, r.Deduped = resp, true
			return true, nil
		}
		return false, nil
	}
	resp, same, ok, err := c.cfg.Store.Lookup(c.callCtx, key)
	if err != nil {
		return false, fmt.Errorf("run store: %w", err)
	}
	if ok && (same || !c.cfg.Refresh) {
		r.Response, r.Deduped, r.FromStore = resp, same, !same
		return true, nil
	}
	if c.cfg.KeepErrors && !c.cfg.Refresh {
		msg, ok, err := c.cfg.Store.LookupError(c.callCtx, key)
		if err != nil {
			return false, fmt.Errorf("run store: %w", err)
		}
		if ok {
			r.Err, r.FromStore = &StoredError{Msg: msg}, true
			return true, nil
		}
	}
	return false, nil
}

// send asks the service, retrying what is retryable.
func (c *caller) send(t task, r Result) Result {
	promptEst := model.EstimatePromptTokens(t.req)
	for {
		if c.sendCtx.Err() != nil {
			r.unfinished = true
			return r
		}
		outEst := c.outputEstimate(t.req)
		est := promptEst + outEst
		estUsage := model.Usage{PromptTokens: promptEst, CompletionTokens: outEst, TotalTokens: est}
		held, ok := c.reserve(c.sendCtx, estUsage)
		if !ok {
			if c.sendCtx.Err() == nil {
				c.stopSending(ErrBudget)
			}
			r.unfinished = true
			return r
		}
		if err := c.tokens.wait(c.sendCtx, est); err != nil {
			c.settle(held, model.Usage{})
			r.unfinished = true
			return r
		}
		sent, err := c.ctl.acquire(c.sendCtx)
		if err != nil {
			c.settle(held, model.Usage{})
			r.unfinished = true
			return r
		}
		r.Attempts++
		c.stats.sent()
		resp, err := c.client.Complete(c.callCtx, t.req)
		c.stats.returned()
		c.ctl.release(sent, outcomeOf(err), model.RetryAfterOf(err))
		if err == nil {
			c.settle(held, resp.Usage)
			c.sawOutput(resp.Usage.CompletionTokens)
			r.Response = resp
			return r
		}
		c.settle(held, model.Usage{})
		if c.callCtx.Err() != nil {
			// Aborted after the grace period, or a stage failed: the
			// request's outcome is unknown, so the row is not finished.
			r.unfinished = true
			return r
		}
		if errors.Is(err, errAwaitingBatch) {
			// Batch mode's planning pass: the request is still to be put
			// into a batch.
			r.unfinished, r.awaiting = true, true
			return r
		}
		c.stats.failedAttempt(err)
		switch model.ClassOf(err) {
		case model.Fatal:
			c.stopSending(&FatalError{Err: err})
			r.unfinished = true
			return r
		case model.RowFinal:
			r.Err = err
			return r
		}
		if r.Attempts > c.cfg.Retries {
			if r.Attempts > 1 {
				r.Err = fmt.Errorf("gave up after %d attempts: %w", r.Attempts, err)
			} else {
				r.Err = err
			}
			return r
		}
		c.stats.retry()
		wait := backoff(c.cfg.RetryBase, c.cfg.RetryMax, r.Attempts)
		if ra := model.RetryAfterOf(err); ra > wait {
			wait = ra
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-c.sendCtx.Done():
			timer.Stop()
			r.unfinished = true
			return r
		}
	}
}

func outcomeOf(err error) outcome {
	if err == nil || model.ClassOf(err) == model.RowFinal {
		return outcomeOK
	}
	var ae *model.APIError
	if errors.As(err, &ae) && ae.Status == 429 {
		return outcomeThrottled
	}
	return outcomeFailed
}

// outputEstimate is the completion size to hold back for a request:
// max_tokens when the job caps it, else the larger of the configured
// expectation and the largest completion seen in this run.
func (c *caller) outputEstimate(req model.Request) int64 {
	if req.MaxTokens != nil {
		return *req.MaxTokens
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.cfg.ExpectedOutputTokens, c.maxOutput)
}

func (c *caller) sawOutput(n int64) {
	c.mu.Lock()
	c.maxOutput = max(c.maxOutput, n)
	c.mu.Unlock()
}

// reserve holds the estimated usage against every budget, or reports that
// one of them could be crossed (then nothing is held). While other requests
// hold reservations it waits for them to settle first: their estimates are
// worst cases, and what they really use may leave room.
func (c *caller) reserve(ctx context.Context, est model.Usage) ([]float64, bool) {
	held := make([]float64, len(c.budgets))
	for i, b := range c.budgets {
		n := b.measure(est)
		if !b.reserve(ctx, n) {
			for k := 0; k < i; k++ {
				c.budgets[k].settle(held[k], 0)
			}
			return nil, false
		}
		held[i] = n
	}
	return held, true
}

// settle replaces reservations with what the request really used.
func (c *caller) settle(held []float64, used model.Usage) {
	for i, b := range c.budgets {
		b.settle(held[i], b.measure(used))
	}
}

// budget is a limit (tokens or money) with reservations for requests in
// flight, so that requests sent together cannot cross it together.
type budget struct {
	mu       sync.Mutex
	limit    float64
	spent    float64
	reserved float64
	holders  int           // reservations outstanding
	settled  chan struct{} // closed and replaced on every settle
	measure  func(model.Usage) float64
}

// reserve holds n for a request about to be sent. When it does not fit it
// waits for outstanding reservations to settle and tries again; it reports
// false only when it cannot fit even with nothing else in flight (or ctx
// ends): then sending it could cross the budget.
func (b *budget) reserve(ctx context.Context, n float64) bool {
	b.mu.Lock()
	for {
		if b.spent+b.reserved+n <= b.limit {
			b.reserved += n
			b.holders++
			b.mu.Unlock()
			return true
		}
		if b.holders == 0 {
			b.mu.Unlock()
			return false
		}
		if b.settled == nil {
			b.settled = make(chan struct{})
		}
		ch := b.settled
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
		b.mu.Lock()
	}
}

// settle replaces a reservation with what the request really used.
func (b *budget) settle(reserved, used float64) {
	b.mu.Lock()
	b.reserved -= reserved
	b.spent += used
	b.holders--
	if b.settled != nil {
		close(b.settled)
		b.settled = nil
	}
	b.mu.Unlock()
}

// flights joins identical requests in flight: the first row sends, the
// others wait for its answer.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	res  Result
}

func (fs *flights) join(key string) (*flight, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.m[key]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	fs.m[key] = f
	return f, true
}

func (fs *flights) finish(key string, f *flight, r Result) {
	fs.mu.Lock()
	delete(fs.m, key)
	fs.mu.Unlock()
	f.res = r
	close(f.done)
}

// recentResults is a bounded LRU of answers, for de-duplication within a
// run that has no store (--no-store). Bounded so memory stays flat.
type recentResults struct {
	mu    sync.Mutex
	cap   int
	order *list.List // of *recentEntry, most recent first
	index map[string]*list.Element
}

type recentEntry struct {
	key  string
	resp model.Response
}

func newRecentResults(n int) *recentResults {
	return &recentResults{cap: n, order: list.New(), index: map[string]*list.Element{}}
}

func (l *recentResults) get(key string) (model.Response, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.index[key]
	if !ok {
		return model.Response{}, false
	}
	l.order.MoveToFront(e)
	return e.Value.(*recentEntry).resp, true
}

func (l *recentResults) put(key string, resp model.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.index[key]; ok {
		e.Value.(*recentEntry).resp = resp
		l.order.MoveToFront(e)
		return
	}
	l.index[key] = l.order.PushFront(&recentEntry{key, resp})
	if l.order.Len() > l.cap {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.index, last.Value.(*recentEntry).key)
	}
}
