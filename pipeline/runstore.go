package pipeline

import (
	"context"
	"errors"
	"time"

	"bulkgen/model"
	"bulkgen/store"
)

// Exit codes of a run. They are part of the CLI's contract (README) and are
// recorded in the runs ledger.
const (
	ExitOK          = 0
	ExitError       = 1   // bad input, bad job, I/O error
	ExitUsage       = 2   // bad command line
	ExitRowsFailed  = 3   // finished, but some rows carry an error
	ExitFatal       = 4   // the service refused the run (key, billing, model)
	ExitBudget      = 5   // stopped at the budget; rerun the same command to go on
	ExitInterrupted = 130 // Ctrl-C / SIGTERM
)

// Outcome names how a run ended and the exit code that goes with it.
func Outcome(err error, s Snapshot) (status string, code int) {
	var fatal *FatalError
	switch {
	case errors.As(err, &fatal):
		return "fatal", ExitFatal
	case errors.Is(err, ErrInterrupted):
		return "interrupted", ExitInterrupted
	case errors.Is(err, ErrBudget):
		return "budget", ExitBudget
	case err != nil:
		return "error", ExitError
	case s.Failed > 0:
		return "rows failed", ExitRowsFailed
	}
	return "ok", ExitOK
}

// runStore binds a store to one run: it is the pipeline's ResultStore and
// keeps the run's ledger entry.
type runStore struct {
	s     *store.Store
	runID int64
	run   store.Run
}

func openRunStore(ctx context.Context, opts Options) (*runStore, error) {
	s, err := store.Open(ctx, opts.StorePath)
	if err != nil {
		return nil, err
	}
	run := store.Run{
		Command: opts.Command, Input: opts.Input, Output: opts.Output,
		Model: opts.Job.Model, Endpoint: opts.Engine.Endpoint, Started: time.Now(),
	}
	id, err := s.StartRun(ctx, run)
	if err != nil {
		s.Close()
		return nil, err
	}
	run.ID = id
	return &runStore{s: s, runID: id, run: run}, nil
}

func (r *runStore) Lookup(ctx context.Context, key string) (model.Response, bool, bool, error) {
	resp, id, ok, err := r.s.Lookup(ctx, key)
	return resp, ok && id == r.runID, ok, err
}

func (r *runStore) LookupError(ctx context.Context, key string) (string, bool, error) {
	return r.s.GetError(ctx, key)
}

func (r *runStore) Save(ctx context.Context, key string, resp model.Response) error {
	return r.s.Put(ctx, key, resp, r.runID)
}

func (r *runStore) SaveError(ctx context.Context, key, msg string) error {
	return r.s.PutError(ctx, key, msg, r.runID)
}

// finish records the run's outcome in the ledger.
//
// written says whether the output file was committed. When it was not, the
// ledger records no rows for the run: the answers are in the store (a
// rerun takes them from there), but the ledger never claims rows that the
// output lacks.
func (r *runStore) finish(s Snapshot, runErr error, written bool, currency string) error {
	status, code := Outcome(runErr, s)
	run := r.run
	run.Ended = time.Now()
	run.Status, run.ExitCode = status, code
	run.Rows, run.Sent, run.FromStore, run.Deduped = s.Written, s.SentRows, s.FromStore, s.Deduped
	run.Failed, run.Skipped, run.Requests, run.Throttled = s.Failed, s.Skipped, s.Requests, s.Throttled
	run.PromptTokens, run.CompletionTokens, run.ReasoningTokens = s.PromptTokens, s.CompletionTokens, s.ReasoningTokens
	if s.Priced {
		cost := s.Cost
		run.Cost, run.Currency = &cost, currency
	}
	if runErr != nil {
		run.Error = runErr.Error()
	}
	if !written {
		run.Rows = 0
		run.Output = r.run.Output + " (not written)"
	}
	return r.s.FinishRun(context.Background(), run)
}

func (r *runStore) close() { r.s.Close() }
