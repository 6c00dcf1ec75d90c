package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// fill puts n results (keys prefix0 … prefix(n-1)) concurrently, so that
// group commit makes it quick.
func fill(t *testing.T, s *Store, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	errs := make(chan error, 50)
	for w := range 50 {
		go func() {
			var err error
			for i := w; i < n && err == nil; i += 50 {
				key := fmt.Sprintf("%s%d", prefix, i)
				err = s.Put(ctx, key, response(key), 1)
			}
			errs <- err
		}()
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestKeyFilterKeepsEveryStoredKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	first := openAt(t, path)
	fill(t, first, "old-", 3000)
	if err := first.PutError(ctx, "old-err", "refused", 1); err != nil {
		t.Fatal(err)
	}
	first.Close()

	s := openAt(t, path)
	s.waitLoaded()
	if !s.resultKeys.ready.Load() || !s.errorKeys.ready.Load() {
		t.Fatal("filters not loaded")
	}
	// Keys of an earlier run, loaded from the table.
	for i := range 3000 {
		key := fmt.Sprintf("old-%d", i)
		if !s.resultKeys.has(key) {
			t.Fatalf("filter lost stored key %s", key)
		}
		mustGet(t, s, key)
	}
	if msg, ok, err := s.GetError(ctx, "old-err"); err != nil || !ok || msg != "refused" {
		t.Fatalf("GetError = %q, %v, %v", msg, ok, err)
	}
	// Keys put now are found the moment Put returns.
	fill(t, s, "new-", 2000)
	for i := range 2000 {
		mustGet(t, s, fmt.Sprintf("new-%d", i))
	}
	// Keys never stored are mostly answered without SQLite: the filter
	// is sized for 1% false "maybe"s.
	maybe := 0
	for i := range 10000 {
		key := fmt.Sprintf("absent-%d", i)
		if s.resultKeys.has(key) {
			maybe++
		}
		if _, ok, err := s.Get(ctx, key); err != nil || ok {
			t.Fatalf("Get(%s) = %v, %v for a key never stored", key, ok, err)
		}
	}
	if maybe > 300 {
		t.Errorf("%d of 10000 absent keys passed the filter, want about 1%%", maybe)
	}
}

func TestKeyFilterSeesOtherProcessesWithinASecond(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	a, b := openAt(t, path), openAt(t, path)
	b.waitLoaded()
	now := time.Now()
	for _, f := range []*keyFilter{b.resultKeys, b.errorKeys} {
		f.now = func() time.Time { return now }
		f.refreshed = now
	}
	// a stands for another process: b learns of its commits only from
	// the table.
	if err := a.Put(ctx, "k", response("k"), 1); err != nil {
		t.Fatal(err)
	}
	if err := a.PutError(ctx, "e", "refused", 1); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(ctx, "k"); ok {
		t.Log("found at once (the filter's \"maybe\" was a false positive): fine, but the next check proves nothing")
	}
	now = now.Add(filterRefresh)
	if _, ok, err := b.Get(ctx, "k"); err != nil || !ok {
		t.Errorf("a result another process stored a second ago is not found: %v, %v", ok, err)
	}
	if _, ok, err := b.GetError(ctx, "e"); err != nil || !ok {
		t.Errorf("an error another process stored a second ago is not found: %v, %v", ok, err)
	}
}

func TestOwnCommitsAreNotReadBack(t *testing.T) {
	s := openTest(t)
	s.waitLoaded()
	fill(t, s, "k", 500)
	s.resultKeys.mu.Lock()
	got := s.resultKeys.maxRowID
	s.resultKeys.mu.Unlock()
	// Nothing else writes to this store, so every row is this store's
	// own and contiguous: the filter's mark follows them.
	if got != 500 {
		t.Errorf("filter's mark at row %d after 500 own inserts, want 500", got)
	}
	// An update inserts no row and moves nothing.
	if err := s.Put(context.Background(), "k1", response("again"), 2); err != nil {
		t.Fatal(err)
	}
	if s.resultKeys.maxRowID != 500 {
		t.Errorf("mark moved to %d on an update", s.resultKeys.maxRowID)
	}
}

func TestPutDeletesAnErrorStoredByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	a, b := openAt(t, path), openAt(t, path)
	b.waitLoaded()
	if err := a.PutError(ctx, "k", "timed out", 1); err != nil {
		t.Fatal(err)
	}
	b.errorKeys.refreshed = time.Time{} // as if the last look was long ago
	if err := b.Put(ctx, "k", response("k"), 2); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.GetError(ctx, "k"); err != nil || ok {
		t.Errorf("the error stored before the result is still there: %v, %v", ok, err)
	}
}

func TestUnloadedFilterAnswersMaybe(t *testing.T) {
	f := &keyFilter{mask: 63, words: make([]atomic.Uint64, 1), now: time.Now}
	if !f.mayHave(context.Background(), "anything") {
		t.Error("a filter that has not read its table said no")
	}
	var nilFilter *keyFilter
	if !nilFilter.mayHave(context.Background(), "anything") {
		t.Error("no filter said no")
	}
}

func BenchmarkLookupAbsent(b *testing.B) {
	s := openTest(b)
	s.waitLoaded()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok, err := s.Get(ctx, fmt.Sprintf("%064x", i)); err != nil || ok {
			b.Fatal(ok, err)
		}
	}
}
