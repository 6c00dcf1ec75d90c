package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"bulkgen/model"
	"bulkgen/prompts"
	"bulkgen/readers"
	"bulkgen/store"

	"golang.org/x/sync/errgroup"
)

// Limits of one Batch API request file (../shared/dashscope-api-notes.md §5).
const (
	MaxBatchLines = 50000
	MaxBatchBytes = 500 << 20
	// DefaultBatchBytes keeps request files well under the service's cap:
	// a smaller file is validated and started sooner.
	DefaultBatchBytes   = 100 << 20
	DefaultBatchWindow  = "24h"
	DefaultBatchPoll    = 30 * time.Second
	maxBatchResultLine  = 64 << 20 // one output line: a whole chat completion
	batchOpRetries      = 4
	defaultBatchBackoff = 2 * time.Second
)

// BatchService is the Batch API as the pipeline uses it; model.BatchClient
// implements it.
type BatchService interface {
	Upload(ctx context.Context, name string, r io.Reader) (string, error)
	Create(ctx context.Context, fileID, window string, metadata map[string]string) (model.BatchInfo, error)
	Get(ctx context.Context, id string) (model.BatchInfo, error)
	FindByInputFile(ctx context.Context, fileID string) (model.BatchInfo, bool, error)
	Cancel(ctx context.Context, id string) (model.BatchInfo, error)
	Content(ctx context.Context, fileID string) (io.ReadCloser, error)
}

// BatchOptions turn a run into a Batch API run (--mode batch).
type BatchOptions struct {
	Service BatchService
	// Window is the completion window ("24h" … "336h", "1d" … "14d").
	Window string
	// MaxLines and MaxBytes cap one request file; 0 means the defaults.
	MaxLines int
	MaxBytes int64
	// Poll is the interval between status checks.
	Poll time.Duration
	// NoWait returns once every batch is submitted; `bulkgen batch wait`
	// or a rerun of the same command collects the results.
	NoWait bool
	// Dir keeps the request files; "" means "batches" next to the store.
	Dir string
	// Backoff is the first wait before retrying a failed upload, create or
	// download (doubling); 0 means 2s.
	Backoff time.Duration
	// Repairs is how many more batches may ask again, with the check's
	// error fed back, the label/extract replies that failed their check
	// (realtime runs do this at once, up to --retries). 0: none, the row
	// gets the error and the reply.
	Repairs int
}

func (b BatchOptions) withDefaults(storePath string) BatchOptions {
	if b.Window == "" {
		b.Window = DefaultBatchWindow
	}
	if b.MaxLines <= 0 || b.MaxLines > MaxBatchLines {
		b.MaxLines = MaxBatchLines
	}
	if b.MaxBytes <= 0 {
		b.MaxBytes = DefaultBatchBytes
	}
	b.MaxBytes = min(b.MaxBytes, MaxBatchBytes)
	if b.Poll <= 0 {
		b.Poll = DefaultBatchPoll
	}
	if b.Dir == "" {
		b.Dir = filepath.Join(filepath.Dir(storePath), "batches")
	}
	if b.Backoff <= 0 {
		b.Backoff = defaultBatchBackoff
	}
	return b
}

// CustomID names one request line: the row's number in the input, for
// people reading the files, and the request key, which is what results are
// matched by.
func CustomID(rowIndex int, key string) string { return fmt.Sprintf("row%d-%s", rowIndex+1, key) }

// requestCustomID names the line of a request found by a planning pass
// (a repair of a reply that failed its check, a translation): it belongs
// to no one input row.
func requestCustomID(key string) string { return "req-" + key }

// errAwaitingBatch is what storedAnswers says, in a planning pass, of a
// request that has no answer yet: the row is left unfinished in that pass
// (not failed, so that, say, a pack of cells does not fall back to single
// cells only because its own answer is still to come).
var errAwaitingBatch = errors.New("awaiting a batch")

// translateRounds bounds the passes of a batch translation: the cells (in
// packs), then the single cells of packs whose reply did not fit, and one
// more for batches that were lost on the way.
const translateRounds = 3

// keyOfCustomID returns the request key inside a custom_id made by
// CustomID or requestCustomID.
func keyOfCustomID(id string) (string, bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 || len(id)-i-1 != 64 {
		return "", false
	}
	return id[i+1:], true
}

// batchRun is one `run --mode batch` (or batch import): the store binding,
// the service and where to report.
type batchRun struct {
	opts   Options
	bo     BatchOptions
	rs     *runStore
	svc    BatchService
	stderr io.Writer
	// new shards this run wrote, and every shard its rows wait in.
	submitted int64
	files     int
	needed    map[int64]bool
	order     []int64
	// missing is the error of a row without a result ("" means the
	// batch-mode default).
	missing string
	// lost counts batches found gone from the service in this round.
	lost int
	// repairs is how many repairs of a reply the write phase follows:
	// the repair rounds this run may make (0 for batch import).
	repairs int
	// started is when the run began, for the summary's duration.
	started time.Time
}

func (b *batchRun) need(id int64) {
	if !b.needed[id] {
		b.needed[id] = true
		b.order = append(b.order, id)
	}
}

func (b *batchRun) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "bulkgen: "+format+"\n", args...)
}

// executeBatch runs a job through the Batch API: every row without a
// stored result goes into request files, which are uploaded and submitted
// as batches; the run then waits for them, takes their results into the
// store and writes the output from the store like a realtime run would.
// Every step is recorded in the store before the next, so a rerun of the
// same command after a crash or Ctrl-C picks up the same batches.
func executeBatch(ctx context.Context, opts Options) (Report, error) {
	if opts.StorePath == "" {
		return Report{}, errors.New("batch mode keeps the submitted batches in the run store, so it cannot run with --no-store; pass --store FILE.db or drop --no-store")
	}
	if opts.Engine.MaxCost > 0 || opts.Engine.MaxTokensTotal > 0 {
		return Report{}, errors.New("--max-cost and --max-tokens-total apply to realtime runs; a batch's cost is known before it is submitted: run `bulkgen estimate` with the same flags")
	}
	if opts.Batch.Service == nil {
		return Report{}, errors.New("batch mode: no Batch API client")
	}
	if err := checkOutput(opts.Input, opts.Output); err != nil {
		return Report{}, err
	}
	rs, err := openRunStore(ctx, opts)
	if err != nil {
		return Report{}, err
	}
	defer rs.close()
	b := &batchRun{opts: opts, bo: opts.Batch.withDefaults(opts.StorePath), rs: rs, svc: opts.Batch.Service,
		stderr: opts.Stderr, needed: map[int64]bool{}, started: time.Now()}
	if b.stderr == nil {
		b.stderr = io.Discard
	}
	fail := func(err error) (Report, error) {
		// An interrupt gets this message, unless the error already says
		// what is left (the wait's: how many batches keep running).
		if ctx.Err() != nil && (err == ErrInterrupted || !errors.Is(err, ErrInterrupted)) {
			err = fmt.Errorf("%w: every batch file finished so far is recorded in the run store; rerun the same command to go on", ErrInterrupted)
		}
		rep := Report{RunID: rs.runID}
		if ferr := rs.finish(Snapshot{}, err, false, ""); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return rep, err
	}
	// stopped ends the run early: on an error, or with --no-wait once
	// batches are submitted.
	stopped := func(err error) (Report, error) {
		if err != nil {
			return fail(err)
		}
		return Report{RunID: rs.runID}, rs.finish(Snapshot{SentRows: b.submitted}, nil, false, "")
	}
	// Jobs whose requests depend on the answers are planned by passes
	// over the input that send nothing (see collect).
	switch {
	case opts.ChunkColumn != "" && opts.Job.Fields == nil:
		// Long documents: the parts of a document, then the requests that
		// combine their answers, level by level.
		if done, err := b.rounds(ctx, MaxReduceRounds+2, "batch(es)", b.missingRequests, nil); err != nil || done {
			return stopped(err)
		}
		return b.write(ctx)
	case opts.Translate != nil:
		// A pack whose reply does not fit falls back to single cells: the
		// packs and cells first, then those single cells.
		more := func(round, n int) {
			if round > 1 {
				b.logf("%d request(s) follow from the answers (single cells of packs that did not fit): a new batch", n)
			}
		}
		if done, err := b.rounds(ctx, translateRounds, "batch(es)", b.missingTranslations, more); err != nil || done {
			return stopped(err)
		}
		return b.write(ctx)
	}
	// A second round submits again the rows of batches that turned out to
	// be gone from the service (see check).
	for round := 0; round < 2; round++ {
		b.lost = 0
		if err := b.plan(ctx); err != nil {
			return fail(err)
		}
		if submitted, err := b.runBatches(ctx, "batch(es)"); err != nil || submitted {
			return stopped(err)
		}
		if b.lost == 0 {
			break
		}
		b.needed, b.order = map[int64]bool{}, nil
	}
	if opts.Job.Fields != nil {
		// Replies that failed their check, asked again with the error.
		b.repairs = b.bo.Repairs
		say := func(round, n int) {
			b.logf("%d repl(ies) failed their check: asking again with the error fed back, in a new batch (round %d of at most %d, --batch-repairs)", n, round, b.bo.Repairs)
		}
		if done, err := b.rounds(ctx, b.bo.Repairs, "repair batch(es)", b.missingRequests, say); err != nil || done {
			return stopped(err)
		}
	}
	return b.write(ctx)
}

// rounds runs up to max planning rounds: a pass that collects the
// requests still missing (pass), then batches that answer them, until a
// pass finds nothing missing. what names the batches for --no-wait's
// message; said, when set, reports each round that has requests. done is true when --no-wait returned after submitting.
func (b *batchRun) rounds(ctx context.Context, max int, what string, pass func(context.Context, *requestCollector) error, said func(round, n int)) (done bool, err error) {
	for round := 1; round <= max; round++ {
		n, err := b.collect(ctx, pass)
		if err != nil || n == 0 {
			return false, err
		}
		if said != nil {
			said(round, n)
		}
		if done, err := b.runBatches(ctx, what); err != nil || done {
			return done, err
		}
	}
	return false, nil
}

// collect runs a planning pass (missingRequests or missingTranslations) that puts every
// request it finds without an answer into request files as it goes, so
// that memory does not grow with the input; it returns how many requests
// need an answer, new or already waiting in a batch, and leaves their
// shards needed (see runBatches).
func (b *batchRun) collect(ctx context.Context, pass func(context.Context, *requestCollector) error) (int, error) {
	b.needed, b.order = map[int64]bool{}, nil
	files, err := b.newRequestFiles()
	if err != nil {
		return 0, err
	}
	defer files.abandon()
	rc := &requestCollector{b: b, files: files}
	err = pass(ctx, rc)
	// The pass leaves its caches behind as garbage (a translation's
	// window of 100,000 distinct cells is tens of MB): hand them back now,
	// so that the next pass does not grow the heap on top of them.
	debug.FreeOSMemory()
	if err != nil {
		return 0, err
	}
	if rc.err != nil {
		return 0, rc.err
	}
	return rc.n, files.finish(ctx)
}

// runBatches submits every needed shard and waits for them all. With
// --no-wait it says how to go on and reports submitted instead of waiting,
// unless no batch is needed: then the run goes on (a rerun after `batch
// wait` writes the output, or submits the next step).
func (b *batchRun) runBatches(ctx context.Context, what string) (submitted bool, err error) {
	if err := b.submitAll(ctx); err != nil {
		return false, err
	}
	if b.bo.NoWait && len(b.order) > 0 {
		b.logf("%d %s submitted or running; collect them with `bulkgen batch wait`, then rerun this command to write %s", len(b.order), what, displayName(b.opts.Output))
		return true, nil
	}
	return false, b.wait(ctx)
}

// write produces the output from the store, sending nothing: results
// fetched by this run count as this run's requests (and cost, at the batch
// price), results of earlier runs as taken from the store.
func (b *batchRun) write(ctx context.Context) (Report, error) {
	opts := b.opts
	opts.Batch = nil
	opts.Client = &storedAnswers{rs: b.rs, endpoint: opts.Engine.Endpoint, missing: b.missing}
	opts.Engine.Store = batchWriteStore{b.rs}
	// Retries here only follow the chain of stored repairs of a reply
	// that failed its check (storedAnswers never asks the service).
	opts.Engine.RPM, opts.Engine.TPM, opts.Engine.Retries = 0, 0, b.repairs
	opts.Engine.Concurrency = max(opts.Engine.Concurrency, 16)
	opts.Engine.FixedConcurrency = true
	var rep Report
	var err error
	if opts.Translate != nil {
		rep, err = executeTranslate(ctx, opts, b.rs, false)
	} else {
		rep, err = execute(ctx, opts, b.rs)
	}
	if !b.started.IsZero() {
		rep.Stats.Elapsed = time.Since(b.started) // the whole run, waiting included
	}
	return rep, err
}

// openInput opens the job's input and its prompt renderer.
func (b *batchRun) openInput() (readers.Reader, *prompts.Renderer, error) {
	src, err := readers.Open(b.opts.Input, b.opts.ReaderOptions, b.opts.Stdin)
	if err != nil {
		return nil, nil, err
	}
	render, err := prompts.NewRenderer(b.opts.Job, src.Columns(), displayName(b.opts.Input))
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, render, nil
}

// plan reads the input and puts every row that needs an answer into a
// request file, unless it already waits in a batch.
func (b *batchRun) plan(ctx context.Context) error {
	src, render, err := b.openInput()
	if err != nil {
		return err
	}
	defer src.Close()
	files, err := b.newRequestFiles()
	if err != nil {
		return err
	}
	defer files.abandon()
	n := 0
	for b.opts.Engine.Limit <= 0 || n < b.opts.Engine.Limit {
		row, err := src.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *readers.RowError
		if errors.As(err, &rowErr) {
			n++
			continue // written as an error row by the write phase
		}
		if err != nil {
			return err
		}
		n++
		req, skip := render.Render(row.Values)
		if skip {
			continue
		}
		key := model.RequestKey(b.opts.Engine.Endpoint, req)
		if !b.opts.Engine.Refresh {
			if _, _, ok, err := b.rs.s.Lookup(ctx, key); err != nil {
				return fmt.Errorf("run store: %w", err)
			} else if ok {
				continue
			}
			if b.opts.Engine.KeepErrors {
				if _, ok, err := b.rs.s.GetError(ctx, key); err != nil {
					return fmt.Errorf("run store: %w", err)
				} else if ok {
					continue
				}
			}
		}
		if id, ok, err := b.rs.s.PendingShard(ctx, key); err != nil {
			return fmt.Errorf("run store: %w", err)
		} else if ok {
			b.need(id)
			continue
		}
		if files.has(key) {
			continue // a duplicate row: asked once
		}
		line, err := model.BatchRequestLine(CustomID(row.Index, key), req)
		if err != nil {
			return fmt.Errorf("input row %s: %w", row.Key, err)
		}
		if err := files.add(ctx, key, line); err != nil {
			return err
		}
	}
	return files.finish(ctx)
}

// requestFiles writes request lines into as many files as the limits on
// one file need, each sealed (and recorded) when full.
type requestFiles struct {
	b  *batchRun
	sw *shardWriter // the file being written, nil before the first line
}

func (b *batchRun) newRequestFiles() (*requestFiles, error) {
	if err := os.MkdirAll(b.bo.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("batch request files: %w", err)
	}
	return &requestFiles{b: b}, nil
}

// has reports whether the current file already has key.
func (f *requestFiles) has(key string) bool { return f.sw != nil && f.sw.has(key) }

// add puts one line into the current file, sealing it and starting
// another when the line does not fit.
func (f *requestFiles) add(ctx context.Context, key string, line []byte) error {
	if f.sw != nil && !f.sw.fits(int64(len(line)+1), f.b.bo) {
		if err := f.b.seal(ctx, f.sw); err != nil {
			return err
		}
		f.sw = nil
	}
	if f.sw == nil {
		w, err := f.b.newShard(ctx)
		if err != nil {
			return err
		}
		f.sw = w
	}
	return f.sw.add(key, line)
}

// finish seals the last file, if it has any line.
func (f *requestFiles) finish(ctx context.Context) error {
	if f.sw != nil && f.sw.lines > 0 {
		if err := f.b.seal(ctx, f.sw); err != nil {
			return err
		}
		f.sw = nil
	}
	return nil
}

// abandon removes a file that was not sealed (after an error).
func (f *requestFiles) abandon() {
	if f.sw != nil {
		f.sw.abandon()
	}
}

// requestCollector takes the requests a planning pass finds without an
// answer, from concurrent workers, into request files: each once, and
// none that already waits in a batch.
type requestCollector struct {
	mu    sync.Mutex
	b     *batchRun
	files *requestFiles
	n     int
	err   error // the first error; the pass is stopped by it
}

func (rc *requestCollector) add(ctx context.Context, key string, req model.Request) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.err != nil {
		return rc.err
	}
	rc.err = rc.addLocked(ctx, key, req)
	return rc.err
}

func (rc *requestCollector) addLocked(ctx context.Context, key string, req model.Request) error {
	if rc.files.has(key) {
		return nil // asked twice in this pass
	}
	id, ok, err := rc.b.rs.s.PendingShard(ctx, key)
	if err != nil {
		return fmt.Errorf("run store: %w", err)
	}
	rc.n++
	if ok {
		rc.b.need(id) // already in a batch of an earlier run
		return nil
	}
	line, err := model.BatchRequestLine(requestCustomID(key), req)
	if err != nil {
		return fmt.Errorf("batch request: %w", err)
	}
	return rc.files.add(ctx, key, line)
}

// missingRequests runs the job over the stored answers without writing
// anything, and collects the requests it would send next: for a reply
// that failed its check, the request that asks again with the check's
// error; for a long document, its parts, then the requests that combine
// their answers.
func (b *batchRun) missingRequests(ctx context.Context, rc *requestCollector) error {
	src, render, err := b.openInput()
	if err != nil {
		return err
	}
	defer src.Close()
	eng := b.planningEngine()
	if b.opts.Job.Fields != nil {
		eng.Parser = b.opts.Job.Fields
	}
	if eng.Multi, err = chunking(b.opts, render, src.Columns()); err != nil {
		return err
	}
	client := &storedAnswers{rs: b.rs, endpoint: eng.Endpoint, collect: rc}
	return Run(ctx, eng, src, render.Render, client, func(Result) error { return nil }, &Stats{})
}

// missingTranslations is missingRequests for a translation: the
// requests its next pass would send, with the answers in the store so far.
func (b *batchRun) missingTranslations(ctx context.Context, rc *requestCollector) error {
	opts := b.opts
	opts.Engine = b.planningEngine()
	opts.Client = &storedAnswers{rs: b.rs, endpoint: opts.Engine.Endpoint, collect: rc}
	opts.Progress = false
	_, err := executeTranslate(ctx, opts, b.rs, true)
	return err
}

// planningEngine is the engine of a pass that sends nothing.
func (b *batchRun) planningEngine() Config {
	eng := b.opts.Engine
	eng.Store = readOnlyStore{b.rs}
	eng.RPM, eng.TPM, eng.Retries = 0, 0, b.repairs
	eng.Concurrency = max(eng.Concurrency, 16)
	eng.FixedConcurrency = true
	return eng
}

// shardWriter writes one request file.
type shardWriter struct {
	id    int64
	path  string
	f     *os.File
	w     *bufio.Writer
	lines int64
	bytes int64
	keys  []string
	seen  map[string]bool
	rs    *runStore
}

func (b *batchRun) newShard(ctx context.Context) (*shardWriter, error) {
	b.files++
	path := filepath.Join(b.bo.Dir, fmt.Sprintf("run%d-%03d.jsonl", b.rs.runID, b.files))
	id, err := b.rs.s.NewShard(ctx, store.Shard{RunID: b.rs.runID, Endpoint: b.opts.Engine.Endpoint, Model: b.opts.Job.Model, Path: path})
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		b.rs.s.DeleteShard(context.WithoutCancel(ctx), id) //nolint:errcheck // the create error is the one to report
		return nil, fmt.Errorf("batch request file: %w", err)
	}
	return &shardWriter{id: id, path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), seen: map[string]bool{}, rs: b.rs}, nil
}

func (s *shardWriter) has(key string) bool { return s.seen[key] }

func (s *shardWriter) fits(n int64, bo BatchOptions) bool {
	return s.lines+1 <= int64(bo.MaxLines) && s.bytes+n <= bo.MaxBytes
}

func (s *shardWriter) add(key string, line []byte) error {
	if _, err := s.w.Write(line); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := s.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	s.lines++
	s.bytes += int64(len(line) + 1)
	s.keys = append(s.keys, key)
	s.seen[key] = true
	return nil
}

// abandon removes a request file that was never sealed; its shard stays
// in state "writing" only if the store could not be reached.
func (s *shardWriter) abandon() {
	s.f.Close()
	os.Remove(s.path)
	s.rs.s.DeleteShard(context.Background(), s.id) //nolint:errcheck // best effort; an unsealed shard holds no keys
}

// seal makes the file durable, records its keys and submits it.
func (b *batchRun) seal(ctx context.Context, s *shardWriter) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	sctx := context.WithoutCancel(ctx)
	if err := b.rs.s.SealShard(sctx, s.id, s.lines, s.bytes, s.keys); err != nil {
		return err
	}
	b.submitted += s.lines
	b.need(s.id)
	b.logf("batch request file %s: %d requests, %s", s.path, s.lines, humanBytes(s.bytes))
	return nil
}

// submitAll uploads and creates the batches of every needed shard that is
// not running yet: new ones, and ones a crash interrupted.
func (b *batchRun) submitAll(ctx context.Context) error {
	for _, id := range b.order {
		sh, err := b.rs.s.Shard(ctx, id)
		if err != nil {
			return err
		}
		if err := b.submit(ctx, &sh); err != nil {
			return err
		}
	}
	return nil
}

// submit moves one shard from written to submitted, recording each step.
// After a crash between upload and create the file is not uploaded again;
// after one between creating the batch and recording it, the batch is
// found by its input file instead of being created (and paid) twice.
func (b *batchRun) submit(ctx context.Context, sh *store.Shard) error {
	err := b.submitOnce(ctx, sh)
	if err != nil && sh.State == store.ShardUploaded && fileGone(err) {
		// The uploaded file no longer exists (deleted, expired, or a
		// simulator that has ended): upload it again.
		b.logf("uploaded file %s of %s no longer exists on the service: uploading it again", sh.FileID, filepath.Base(sh.Path))
		sh.FileID, sh.State, sh.Message = "", store.ShardWritten, ""
		if err := b.rs.s.UpdateShard(context.WithoutCancel(ctx), *sh); err != nil {
			return err
		}
		return b.submitOnce(ctx, sh)
	}
	return err
}

// fileGone reports an error saying the input file does not exist.
func fileGone(err error) bool {
	var ae *model.APIError
	if !errors.As(err, &ae) || (ae.Status != 400 && ae.Status != 404) {
		return false
	}
	m := strings.ToLower(ae.Message)
	return strings.Contains(m, "no such file") || (strings.Contains(m, "file") && strings.Contains(m, "not found"))
}

func (b *batchRun) submitOnce(ctx context.Context, sh *store.Shard) error {
	sctx := context.WithoutCancel(ctx) // record what happened even if interrupted
	if sh.State == store.ShardWritten {
		var fileID string
		err := b.retry(ctx, "upload "+sh.Path, func() error {
			f, err := os.Open(sh.Path)
			if err != nil {
				return &permanent{fmt.Errorf("batch request file of shard %d: %w (it was written by run %d; without it the shard cannot be submitted)", sh.ID, err, sh.RunID)}
			}
			defer f.Close()
			fileID, err = b.svc.Upload(ctx, filepath.Base(sh.Path), f)
			return err
		})
		if err != nil {
			return b.shardError(sctx, sh, err)
		}
		sh.FileID, sh.State, sh.Message = fileID, store.ShardUploaded, ""
		if err := b.rs.s.UpdateShard(sctx, *sh); err != nil {
			return err
		}
		b.logf("uploaded %s as %s", filepath.Base(sh.Path), fileID)
	}
	if sh.State == store.ShardUploaded {
		var info model.BatchInfo
		first := true
		err := b.retry(ctx, "create a batch for "+sh.FileID, func() error {
			// Look first on a resume or a retry: the batch may exist
			// although its creation was never recorded or answered.
			if !first || sh.Message != "" || sh.RunID != b.rs.runID {
				found, ok, err := b.svc.FindByInputFile(ctx, sh.FileID)
				if err != nil {
					return err
				}
				if ok {
					info = found
					return nil
				}
			}
			first = false
			var err error
			info, err = b.svc.Create(ctx, sh.FileID, b.bo.Window, map[string]string{
				"ds_name":        fmt.Sprintf("bulkgen shard %d", sh.ID),
				"ds_description": truncate(fmt.Sprintf("%s → %s, %d requests", filepath.Base(b.opts.Input), b.opts.Job.Model, sh.Lines), 200),
			})
			return err
		})
		if err != nil {
			return b.shardError(sctx, sh, err)
		}
		sh.BatchID, sh.State, sh.Message = info.ID, store.ShardSubmitted, ""
		sh.Status, sh.Total, sh.Completed, sh.Failed = info.Status, info.Total, info.Completed, info.Failed
		if err := b.rs.s.UpdateShard(sctx, *sh); err != nil {
			return err
		}
		b.logf("batch %s created for %s (%d requests)", info.ID, filepath.Base(sh.Path), sh.Lines)
	}
	return nil
}

// shardError records a failed step in the shard, so `batch status` shows
// it, and returns err.
func (b *batchRun) shardError(ctx context.Context, sh *store.Shard, err error) error {
	sh.Message = err.Error()
	if uerr := b.rs.s.UpdateShard(ctx, *sh); uerr != nil {
		return errors.Join(err, uerr)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: shard %d is recorded; rerun the same command to go on", ErrInterrupted, sh.ID)
	}
	if model.ClassOf(err) == model.Fatal {
		return &FatalError{Err: err}
	}
	return err
}

// permanent marks an error not worth retrying.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// retry runs op until it succeeds, fails for good, or the retries run out:
// transient errors (network, 5xx, 429) are retried with doubling waits.
func (b *batchRun) retry(ctx context.Context, what string, op func() error) error {
	wait := b.bo.Backoff
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		var p *permanent
		if errors.As(err, &p) || ctx.Err() != nil || model.ClassOf(err) != model.Retryable || attempt >= batchOpRetries {
			return err
		}
		b.logf("%s: %v; retrying in %s", what, err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

// wait polls every needed batch until all are finished and their results
// are in the store.
func (b *batchRun) wait(ctx context.Context) error {
	last := map[int64]string{}
	for {
		pending := 0
		for _, id := range b.order {
			sh, err := b.rs.s.Shard(ctx, id)
			if err != nil {
				return err
			}
			if sh.State == store.ShardDone {
				continue
			}
			if sh.State != store.ShardSubmitted {
				return fmt.Errorf("batch shard %d is %s, not submitted", sh.ID, sh.State)
			}
			done, err := b.check(ctx, &sh, last)
			if err != nil {
				return err
			}
			if !done {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		t := time.NewTimer(b.bo.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %d batch(es) keep running on the service; rerun the same command (or `bulkgen batch wait`) to collect them", ErrInterrupted, pending)
		case <-t.C:
		}
	}
}

// check asks for one batch's state, records it, and fetches the results
// of a finished batch. done reports that the shard is finished.
func (b *batchRun) check(ctx context.Context, sh *store.Shard, last map[int64]string) (done bool, err error) {
	var info model.BatchInfo
	err = b.retry(ctx, "get batch "+sh.BatchID, func() error {
		var err error
		info, err = b.svc.Get(ctx, sh.BatchID)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return false, fmt.Errorf("%w: batch %s keeps running on the service; rerun the same command (or `bulkgen batch wait`) to collect it", ErrInterrupted, sh.BatchID)
		}
		var ae *model.APIError
		if errors.As(err, &ae) && ae.Status == 404 {
			// Gone: only batches of the last 30 days can be queried, and a
			// simulator's batches end with its process. Its rows are freed
			// and submitted again by the next run.
			b.logf("batch %s no longer exists on the service; its %d rows will be submitted again", sh.BatchID, sh.Lines)
			b.lost++
			lost := model.BatchInfo{ID: sh.BatchID, Status: "lost", Errors: []string{"the batch no longer exists on the service"}}
			if err := FetchShard(context.WithoutCancel(ctx), b.rs.s, b.svc, *sh, lost, b.rs.runID); err != nil {
				return false, err
			}
			return true, nil
		}
		return false, b.shardError(context.WithoutCancel(ctx), sh, err)
	}
	sh.Status, sh.Total, sh.Completed, sh.Failed = info.Status, info.Total, info.Completed, info.Failed
	if len(info.Errors) > 0 {
		sh.Message = strings.Join(info.Errors, "; ")
	}
	line := fmt.Sprintf("batch %s: %s, %d/%d done, %d failed", sh.BatchID, sh.Status, sh.Completed, max(sh.Total, sh.Lines), sh.Failed)
	if last[sh.ID] != line {
		last[sh.ID] = line
		b.logf("%s", line)
		if err := b.rs.s.UpdateShard(context.WithoutCancel(ctx), *sh); err != nil {
			return false, err
		}
	}
	if !info.Terminal() {
		return false, nil
	}
	if err := FetchShard(ctx, b.rs.s, b.svc, *sh, info, b.rs.runID); err != nil {
		return false, err
	}
	return true, nil
}

// FetchShard takes a finished batch's output and error files into the
// store, gives every request of the shard that has no line in them an
// error saying why (expired, cancelled, the batch failed), and marks the
// shard done. Lines are stored as they are read, so an interrupted fetch
// is simply done again.
func FetchShard(ctx context.Context, s *store.Store, svc BatchService, sh store.Shard, info model.BatchInfo, runID int64) error {
	keys, err := s.ShardKeys(ctx, sh.ID)
	if err != nil {
		return err
	}
	left := make(map[string]bool, len(keys))
	for _, k := range keys {
		left[k] = true
	}
	for _, fileID := range []string{info.OutputFileID, info.ErrorFileID} {
		if fileID == "" {
			continue
		}
		if err := fetchFile(ctx, s, svc, fileID, left, runID); err != nil {
			return fmt.Errorf("batch %s: %w", sh.BatchID, err)
		}
	}
	why := fmt.Sprintf("batch %s ended %s without a result for this row", sh.BatchID, info.Status)
	if len(info.Errors) > 0 {
		why += ": " + strings.Join(info.Errors, "; ")
	}
	why += "; rerun to submit it again"
	for k := range left {
		// The error is kept for --keep-errors and the output; the key is
		// free again once the shard is finished below.
		if err := s.PutError(ctx, k, why, runID); err != nil {
			return err
		}
	}
	sh.Status, sh.Total, sh.Completed, sh.Failed = info.Status, info.Total, info.Completed, info.Failed
	return s.FinishShard(context.WithoutCancel(ctx), sh)
}

func fetchFile(ctx context.Context, s *store.Store, svc BatchService, fileID string, left map[string]bool, runID int64) error {
	rc, err := svc.Content(ctx, fileID)
	if err != nil {
		return err
	}
	defer rc.Close()
	return ImportResults(ctx, s, rc, fileID, left, runID)
}

// ImportResults stores the result lines read from r (a batch output or
// error file, or a results file from elsewhere). Lines whose custom_id is
// not one of bulkgen's are counted as foreign; when want is non-nil only
// its keys are taken, and each key taken is removed from it.
func ImportResults(ctx context.Context, s *store.Store, r io.Reader, name string, want map[string]bool, runID int64) error {
	br := bufio.NewReaderSize(r, 1<<20)
	// Puts run concurrently so that the store's group commit writes many
	// rows per transaction; each Put still returns only once committed.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	lineNo := 0
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			lineNo++
			put, perr := importLine(line, want)
			if perr != nil {
				g.Wait()
				return fmt.Errorf("%s line %d: %w", name, lineNo, perr)
			}
			if put != nil {
				n := lineNo
				g.Go(func() error {
					if err := put(gctx, s, runID); err != nil {
						return fmt.Errorf("%s line %d: %w", name, n, err)
					}
					return nil
				})
			}
		}
		if errors.Is(err, io.EOF) {
			return g.Wait()
		}
		if err != nil {
			g.Wait()
			return fmt.Errorf("read %s line %d: %w", name, lineNo+1, err)
		}
		if gctx.Err() != nil {
			return g.Wait()
		}
	}
}

// importLine reads one result line; put stores it (nil: nothing to store).
func importLine(line []byte, want map[string]bool) (put func(context.Context, *store.Store, int64) error, err error) {
	if len(strings.TrimSpace(string(line))) == 0 {
		return nil, nil
	}
	res, err := model.ParseBatchResult(line)
	if err != nil {
		return nil, err
	}
	key, ok := keyOfCustomID(res.CustomID)
	if !ok {
		return nil, fmt.Errorf("custom_id %q was not made by bulkgen (want row<N>-<64 hex digits>)", res.CustomID)
	}
	if want != nil {
		if !want[key] {
			return nil, nil // not this shard's (or already taken)
		}
		delete(want, key)
	}
	if res.Err != nil {
		msg := res.Err.Error()
		return func(ctx context.Context, s *store.Store, runID int64) error { return s.PutError(ctx, key, msg, runID) }, nil
	}
	resp := res.Response
	return func(ctx context.Context, s *store.Store, runID int64) error { return s.Put(ctx, key, resp, runID) }, nil
}

// readLine reads one line of any length up to maxBatchResultLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, err := br.ReadSlice('\n')
		buf = append(buf, part...)
		if len(buf) > maxBatchResultLine {
			return nil, fmt.Errorf("line longer than %d MB", maxBatchResultLine>>20)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return buf, err
	}
}

// storedAnswers is the "client" of a batch run's write phase: it answers
// from the store and never sends anything.
type storedAnswers struct {
	rs       *runStore
	endpoint string
	missing  string
	// collect, when set, takes the requests that have no answer into
	// request files (a planning pass).
	collect *requestCollector
}

func (a *storedAnswers) Complete(ctx context.Context, req model.Request) (model.Response, error) {
	key := model.RequestKey(a.endpoint, req)
	resp, runID, ok, err := a.rs.s.Lookup(ctx, key)
	if err != nil {
		return model.Response{}, &model.APIError{Class: model.Fatal, Message: "run store: " + err.Error(), Err: err}
	}
	if ok && runID == a.rs.runID {
		return resp, nil
	}
	msg, ok, err := a.rs.s.GetError(ctx, key)
	if err != nil {
		return model.Response{}, &model.APIError{Class: model.Fatal, Message: "run store: " + err.Error(), Err: err}
	}
	if !ok {
		if a.collect != nil {
			if err := a.collect.add(ctx, key, req); err != nil {
				return model.Response{}, &model.APIError{Class: model.Fatal, Message: err.Error(), Err: err}
			}
			return model.Response{}, errAwaitingBatch
		}
		msg = a.missing
		if msg == "" {
			msg = "no batch result for this row (it was not submitted); rerun to submit it"
		}
	}
	return model.Response{}, &model.APIError{Class: model.RowFinal, Message: msg}
}

// readOnlyStore answers lookups and keeps nothing: a planning pass only
// looks.
type readOnlyStore struct{ *runStore }

func (readOnlyStore) Save(context.Context, string, model.Response) error { return nil }
func (readOnlyStore) SaveError(context.Context, string, string) error    { return nil }

// batchWriteStore hides the results this run fetched from the write
// phase's store lookup, so that they are counted (and priced) as this
// run's answers, via storedAnswers, and not as taken from the store.
type batchWriteStore struct{ *runStore }

func (w batchWriteStore) Lookup(ctx context.Context, key string) (model.Response, bool, bool, error) {
	resp, id, ok, err := w.s.Lookup(ctx, key)
	if ok && id == w.runID {
		return model.Response{}, false, false, err
	}
	return resp, false, ok, err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
