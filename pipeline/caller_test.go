package pipeline

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"bulkgen/model"
	"bulkgen/readers"
)

// memStore is an in-memory ResultStore that records the order of events.
type memStore struct {
	mu      sync.Mutex
	results map[string]model.Response
	runOf   map[string]int
	errs    map[string]string
	run     int
	saves   int
	failAt  int // Save number that fails (0 = never)
	// saveDelay is how long a Save takes to commit (a store batching).
	saveDelay time.Duration
}

func newMemStore() *memStore {
	return &memStore{results: map[string]model.Response{}, runOf: map[string]int{}, errs: map[string]string{}, run: 1}
}

func (m *memStore) Lookup(_ context.Context, key string) (model.Response, bool, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.results[key]
	return r, ok && m.runOf[key] == m.run, ok, nil
}

func (m *memStore) LookupError(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.errs[key]
	return e, ok, nil
}

func (m *memStore) Save(_ context.Context, key string, resp model.Response) error {
	time.Sleep(m.saveDelay)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	if m.failAt != 0 && m.saves == m.failAt {
		return errors.New("disk I/O error")
	}
	m.results[key], m.runOf[key] = resp, m.run
	delete(m.errs, key)
	return nil
}

func (m *memStore) SaveError(_ context.Context, key, msg string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errs[key] = msg
	return nil
}

// dupReader yields n rows whose text repeats every `distinct` rows.
type dupReader struct {
	sliceReader
	distinct int
}

func (r *dupReader) Read(ctx context.Context) (readers.Row, error) {
	row, err := r.sliceReader.Read(ctx)
	if err == nil {
		row.Values = []string{"text " + strconv.Itoa(row.Index%r.distinct)}
	}
	return row, err
}

func TestStoreResumeSendsOnlyMissingRows(t *testing.T) {
	st := newMemStore()
	cfg := fastCfg(8)
	cfg.Store, cfg.Endpoint = st, "test"
	cfg.Limit = 40
	cl := &fakeClient{}
	var first collect
	if err := Run(context.Background(), cfg, &sliceReader{n: 100}, render, cl, first.sink, nil); err != nil {
		t.Fatal(err)
	}
	if cl.calls.Load() != 40 || len(st.results) != 40 {
		t.Fatalf("first run: %d calls, %d stored", cl.calls.Load(), len(st.results))
	}
	// Second run, a new run id: the first 40 rows come from the store.
	st.run = 2
	cfg.Limit = 0
	var second collect
	stats := &Stats{}
	if err := Run(context.Background(), cfg, &sliceReader{n: 100}, render, cl, second.sink, stats); err != nil {
		t.Fatal(err)
	}
	if cl.calls.Load() != 100 {
		t.Fatalf("calls %d: rows with a stored result were sent again", cl.calls.Load())
	}
	s := stats.Snapshot()
	if s.FromStore != 40 || s.SentRows != 60 || s.Written != 100 {
		t.Fatalf("stats %+v", s)
	}
	for i, r := range second.rows {
		if r.Response.Content != "echo row "+strconv.Itoa(i) || r.FromStore != (i < 40) {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	// --refresh: everything is sent again.
	st.run = 3
	cfg.Refresh = true
	if err := Run(context.Background(), cfg, &sliceReader{n: 100}, render, cl, func(Result) error { return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if cl.calls.Load() != 200 {
		t.Fatalf("--refresh: %d calls, want 200", cl.calls.Load())
	}
}

func TestSavedBeforeWritten(t *testing.T) {
	st := newMemStore()
	cfg := fastCfg(8)
	cfg.Store = st
	err := Run(context.Background(), cfg, &sliceReader{n: 200}, render, &fakeClient{}, func(r Result) error {
		key := model.RequestKey("", model.Request{Model: "m", Messages: []model.Message{{Role: "user", Content: r.Row.Values[0]}}})
		st.mu.Lock()
		defer st.mu.Unlock()
		if _, ok := st.results[key]; !ok {
			return errors.New("row " + r.Row.Key + " reached the writer before the store")
		}
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

func TestTwinDuringCommitIsNotSentAgain(t *testing.T) {
	// One worker: the second row's request, identical to the first's,
	// comes after the first was answered but while its answer is still
	// being committed. It must wait for that answer, not pay again.
	st := newMemStore()
	st.saveDelay = 30 * time.Millisecond
	cfg := fastCfg(1)
	cfg.Store = st
	cl := &fakeClient{}
	same := func([]string) (model.Request, bool) {
		return model.Request{Model: "m", Messages: []model.Message{{Role: "user", Content: "same"}}}, false
	}
	var out collect
	if err := Run(context.Background(), cfg, &sliceReader{n: 3}, same, cl, out.sink, nil); err != nil {
		t.Fatal(err)
	}
	if n := cl.calls.Load(); n != 1 {
		t.Errorf("%d requests for three identical rows", n)
	}
	if len(out.rows) != 3 || out.rows[1].Response.Content != out.rows[0].Response.Content {
		t.Errorf("rows %+v", out.rows)
	}
}

func TestStoreFailureStopsTheRun(t *testing.T) {
	st := newMemStore()
	st.failAt = 5
	cfg := fastCfg(4)
	cfg.Store = st
	cl := &fakeClient{}
	var out collect
	err := Run(context.Background(), cfg, &sliceReader{n: 1000}, render, cl, out.sink, nil)
	if err == nil || !strings.Contains(err.Error(), "run store") {
		t.Fatalf("err = %v, want a run store error", err)
	}
	if cl.calls.Load() > 100 {
		t.Errorf("%d requests after the store failed", cl.calls.Load())
	}
}

func TestDedupeInFlightAndAfter(t *testing.T) {
	for _, withStore := range []bool{false, true} {
		t.Run("store="+strconv.FormatBool(withStore), func(t *testing.T) {
			cl := &fakeClient{hook: func(context.Context, int64, model.Request) error {
				time.Sleep(2 * time.Millisecond) // keep twins in flight together
				return nil
			}}
			cfg := fastCfg(16)
			if withStore {
				cfg.Store = newMemStore()
			}
			var out collect
			stats := &Stats{}
			if err := Run(context.Background(), cfg, &dupReader{sliceReader{n: 300}, 10}, render, cl, out.sink, stats); err != nil {
				t.Fatal(err)
			}
			if cl.calls.Load() != 10 {
				t.Fatalf("%d requests for 10 distinct prompts", cl.calls.Load())
			}
			for i, r := range out.rows {
				if r.Response.Content != "echo text "+strconv.Itoa(i%10) || r.Err != nil {
					t.Fatalf("row %d: %+v", i, r)
				}
			}
			if s := stats.Snapshot(); s.Deduped != 290 || s.SentRows != 10 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestKeepErrorsReusesRowErrors(t *testing.T) {
	st := newMemStore()
	bad := &model.APIError{Status: 400, Code: "data_inspection_failed", Class: model.RowFinal}
	cl := &fakeClient{hook: func(_ context.Context, _ int64, req model.Request) error {
		if req.Messages[0].Content == "row 2" {
			return bad
		}
		return nil
	}}
	cfg := fastCfg(2)
	cfg.Store = st
	run := func() *Stats {
		stats := &Stats{}
		if err := Run(context.Background(), cfg, &sliceReader{n: 5}, render, cl, func(Result) error { return nil }, stats); err != nil {
			t.Fatal(err)
		}
		return stats
	}
	run()
	if cl.calls.Load() != 5 || len(st.errs) != 1 {
		t.Fatalf("calls %d errs %d", cl.calls.Load(), len(st.errs))
	}
	st.run = 2
	run() // the failed row is retried by default
	if cl.calls.Load() != 6 {
		t.Fatalf("calls %d: the failed row should be retried", cl.calls.Load())
	}
	st.run = 3
	cfg.KeepErrors = true
	s := run().Snapshot()
	if cl.calls.Load() != 6 || s.Failed != 1 {
		t.Fatalf("--keep-errors: calls %d failed %d", cl.calls.Load(), s.Failed)
	}
}

func TestBudgetCountsInFlight(t *testing.T) {
	// Each request is estimated at ≤ 100 tokens (max_tokens 50 + a short
	// prompt) and uses exactly 5. A budget of 1,000 must stop before the
	// in-flight reservations could cross it, and never after spending it.
	cl := &fakeClient{hook: func(context.Context, int64, model.Request) error {
		time.Sleep(time.Millisecond)
		return nil
	}}
	mt := int64(50)
	r := func(values []string) (model.Request, bool) {
		req, skip := render(values)
		req.MaxTokens = &mt
		return req, skip
	}
	cfg := fastCfg(8)
	cfg.MaxTokensTotal = 1000
	var out collect
	stats := &Stats{}
	err := Run(context.Background(), cfg, &sliceReader{n: 10000}, r, cl, out.sink, stats)
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("err = %v, want ErrBudget", err)
	}
	s := stats.Snapshot()
	est := model.EstimatePromptTokens(model.Request{Model: "m", Messages: []model.Message{{Role: "user", Content: "row 1000"}}}) + mt
	spent := s.PromptTokens + s.CompletionTokens
	if spent > 1000 {
		t.Fatalf("spent %d tokens: the budget was crossed", spent)
	}
	// It stopped because one more request, with 8 in flight, could have
	// crossed it — not earlier.
	if spent+9*est <= 1000 {
		t.Fatalf("stopped at %d tokens spent (%d calls) with room left", spent, cl.calls.Load())
	}
	if int64(len(out.rows)) != s.Written || s.Written != cl.calls.Load() {
		t.Fatalf("written %d of %d sent", s.Written, cl.calls.Load())
	}
}

func TestControllerHonoursRetryAfter(t *testing.T) {
	c := newController(4, 0, true)
	s, _ := c.acquire(context.Background())
	c.release(s, outcomeThrottled, 80*time.Millisecond)
	start := time.Now()
	if _, err := c.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 60*time.Millisecond {
		t.Errorf("sent again after %v, before Retry-After passed", waited)
	}
}
