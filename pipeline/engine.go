// Package pipeline runs a bulk job: read → render → call → write.
//
// Each stage is a goroutine (the call stage is Concurrency goroutines) in one
// errgroup, joined by small bounded channels. Output rows come out in input
// order through a bounded reorder window: the reader may run at most Window
// rows ahead of the writer, so memory stays flat however large the input is
// and however slow one row is.
//
// Stopping has two steps. When the caller's context is cancelled (Ctrl-C) or
// the service answers with a run-level fatal error, no new request is sent
// and no new row is read. Requests already in flight get Grace to finish;
// then they are aborted. Every row that finished is still written.
package pipeline

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"bulkgen/model"
	"bulkgen/readers"
)

// Defaults for Config's zero values.
const (
	DefaultConcurrency = 8
	DefaultRetries     = 5
	DefaultRetryBase   = time.Second
	DefaultRetryMax    = 60 * time.Second
	DefaultGrace       = 10 * time.Second
	minWindow          = 1024
	// DefaultExpectedOutputTokens is the completion size assumed before
	// any is seen, when the job sets no max_tokens.
	DefaultExpectedOutputTokens = 1024
)

// Config tunes the engine. The zero value is usable.
type Config struct {
	// Concurrency is the number of requests in flight at most (-c).
	Concurrency int
	// RPM caps requests started per minute (--rpm); 0 means no cap. The
	// service enforces RPM/60 per second too, so requests are paced evenly
	// rather than sent in bursts.
	RPM float64
	// Retries is how many times a retryable failure is tried again
	// (--retries); negative means 0.
	Retries int
	// RetryBase and RetryMax bound the exponential backoff between tries.
	RetryBase, RetryMax time.Duration
	// Window is how many rows the reader may run ahead of the writer.
	Window int
	// Grace is how long in-flight requests may finish after a stop.
	Grace time.Duration
	// Limit processes only the first Limit rows; 0 means all.
	Limit int

	// TPM caps estimated tokens (prompt + expected output) per minute
	// (--tpm); 0 means no cap.
	TPM float64
	// FixedConcurrency turns off the adaptive limit: -c and --rpm are
	// used as given even when the service throttles.
	FixedConcurrency bool
	// MaxTokensTotal is a budget in tokens (--max-tokens-total): no
	// request is sent that could take the run past it, counting requests
	// in flight. 0 means no budget.
	MaxTokensTotal int64
	// ExpectedOutputTokens is the completion size assumed for pacing and
	// budget when the job sets no max_tokens (at least the largest
	// completion seen so far is assumed).
	ExpectedOutputTokens int64

	// Store, when set, makes results durable: a row whose request has a
	// stored result is not sent again, and every new result is saved
	// before its row is written.
	Store ResultStore
	// Endpoint names the service for request keys (see model.RequestKey).
	Endpoint string
	// Refresh ignores results stored by earlier runs and overwrites them.
	Refresh bool
	// KeepErrors reuses stored row-level errors instead of retrying them.
	KeepErrors bool

	// Price prices each row's usage (the cost column, the summary, the
	// ledger, MaxCost); nil when the model has no known price.
	Price *model.Price
	// Thinking selects thinking-mode output prices.
	Thinking bool
	// MaxCost is a budget in the price's currency (--max-cost); 0 means
	// none. It needs Price.
	MaxCost float64

	// Multi, when set, replaces the one request per row: see MultiFunc.
	// The row's usage is the sum of its requests'.
	Multi MultiFunc

	// Parser, when set, checks every reply (a label or extract job's
	// JSON fields); an invalid reply is asked again with the problem fed
	// back, up to Retries times, and every attempt's tokens are counted.
	Parser ReplyParser
}

// MultiFunc produces one row's result from any number of requests: a
// translation pack and its single-cell fallbacks, the map and reduce steps
// of a long document. ask sends one request the usual way (run store,
// in-flight dedupe, limits, retries) and returns its answer or the row's
// error; values become Result.Fields. An error from ask that the MultiFunc
// returns unchanged keeps its meaning (a row error, or "not finished").
type MultiFunc func(row readers.Row, ask func(model.Request) (model.Response, error)) (values []string, err error)

// ReplyParser reads a structured reply (prompts.Fields implements it).
type ReplyParser interface {
	// Parse returns the values of a valid reply, one per field, or an
	// error saying what is wrong with it.
	Parse(reply string) ([]string, error)
	// Repair returns the request that asks again, showing the model its
	// reply and the problem.
	Repair(req model.Request, reply string, err error) model.Request
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.RetryBase <= 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryBase {
		c.RetryMax = c.RetryBase
	}
	if c.Window <= 0 {
		c.Window = max(minWindow, 8*c.Concurrency)
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.ExpectedOutputTokens <= 0 {
		c.ExpectedOutputTokens = DefaultExpectedOutputTokens
	}
	return c
}

// RenderFunc builds the request for one row's values. skip means there is
// nothing to send for this row (the row is written without a request).
type RenderFunc func(values []string) (req model.Request, skip bool)

// Result is the outcome of one row, handed to the Sink in input order.
type Result struct {
	Row      readers.Row
	Response model.Response
	// Err is the row's final error (a bad input row, a row-level service
	// error, or retries given up); nil on success.
	Err error
	// Attempts is the number of requests sent for this row.
	Attempts int
	// Skipped is true when the row was not sent because it had nothing
	// to ask (see RenderFunc).
	Skipped bool
	// FromStore is true when the result was stored by an earlier run.
	FromStore bool
	// Deduped is true when an identical request earlier in this run
	// answered for this row.
	Deduped bool
	// Cost is the price of Response.Usage; Priced is false when the model
	// has no known price (or the row has no response).
	Cost   float64
	Priced bool
	// Fields are the parsed values of a fields job's reply (Config.Parser),
	// one per field.
	Fields []string

	seq        int  // reading order; the reorder key
	unfinished bool // never finished: the run stopped first
	awaiting   bool // unfinished because its answer is to come from a batch
	// saved, when not nil, is the commit of the answer to the run store,
	// which the writer waits for.
	saved *saveWait
}

// Sink receives finished rows in input order, from one goroutine.
type Sink func(Result) error

// FatalError is a run-level error from the service: the run stopped
// sending because every further request would fail the same way.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return "run stopped: " + e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// ErrInterrupted is returned when the caller's context was cancelled.
var ErrInterrupted = errors.New("interrupted")

// ErrBudget is returned when the run stopped because the next request
// could have crossed the budget.
var ErrBudget = errors.New("budget reached")

// Run reads every row of src (up to cfg.Limit), sends one request per row
// through client, and hands results to sink in input order. stats, if not
// nil, is updated as the run goes (for progress displays).
//
// It returns nil when every row was processed (some rows may still carry
// errors: see Stats), *FatalError when the service stopped the run,
// ErrInterrupted when ctx was cancelled, or the first reader or sink error.
// In every case the rows that finished have been given to sink.
func Run(ctx context.Context, cfg Config, src readers.Reader, render RenderFunc, client model.Client, sink Sink, stats *Stats) error {
	cfg = cfg.withDefaults()
	if stats == nil {
		stats = &Stats{}
	}
	stats.start()

	// gctx ends only when a stage fails (reader or sink error); the
	// caller's ctx is deliberately not its parent, so that a Ctrl-C stops
	// sending without killing the writer.
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	// callCtx is what in-flight requests run under: aborted a grace period
	// after sending stops, or at once if a stage fails.
	callCtx, abortCalls := context.WithCancel(gctx)
	defer abortCalls()
	// sendCtx gates starting anything new: reading, sending, retrying.
	sendCtx, stopSending := context.WithCancelCause(callCtx)
	defer stopSending(nil)
	stopOnCancel := context.AfterFunc(ctx, func() { stopSending(ErrInterrupted) })
	defer stopOnCancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sendCtx.Done():
		case <-done:
			return
		}
		t := time.NewTimer(cfg.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			abortCalls()
		case <-done:
		}
	}()

	window := make(chan struct{}, cfg.Window)
	tasks := make(chan task, cfg.Concurrency)
	requests := make(chan task, cfg.Concurrency)
	results := make(chan Result, cfg.Concurrency)

	// read
	g.Go(func() error {
		defer close(tasks)
		for seq := 0; cfg.Limit <= 0 || seq < cfg.Limit; seq++ {
			select {
			case window <- struct{}{}:
			case <-sendCtx.Done():
				return nil
			}
			row, err := src.Read(sendCtx)
			if errors.Is(err, io.EOF) {
				stats.inputEnded()
				return nil
			}
			t := task{seq: seq, row: row}
			var rowErr *readers.RowError
			switch {
			case errors.As(err, &rowErr):
				t.row, t.err = rowErr.Row, rowErr
			case err != nil:
				if sendCtx.Err() != nil {
					return nil // stopping; the read was cut short
				}
				return err
			}
			stats.rowRead()
			select {
			case tasks <- t:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})

	// render
	g.Go(func() error {
		defer close(requests)
		for t := range tasks {
			if t.err == nil {
				t.req, t.skip = render(t.row.Values)
			}
			select {
			case requests <- t:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})

	// call
	c := newCaller(cfg, client, stats, sendCtx, callCtx, stopSending)
	var workers sync.WaitGroup
	for range cfg.Concurrency {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			for t := range requests {
				r, err := c.do(t)
				if err != nil {
					return err
				}
				if cfg.Price != nil && (r.Err == nil || r.Response.Usage.TotalTokens > 0) && !r.Skipped && !r.unfinished {
					u := r.Response.Usage
					r.Cost, r.Priced = cfg.Price.Cost(u, cfg.Thinking || u.ReasoningTokens > 0, r.Response.Batch), true
				}
				select {
				case results <- r:
				case <-gctx.Done():
					return nil
				}
			}
			return nil
		})
	}
	go func() { workers.Wait(); close(results) }()

	// write, in input order
	g.Go(func() error {
		pending := map[int]Result{}
		next := 0
		emit := func(r Result) error {
			<-window
			if r.unfinished {
				stats.rowUnfinished()
				return nil
			}
			if r.saved != nil {
				if err := r.saved.wait(); err != nil {
					return err
				}
			}
			if err := sink(r); err != nil {
				return err
			}
			stats.rowWritten(r)
			return nil
		}
		for r := range results {
			pending[r.seq] = r
			for {
				r, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				if err := emit(r); err != nil {
					return err
				}
			}
		}
		// Only after a stop can rows be missing from the sequence (a
		// row read but never handed on); write what is left in order.
		rest := make([]int, 0, len(pending))
		for seq := range pending {
			rest = append(rest, seq)
		}
		sort.Ints(rest)
		for _, seq := range rest {
			if err := emit(pending[seq]); err != nil {
				return err
			}
		}
		return nil
	})

	err := g.Wait()
	// Saves of rows the writer never reached (it failed first) finish
	// before the caller can close the store.
	c.saves.Wait()
	stats.finish()
	if err != nil {
		return err
	}
	if e := c.saveErr.Load(); e != nil {
		return *e // the writer did not reach the row (it had stopped)
	}
	cause := context.Cause(sendCtx)
	var fatal *FatalError
	switch {
	case errors.As(cause, &fatal):
		return fatal
	case errors.Is(cause, ErrInterrupted):
		return ErrInterrupted
	case errors.Is(cause, ErrBudget):
		return ErrBudget
	}
	return nil
}

type task struct {
	seq  int
	row  readers.Row
	req  model.Request
	skip bool
	err  error
}

// backoff returns the wait before try attempt+1: exponential from base,
// capped at max, with "equal jitter" (half fixed, half random) so that many
// workers throttled at once do not come back in lockstep.
func backoff(base, maxWait time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	half := d / 2
	return half + rand.N(half+1)
}
