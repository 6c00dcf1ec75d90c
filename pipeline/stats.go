package pipeline

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"bulkgen/model"
)

// Stats counts what a run did. It is safe for concurrent use; readers take
// a consistent-enough Snapshot for progress displays and the summary.
type Stats struct {
	read, written, ok, failed, skipped, unfinished atomic.Int64
	fromStore, deduped, sentRows, savedTokens      atomic.Int64
	requests, inFlight, retries, throttled         atomic.Int64
	promptTokens, completionTokens                 atomic.Int64
	reasoningTokens, cachedTokens                  atomic.Int64
	readAll                                        atomic.Bool

	mu        sync.Mutex
	cost      float64 // spent in this run on priced rows
	savedCost float64 // what reused answers would have cost
	priced    bool    // at least one row had a price
	began     time.Time
	ended     time.Time
	firstErr  string // first row error, to show in the summary
}

// Snapshot is a copy of the counters at one moment.
type Snapshot struct {
	Read, Written, OK, Failed, Skipped, Unfinished int64
	// ReadAll: the whole input was read (a stopped run may not have).
	ReadAll bool
	// FromStore rows were answered by an earlier run's stored result,
	// Deduped rows by an identical request earlier in this run; neither
	// cost anything. SentRows were sent in this run. SavedTokens are
	// the tokens the reused answers would have cost.
	FromStore, Deduped, SentRows, SavedTokens int64
	// Cost is what this run's requests cost (Priced: a price was known);
	// SavedCost what the reused answers would have cost.
	Cost, SavedCost                        float64
	Priced                                 bool
	Requests, InFlight, Retries, Throttled int64
	PromptTokens, CompletionTokens         int64
	ReasoningTokens, CachedTokens          int64
	Elapsed                                time.Duration
	FirstError                             string
}

func (s *Stats) start() {
	s.mu.Lock()
	if s.began.IsZero() {
		s.began = time.Now()
	}
	s.mu.Unlock()
}

func (s *Stats) finish() {
	s.mu.Lock()
	s.ended = time.Now()
	s.mu.Unlock()
}

func (s *Stats) rowRead()       { s.read.Add(1) }
func (s *Stats) rowUnfinished() { s.unfinished.Add(1) }
func (s *Stats) inputEnded()    { s.readAll.Store(true) }
func (s *Stats) sent()          { s.requests.Add(1); s.inFlight.Add(1) }
func (s *Stats) returned()      { s.inFlight.Add(-1) }
func (s *Stats) retry()         { s.retries.Add(1) }
func (s *Stats) failedAttempt(err error) {
	var ae *model.APIError
	if errors.As(err, &ae) && ae.Status == 429 {
		s.throttled.Add(1)
	}
}

func (s *Stats) rowWritten(r Result) {
	s.written.Add(1)
	switch {
	case r.Err != nil:
		s.failed.Add(1)
		s.mu.Lock()
		if s.firstErr == "" {
			s.firstErr = r.Err.Error()
			// Reader errors already name the row (a document's path, a
			// file and line); others get its key in front.
			if !strings.HasPrefix(s.firstErr, r.Row.Key) {
				s.firstErr = r.Row.Key + ": " + s.firstErr
			}
		}
		s.mu.Unlock()
	case r.Skipped:
		s.skipped.Add(1)
	default:
		s.ok.Add(1)
	}
	u := r.Response.Usage
	if r.Priced {
		s.mu.Lock()
		s.priced = true
		if r.FromStore || r.Deduped {
			s.savedCost += r.Cost
		} else {
			s.cost += r.Cost
		}
		s.mu.Unlock()
	}
	switch {
	case r.FromStore:
		s.fromStore.Add(1)
		s.savedTokens.Add(u.TotalTokens)
		return
	case r.Deduped:
		s.deduped.Add(1)
		s.savedTokens.Add(u.TotalTokens)
		return
	case r.Attempts > 0:
		s.sentRows.Add(1)
	}
	s.promptTokens.Add(u.PromptTokens)
	s.completionTokens.Add(u.CompletionTokens)
	s.reasoningTokens.Add(u.ReasoningTokens)
	s.cachedTokens.Add(u.CachedTokens)
}

// Snapshot returns the current counters.
func (s *Stats) Snapshot() Snapshot {
	s.mu.Lock()
	began, ended, firstErr := s.began, s.ended, s.firstErr
	cost, saved, priced := s.cost, s.savedCost, s.priced
	s.mu.Unlock()
	var elapsed time.Duration
	switch {
	case began.IsZero():
	case ended.IsZero():
		elapsed = time.Since(began)
	default:
		elapsed = ended.Sub(began)
	}
	return Snapshot{
		Read: s.read.Load(), Written: s.written.Load(), OK: s.ok.Load(), Failed: s.failed.Load(),
		Skipped: s.skipped.Load(), Unfinished: s.unfinished.Load(),
		FromStore: s.fromStore.Load(), Deduped: s.deduped.Load(), SentRows: s.sentRows.Load(), SavedTokens: s.savedTokens.Load(),
		Requests: s.requests.Load(), InFlight: s.inFlight.Load(), Retries: s.retries.Load(),
		Throttled:    s.throttled.Load(),
		PromptTokens: s.promptTokens.Load(), CompletionTokens: s.completionTokens.Load(),
		ReasoningTokens: s.reasoningTokens.Load(), CachedTokens: s.cachedTokens.Load(),
		Elapsed: elapsed, FirstError: firstErr, ReadAll: s.readAll.Load(),
		Cost: cost, SavedCost: saved, Priced: priced,
	}
}
