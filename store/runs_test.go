package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestRunsLedger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path)

	started := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	first := Run{
		Command:  []string{"run", "-i", "商品.xlsx", "--prompt", "Translate: {{name}}"},
		Input:    "商品.xlsx",
		Output:   "out/en.xlsx",
		Model:    "qwen-plus",
		Endpoint: "https://dashscope.aliyuncs.com/compatible-mode/v1",
		Started:  started,
		Status:   "ignored by StartRun",
		Rows:     99, // StartRun keeps what it is given
	}
	id1, err := s.StartRun(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	want := first
	want.ID, want.Status = id1, "running"
	assertRun(t, got, want)

	cost := 0.0123
	finished := want
	finished.Ended = started.Add(90 * time.Second)
	finished.Status, finished.ExitCode = "rows failed", 3
	finished.Rows, finished.Sent, finished.FromStore, finished.Deduped = 100, 80, 15, 5
	finished.Failed, finished.Skipped, finished.Requests, finished.Throttled = 2, 1, 85, 4
	finished.PromptTokens, finished.CompletionTokens, finished.ReasoningTokens = 12000, 3400, 1200
	finished.Cost, finished.Currency = &cost, "CNY"
	finished.Error = "2 rows failed"
	if err := s.FinishRun(ctx, finished); err != nil {
		t.Fatal(err)
	}

	id2, err := s.StartRun(ctx, Run{Command: []string{"run"}, Input: "b.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if id2 <= id1 {
		t.Errorf("second run id %d is not after the first %d", id2, id1)
	}

	// Survives reopening.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)

	got, err = s.Run(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	assertRun(t, got, finished)

	second, err := s.Run(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != "running" || !second.Ended.IsZero() || second.Cost != nil || second.Started.IsZero() {
		t.Errorf("running run = %+v; want status running, zero Ended, nil Cost, Started set to now", second)
	}

	runs, err := s.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != id2 || runs[1].ID != id1 {
		t.Errorf("Runs(0) ids = %v; want [%d %d], newest first", ids(runs), id2, id1)
	}
	runs, err = s.Runs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != id2 {
		t.Errorf("Runs(1) ids = %v; want [%d]", ids(runs), id2)
	}
}

func TestRunsLedgerMissingRun(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Run(ctx, 42); !errors.Is(err, ErrNoRun) {
		t.Errorf("Run(42) = %v, want ErrNoRun", err)
	}
	if err := s.FinishRun(ctx, Run{ID: 42, Status: "ok"}); !errors.Is(err, ErrNoRun) {
		t.Errorf("FinishRun(42) = %v, want ErrNoRun", err)
	}
	if err := s.FinishRun(ctx, Run{ID: 42}); err == nil {
		t.Error("FinishRun with an empty status succeeded")
	}
	if runs, err := s.Runs(ctx, 10); err != nil || len(runs) != 0 {
		t.Errorf("Runs on an empty ledger = %v, %v", runs, err)
	}
}

func assertRun(t *testing.T, got, want Run) {
	t.Helper()
	// Times come back in the local zone; compare instants, then the rest.
	if !got.Started.Equal(want.Started) || !got.Ended.Equal(want.Ended) {
		t.Errorf("times = %v..%v, want %v..%v", got.Started, got.Ended, want.Started, want.Ended)
	}
	if (got.Cost == nil) != (want.Cost == nil) || (got.Cost != nil && *got.Cost != *want.Cost) {
		t.Errorf("Cost = %v, want %v", got.Cost, want.Cost)
	}
	got.Started, got.Ended, got.Cost = want.Started, want.Ended, want.Cost
	if !reflect.DeepEqual(got, want) {
		t.Errorf("run =\n%+v\nwant\n%+v", got, want)
	}
}

func ids(runs []Run) []int64 {
	var out []int64
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}
