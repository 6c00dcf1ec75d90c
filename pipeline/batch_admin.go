package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"bulkgen/model"
	"bulkgen/prompts"
	"bulkgen/readers"
	"bulkgen/store"
)

// BatchAdmin is what `bulkgen batch status|wait|fetch|cancel` work on: the
// batches recorded in a run store, whatever command submitted them.
type BatchAdmin struct {
	StorePath string
	Service   BatchService // nil for status
	Endpoint  string       // only shards of this service are touched
	Batch     BatchOptions
	Command   []string
	Stderr    io.Writer
}

// BatchStatus lists the shards of the store: the active ones and the
// newest recent finished ones, as last recorded.
func BatchStatus(ctx context.Context, storePath string, recent int) ([]store.Shard, error) {
	s, err := store.Open(ctx, storePath)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	active, err := s.Shards(ctx, true, 0)
	if err != nil {
		return nil, err
	}
	all, err := s.Shards(ctx, false, recent)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	var out []store.Shard
	for _, sh := range append(all, active...) {
		if !seen[sh.ID] {
			seen[sh.ID] = true
			out = append(out, sh)
		}
	}
	return out, nil
}

// open binds the admin to a ledger run so that fetched results are
// recorded as paid by it.
func (a BatchAdmin) open(ctx context.Context, what string) (*batchRun, error) {
	if a.Service == nil {
		return nil, errors.New("batch: no Batch API client")
	}
	rs, err := openRunStore(ctx, Options{StorePath: a.StorePath, Command: a.Command, Input: "(batch " + what + ")", Output: "-", Engine: Config{Endpoint: a.Endpoint}})
	if err != nil {
		return nil, err
	}
	stderr := a.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	b := &batchRun{bo: a.Batch.withDefaults(a.StorePath), rs: rs, svc: a.Service, stderr: stderr, needed: map[int64]bool{}}
	b.opts.Engine.Endpoint = a.Endpoint
	shards, err := rs.s.Shards(ctx, true, 0)
	if err != nil {
		rs.close()
		return nil, err
	}
	for _, sh := range shards {
		if sh.Endpoint == a.Endpoint && sh.State != store.ShardWriting {
			b.need(sh.ID)
		}
	}
	return b, nil
}

// BatchWait submits what a crash left unsubmitted, waits for every active
// batch of the endpoint and takes the results into the store. once checks
// each batch one time instead of waiting (`batch fetch`). It returns the
// number of batches still running.
func BatchWait(ctx context.Context, a BatchAdmin, once bool) (running int, err error) {
	a.StorePath = orDefault(a.StorePath)
	b, err := a.open(ctx, "wait")
	if err != nil {
		return 0, err
	}
	defer b.rs.close()
	finish := func(err error) (int, error) {
		if ferr := b.rs.finish(Snapshot{}, err, false, ""); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return running, err
	}
	if len(b.order) == 0 {
		b.logf("no active batches for %s in %s", a.Endpoint, a.StorePath)
		return finish(nil)
	}
	if err := b.submitAll(ctx); err != nil {
		return finish(err)
	}
	if once {
		last := map[int64]string{}
		for _, id := range b.order {
			sh, err := b.rs.s.Shard(ctx, id)
			if err != nil {
				return finish(err)
			}
			done, err := b.check(ctx, &sh, last)
			if err != nil {
				return finish(err)
			}
			if !done {
				running++
			}
		}
		return finish(nil)
	}
	return finish(b.wait(ctx))
}

// BatchCancel cancels the active batches of the endpoint (all, or those
// whose batch id or shard number is in ids). Shards not yet submitted are
// dropped, so their rows are planned again by the next run. Lines already
// done are kept by the service and collected by `batch wait`.
func BatchCancel(ctx context.Context, a BatchAdmin, ids []string) (cancelled int, err error) {
	a.StorePath = orDefault(a.StorePath)
	b, err := a.open(ctx, "cancel")
	if err != nil {
		return 0, err
	}
	defer b.rs.close()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var errs []error
	for _, id := range b.order {
		sh, err := b.rs.s.Shard(ctx, id)
		if err != nil {
			return cancelled, err
		}
		if len(want) > 0 && !want[sh.BatchID] && !want[fmt.Sprint(sh.ID)] {
			continue
		}
		delete(want, sh.BatchID)
		delete(want, fmt.Sprint(sh.ID))
		switch sh.State {
		case store.ShardWritten, store.ShardUploaded:
			if err := b.rs.s.DeleteShard(ctx, sh.ID); err != nil {
				return cancelled, err
			}
			b.logf("shard %d was not submitted yet: dropped (its rows will be planned again)", sh.ID)
			cancelled++
		case store.ShardSubmitted:
			info, err := b.svc.Cancel(ctx, sh.BatchID)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sh.Status = info.Status
			if err := b.rs.s.UpdateShard(ctx, sh); err != nil {
				return cancelled, err
			}
			b.logf("batch %s: %s", sh.BatchID, info.Status)
			cancelled++
		}
	}
	for id := range want {
		errs = append(errs, fmt.Errorf("no active batch %q for %s in %s", id, a.Endpoint, a.StorePath))
	}
	err = errors.Join(errs...)
	if ferr := b.rs.finish(Snapshot{}, err, false, ""); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return cancelled, err
}

func orDefault(p string) string {
	if p != "" {
		return p
	}
	if d, err := store.DefaultPath(); err == nil {
		return d
	}
	return p
}

// errTranslateExport refuses batch export and import of a translation:
// which requests it sends depends on the answers (a pack whose reply does
// not fit falls back to its single cells), so no one request file holds
// them all.
var errTranslateExport = errors.New("batch export/import does not support translate jobs: which requests a translation sends depends on the answers (a pack whose reply does not fit falls back to single cells); use run --mode batch (or translate --mode batch), which submits them in rounds")

// ExportBatch writes the Batch API request lines of the job to w, without
// submitting anything: for a manual upload, OpenAI's Batch API or vLLM's
// run-batch. Rows with a stored result are left out unless all is set
// (opts.StorePath "" means no store: every row). Identical requests are
// written once. It returns the number of lines written.
func ExportBatch(ctx context.Context, opts Options, w io.Writer, all bool) (int, error) {
	if opts.Translate != nil {
		return 0, errTranslateExport
	}
	src, err := readers.Open(opts.Input, opts.ReaderOptions, opts.Stdin)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	render, err := prompts.NewRenderer(opts.Job, src.Columns(), displayName(opts.Input))
	if err != nil {
		return 0, err
	}
	var s *store.Store
	if opts.StorePath != "" && !all {
		if s, err = store.Open(ctx, opts.StorePath); err != nil {
			return 0, err
		}
		defer s.Close()
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	// Duplicates are dropped within a window of recent keys: enough for
	// the usual repeated cells, without memory growing with the input.
	recent := newRecentResults(100000)
	n, rows := 0, 0
	for opts.Engine.Limit <= 0 || rows < opts.Engine.Limit {
		row, err := src.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *readers.RowError
		if errors.As(err, &rowErr) {
			rows++
			continue
		}
		if err != nil {
			return n, err
		}
		rows++
		req, skip := render.Render(row.Values)
		if skip {
			continue
		}
		key := model.RequestKey(opts.Engine.Endpoint, req)
		if _, ok := recent.get(key); ok {
			continue
		}
		recent.put(key, model.Response{})
		if s != nil {
			if _, _, ok, err := s.Lookup(ctx, key); err != nil {
				return n, err
			} else if ok {
				continue
			}
		}
		line, err := model.BatchRequestLine(CustomID(row.Index, key), req)
		if err != nil {
			return n, fmt.Errorf("input row %s: %w", row.Key, err)
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}

// ImportBatch takes a results file (the output or error file of a batch
// run elsewhere, e.g. vLLM's run-batch over `batch export`) into the run
// store and writes the job's output from it, sending nothing. Rows without
// a line in the file carry an error.
func ImportBatch(ctx context.Context, opts Options, resultsPath string) (Report, error) {
	if opts.Translate != nil {
		return Report{}, errTranslateExport
	}
	if opts.StorePath == "" {
		return Report{}, errors.New("batch import keeps the results in the run store, so it cannot run with --no-store")
	}
	if err := checkOutput(opts.Input, opts.Output); err != nil {
		return Report{}, err
	}
	f, err := os.Open(resultsPath)
	if err != nil {
		return Report{}, fmt.Errorf("batch import: %w", err)
	}
	defer f.Close()
	rs, err := openRunStore(ctx, opts)
	if err != nil {
		return Report{}, err
	}
	defer rs.close()
	if err := ImportResults(ctx, rs.s, f, resultsPath, nil, rs.runID); err != nil {
		err = fmt.Errorf("batch import: %w", err)
		if ferr := rs.finish(Snapshot{}, err, false, ""); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return Report{RunID: rs.runID}, err
	}
	b := &batchRun{opts: opts, rs: rs, missing: fmt.Sprintf("no line for this row in %s", resultsPath)}
	return b.write(ctx)
}
