package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bulkgen/model"
	"bulkgen/readers"
)

// sliceReader serves rows from memory; rows listed in bad come back as
// RowErrors.
type sliceReader struct {
	n   int
	i   int
	bad map[int]bool
}

func (r *sliceReader) Columns() []string  { return []string{"text"} }
func (r *sliceReader) Total() (int, bool) { return r.n, true }
func (r *sliceReader) Close() error       { return nil }
func (r *sliceReader) Read(ctx context.Context) (readers.Row, error) {
	if err := ctx.Err(); err != nil {
		return readers.Row{}, err
	}
	if r.i >= r.n {
		return readers.Row{}, io.EOF
	}
	i := r.i
	r.i++
	row := readers.Row{Index: i, Key: "mem:" + strconv.Itoa(i+1), Values: []string{"row " + strconv.Itoa(i)}}
	if r.bad[i] {
		return readers.Row{}, &readers.RowError{Row: row, Err: fmt.Errorf("mem line %d: broken", i+1)}
	}
	return row, nil
}

// fakeClient answers with the prompt echoed, after calling hook (which may
// return an error to inject).
type fakeClient struct {
	hook     func(ctx context.Context, n int64, req model.Request) error
	calls    atomic.Int64
	inFlight atomic.Int64
	peak     atomic.Int64
}

func (c *fakeClient) Complete(ctx context.Context, req model.Request) (model.Response, error) {
	n := c.calls.Add(1)
	cur := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for {
		p := c.peak.Load()
		if cur <= p || c.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	if c.hook != nil {
		if err := c.hook(ctx, n, req); err != nil {
			return model.Response{}, err
		}
	}
	return model.Response{Content: "echo " + req.Messages[0].Content, FinishReason: "stop",
		Usage: model.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}}, nil
}

func render(values []string) (model.Request, bool) {
	if values[0] == "" {
		return model.Request{}, true
	}
	return model.Request{Model: "m", Messages: []model.Message{{Role: "user", Content: values[0]}}}, false
}

type collect struct {
	mu   sync.Mutex
	rows []Result
}

func (c *collect) sink(r Result) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rows = append(c.rows, r)
	return nil
}

func fastCfg(c int) Config {
	return Config{Concurrency: c, Retries: 5, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond, Grace: time.Second,
		FixedConcurrency: true}
}

func TestRunKeepsInputOrderUnderJitter(t *testing.T) {
	cl := &fakeClient{hook: func(ctx context.Context, n int64, req model.Request) error {
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		return nil
	}}
	var out collect
	stats := &Stats{}
	err := Run(context.Background(), fastCfg(32), &sliceReader{n: 2000}, render, cl, out.sink, stats)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.rows) != 2000 {
		t.Fatalf("got %d rows, want 2000", len(out.rows))
	}
	for i, r := range out.rows {
		if r.Row.Index != i || r.Response.Content != "echo row "+strconv.Itoa(i) {
			t.Fatalf("row %d out of order or wrong: %+v", i, r)
		}
	}
	if p := cl.peak.Load(); p > 32 {
		t.Errorf("peak concurrency %d exceeds -c 32", p)
	}
	if p := cl.peak.Load(); p < 2 {
		t.Errorf("peak concurrency %d: requests were not concurrent", p)
	}
	s := stats.Snapshot()
	if s.OK != 2000 || s.PromptTokens != 6000 || s.Requests != 2000 {
		t.Errorf("stats = %+v", s)
	}
}

func TestRunRetriesRetryableErrors(t *testing.T) {
	// Every request fails twice with a retryable 429, then succeeds.
	var mu sync.Mutex
	seen := map[string]int{}
	cl := &fakeClient{hook: func(ctx context.Context, n int64, req model.Request) error {
		mu.Lock()
		defer mu.Unlock()
		seen[req.Messages[0].Content]++
		if seen[req.Messages[0].Content] <= 2 {
			return &model.APIError{Status: 429, Code: "limit_requests", Class: model.Retryable}
		}
		return nil
	}}
	var out collect
	stats := &Stats{}
	if err := Run(context.Background(), fastCfg(8), &sliceReader{n: 50}, render, cl, out.sink, stats); err != nil {
		t.Fatal(err)
	}
	for _, r := range out.rows {
		if r.Err != nil || r.Attempts != 3 {
			t.Fatalf("row %s: err=%v attempts=%d", r.Row.Key, r.Err, r.Attempts)
		}
	}
	if s := stats.Snapshot(); s.Throttled != 100 || s.Retries != 100 || s.OK != 50 {
		t.Errorf("stats = %+v", s)
	}
}

func TestRunGivesUpAfterRetries(t *testing.T) {
	cl := &fakeClient{hook: func(context.Context, int64, model.Request) error {
		return &model.APIError{Status: 500, Code: "InternalError", Class: model.Retryable}
	}}
	var out collect
	cfg := fastCfg(2)
	cfg.Retries = 2
	if err := Run(context.Background(), cfg, &sliceReader{n: 3}, render, cl, out.sink, nil); err != nil {
		t.Fatal(err)
	}
	if cl.calls.Load() != 9 {
		t.Errorf("calls = %d, want 3 rows × 3 attempts", cl.calls.Load())
	}
	for _, r := range out.rows {
		if r.Err == nil || r.Attempts != 3 {
			t.Fatalf("row %s should fail after 3 attempts: %+v", r.Row.Key, r)
		}
	}
}

func TestRunRowFinalErrorsAreNotRetried(t *testing.T) {
	cl := &fakeClient{hook: func(_ context.Context, _ int64, req model.Request) error {
		if req.Messages[0].Content == "row 3" {
			return &model.APIError{Status: 400, Code: "data_inspection_failed", Class: model.RowFinal}
		}
		return nil
	}}
	var out collect
	stats := &Stats{}
	if err := Run(context.Background(), fastCfg(4), &sliceReader{n: 10, bad: map[int]bool{5: true}}, render, cl, out.sink, stats); err != nil {
		t.Fatal(err)
	}
	if len(out.rows) != 10 {
		t.Fatalf("want every row in the output, got %d", len(out.rows))
	}
	if out.rows[3].Err == nil || out.rows[3].Attempts != 1 {
		t.Errorf("row 3: %+v", out.rows[3])
	}
	if out.rows[5].Err == nil || out.rows[5].Attempts != 0 {
		t.Errorf("bad input row 5 must carry its error without a request: %+v", out.rows[5])
	}
	if cl.calls.Load() != 9 {
		t.Errorf("calls = %d, want 9", cl.calls.Load())
	}
	if s := stats.Snapshot(); s.Failed != 2 || s.OK != 8 {
		t.Errorf("stats = %+v", s)
	}
}

func TestRunFatalStopsSendingQuickly(t *testing.T) {
	cl := &fakeClient{hook: func(context.Context, int64, model.Request) error {
		return &model.APIError{Status: 401, Code: "invalid_api_key", Class: model.Fatal}
	}}
	var out collect
	err := Run(context.Background(), fastCfg(4), &sliceReader{n: 10000}, render, cl, out.sink, nil)
	var fatal *FatalError
	if !errors.As(err, &fatal) {
		t.Fatalf("err = %v, want FatalError", err)
	}
	if n := cl.calls.Load(); n > 8 {
		t.Errorf("%d requests sent after a fatal error; want a handful", n)
	}
	if len(out.rows) != 0 {
		t.Errorf("rows written: %d", len(out.rows))
	}
}

func TestRunInterruptWritesFinishedRows(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cl := &fakeClient{hook: func(c context.Context, n int64, req model.Request) error {
		if n == 100 {
			cancel()
		}
		time.Sleep(time.Millisecond)
		return nil
	}}
	var out collect
	stats := &Stats{}
	err := Run(ctx, fastCfg(8), &sliceReader{n: 100000}, render, cl, out.sink, stats)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	s := stats.Snapshot()
	if int64(len(out.rows)) != s.Written || s.Written < 100 || s.Written > 200 {
		t.Fatalf("written %d (stats %d): want the ~100 finished rows", len(out.rows), s.Written)
	}
	if cl.calls.Load() > 120 {
		t.Errorf("%d requests: sending did not stop", cl.calls.Load())
	}
	for i := 1; i < len(out.rows); i++ {
		if out.rows[i].Row.Index <= out.rows[i-1].Row.Index {
			t.Fatal("rows out of order")
		}
	}
}

func TestRunGraceAbortsHungRequests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cl := &fakeClient{hook: func(c context.Context, n int64, req model.Request) error {
		if n == 5 {
			cancel()
		}
		if n > 3 {
			<-c.Done() // hang until aborted
			return c.Err()
		}
		return nil
	}}
	var out collect
	cfg := fastCfg(4)
	cfg.Grace = 50 * time.Millisecond
	done := make(chan error)
	go func() { done <- Run(ctx, cfg, &sliceReader{n: 100}, render, cl, out.sink, nil) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the grace period")
	}
	if len(out.rows) != 3 {
		t.Errorf("written %d rows, want the 3 that finished", len(out.rows))
	}
}

func TestRunSkipsEmptyRowsAndHonoursLimit(t *testing.T) {
	cl := &fakeClient{}
	var out collect
	cfg := fastCfg(2)
	cfg.Limit = 7
	r := &emptyEvery{sliceReader{n: 100}}
	stats := &Stats{}
	if err := Run(context.Background(), cfg, r, render, cl, out.sink, stats); err != nil {
		t.Fatal(err)
	}
	if len(out.rows) != 7 {
		t.Fatalf("rows = %d, want --limit 7", len(out.rows))
	}
	if s := stats.Snapshot(); s.Skipped != 3 || cl.calls.Load() != 4 {
		t.Errorf("skipped %d calls %d, want 3 skipped (rows 0,3,6) and 4 calls", s.Skipped, cl.calls.Load())
	}
}

type emptyEvery struct{ sliceReader }

func (r *emptyEvery) Read(ctx context.Context) (readers.Row, error) {
	row, err := r.sliceReader.Read(ctx)
	if err == nil && row.Index%3 == 0 {
		row.Values = []string{""}
	}
	return row, err
}

func TestRunSinkErrorStopsTheRun(t *testing.T) {
	// The workers run ahead of the writer by at most the reorder window,
	// and once the writer fails nothing more is read: so no more rows than
	// the ones written plus one window can ever be sent.
	cl := &fakeClient{}
	boom := errors.New("disk full")
	n := 0
	cfg := fastCfg(4)
	cfg.Window = 64
	err := Run(context.Background(), cfg, &sliceReader{n: 5000}, render, cl, func(Result) error {
		n++
		if n == 10 {
			return boom
		}
		return nil
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the sink error", err)
	}
	if got, most := cl.calls.Load(), int64(10+cfg.Window); got > most {
		t.Errorf("%d requests: the writer failed at the 10th row, so at most %d could be sent", got, most)
	}
}

func TestBackoffBounds(t *testing.T) {
	for attempt := 1; attempt < 12; attempt++ {
		d := backoff(100*time.Millisecond, 2*time.Second, attempt)
		want := min(100*time.Millisecond<<(attempt-1), 2*time.Second)
		if d < want/2 || d > want {
			t.Errorf("attempt %d: %v not in [%v, %v]", attempt, d, want/2, want)
		}
	}
}

// BenchmarkRun measures the engine's own overhead per row (no I/O).
func BenchmarkRun(b *testing.B) {
	cl := &fakeClient{}
	b.ReportAllocs()
	for b.Loop() {
		if err := Run(context.Background(), fastCfg(64), &sliceReader{n: 10000}, render, cl, func(Result) error { return nil }, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/row")
}

func TestStatsSayWhetherTheInputWasReadToTheEnd(t *testing.T) {
	var stats Stats
	if err := Run(context.Background(), fastCfg(4), &sliceReader{n: 50}, render, &fakeClient{}, func(Result) error { return nil }, &stats); err != nil {
		t.Fatal(err)
	}
	if s := stats.Snapshot(); !s.ReadAll || s.Read != 50 {
		t.Errorf("a finished run: ReadAll %v, read %d", s.ReadAll, s.Read)
	}

	// Interrupted after 20 rows, with a reorder window of 16: most of
	// the 5,000 rows were never read.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := fastCfg(4)
	cfg.Window = 16
	stats = Stats{}
	n := 0
	err := Run(ctx, cfg, &sliceReader{n: 5000}, render, &fakeClient{}, func(Result) error {
		if n++; n == 20 {
			cancel()
		}
		return nil
	}, &stats)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if s := stats.Snapshot(); s.ReadAll || s.Read >= 5000 {
		t.Errorf("an interrupted run: ReadAll %v, read %d of 5000", s.ReadAll, s.Read)
	}
}
