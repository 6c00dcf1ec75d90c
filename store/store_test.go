package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"bulkgen/model"
)

// openTest opens a store in a fresh directory and closes it at the end.
func openTest(t testing.TB, opts ...func(*options)) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "store.db"), opts...)
}

func openAt(t testing.TB, path string, opts ...func(*options)) *Store {
	t.Helper()
	o := options{busyTimeout: defaultBusyTimeout}
	for _, f := range opts {
		f(&o)
	}
	s, err := open(context.Background(), path, o)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func busy(d time.Duration) func(*options) { return func(o *options) { o.busyTimeout = d } }

func response(key string) model.Response {
	return model.Response{
		Content:      "answer for " + key,
		FinishReason: "stop",
		Usage:        model.Usage{PromptTokens: 12, CompletionTokens: 3, TotalTokens: 15},
		RequestID:    "req-" + key,
		Model:        "qwen-plus",
		Latency:      1234 * time.Millisecond,
	}
}

func mustGet(t testing.TB, s *Store, key string) model.Response {
	t.Helper()
	got, ok, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !ok {
		t.Fatalf("Get(%q): not found", key)
	}
	return got
}

func TestPutGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	cases := map[string]model.Response{
		"empty": {},
		"full": {
			Content:          "这是一段回复。\nIt has \"quotes\", a tab\t and emoji 🙂.",
			ReasoningContent: "Let me think… 先想一想。",
			FinishReason:     "length",
			Usage:            model.Usage{PromptTokens: 1 << 40, CompletionTokens: 77, TotalTokens: 1<<40 + 77, ReasoningTokens: 50, CachedTokens: 1024},
			RequestID:        "8f2e-4c1a",
			Model:            "qwen3-max",
			Latency:          3*time.Second + 7*time.Nanosecond,
		},
		"nul and json": {Content: "a\x00b {\"x\": [1, 2]}", FinishReason: "stop"},
	}

	s := openAt(t, path)
	for key, resp := range cases {
		if err := s.Put(ctx, key, resp, 7); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
	}
	if _, ok, err := s.Get(ctx, "missing"); err != nil || ok {
		t.Errorf("Get(missing) = ok %v, err %v; want not found", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Read back from a fresh Store: what was read is what is on disk.
	s = openAt(t, path)
	for key, want := range cases {
		t.Run(key, func(t *testing.T) {
			if got := mustGet(t, s, key); !reflect.DeepEqual(got, want) {
				t.Errorf("Get(%q) =\n%+v\nwant\n%+v", key, got, want)
			}
		})
	}
}

func TestPutOverwrites(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	first, second := response("a"), response("b")
	for _, r := range []model.Response{first, second} {
		if err := s.Put(ctx, "k", r, 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := mustGet(t, s, "k"); !reflect.DeepEqual(got, second) {
		t.Errorf("after two Puts Get = %+v, want the second %+v", got, second)
	}
	if n, _, err := s.Stats(ctx); err != nil || n != 1 {
		t.Errorf("Stats results = %d, %v; want 1", n, err)
	}
}

func TestErrorsAndResults(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)

	if err := s.PutError(ctx, "k", "content inspection failed", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.PutError(ctx, "k", "input too long", 2); err != nil {
		t.Fatal(err)
	}
	if msg, ok, err := s.GetError(ctx, "k"); err != nil || !ok || msg != "input too long" {
		t.Fatalf("GetError = %q, %v, %v; want the second message", msg, ok, err)
	}
	if _, ok, _ := s.Get(ctx, "k"); ok {
		t.Fatal("an error must not read as a result")
	}

	// A success replaces the error.
	if err := s.Put(ctx, "k", response("k"), 3); err != nil {
		t.Fatal(err)
	}
	if msg, ok, err := s.GetError(ctx, "k"); err != nil || ok {
		t.Errorf("after Put, GetError = %q, %v, %v; want none", msg, ok, err)
	}
	mustGet(t, s, "k")

	// An error after a success leaves the success alone.
	if err := s.PutError(ctx, "k", "refused", 4); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k"); got.Content != "answer for k" {
		t.Errorf("PutError changed the result: %+v", got)
	}
	if results, rowErrors, err := s.Stats(ctx); err != nil || results != 1 || rowErrors != 1 {
		t.Errorf("Stats = %d, %d, %v; want 1, 1", results, rowErrors, err)
	}
}

func TestPutRejectsEmptyKey(t *testing.T) {
	s := openTest(t)
	if err := s.Put(context.Background(), "", response(""), 0); err == nil {
		t.Error("Put with an empty key succeeded")
	}
	if err := s.PutError(context.Background(), "", "x", 0); err == nil {
		t.Error("PutError with an empty key succeeded")
	}
}

func TestConcurrentPuts(t *testing.T) {
	const goroutines, each = 64, 200
	ctx := context.Background()
	s := openTest(t)

	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("g%d-%d", g, i)
				var err error
				if i%10 == 0 {
					err = s.PutError(ctx, key, "refused "+key, int64(g))
				} else {
					err = s.Put(ctx, key, response(key), int64(g))
				}
				if err != nil {
					errs <- fmt.Errorf("put %s: %w", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for g := range goroutines {
		for i := range each {
			key := fmt.Sprintf("g%d-%d", g, i)
			if i%10 == 0 {
				if msg, ok, err := s.GetError(ctx, key); err != nil || !ok || msg != "refused "+key {
					t.Fatalf("GetError(%s) = %q, %v, %v", key, msg, ok, err)
				}
				continue
			}
			if got := mustGet(t, s, key); !reflect.DeepEqual(got, response(key)) {
				t.Fatalf("Get(%s) = %+v", key, got)
			}
		}
	}
	results, rowErrors, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wantErr := int64(goroutines * each / 10); results != goroutines*each-wantErr || rowErrors != wantErr {
		t.Errorf("Stats = %d results, %d errors; want %d, %d", results, rowErrors, goroutines*each-wantErr, wantErr)
	}
}

func TestCloseCommitsQueuedPuts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := open(ctx, path, options{busyTimeout: defaultBusyTimeout})
	if err != nil {
		t.Fatal(err)
	}

	// Puts race with Close: each must either be stored (nil) or refused
	// (ErrClosed), never lost after a nil.
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		stored    []string
		bad       []error
		firstOnce sync.Once
	)
	first := make(chan struct{}) // closed when the first put is stored
	for g := range 32 {
		wg.Go(func() {
			for i := range 100 {
				key := fmt.Sprintf("g%d-%d", g, i)
				err := s.Put(ctx, key, response(key), 1)
				mu.Lock()
				switch {
				case err == nil:
					stored = append(stored, key)
					firstOnce.Do(func() { close(first) })
				case !errors.Is(err, ErrClosed):
					bad = append(bad, err)
				}
				mu.Unlock()
			}
		})
	}
	<-first // close while the other goroutines are putting
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("Put racing Close returned %v; want nil or ErrClosed", bad[0])
	}
	if err := s.Put(ctx, "late", response("late"), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close = %v, want ErrClosed", err)
	}
	if _, _, err := s.Get(ctx, "late"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}

	s = openAt(t, path)
	for _, key := range stored {
		mustGet(t, s, key)
	}
	if n, _, err := s.Stats(ctx); err != nil || n != int64(len(stored)) {
		t.Errorf("Stats = %d, %v; want the %d acknowledged puts", n, err, len(stored))
	}
}

func TestPutWithDoneContextStoresNothing(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, "k", response("k"), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Put = %v, want context.Canceled", err)
	}
	if err := s.PutError(ctx, "e", "x", 1); !errors.Is(err, context.Canceled) {
		t.Errorf("PutError = %v, want context.Canceled", err)
	}
	if results, rowErrors, err := s.Stats(context.Background()); err != nil || results != 0 || rowErrors != 0 {
		t.Errorf("Stats = %d, %d, %v; want nothing stored", results, rowErrors, err)
	}
	// WithoutCancel is how a caller keeps rows finished after an interrupt.
	if err := s.Put(context.WithoutCancel(ctx), "k", response("k"), 1); err != nil {
		t.Errorf("Put with WithoutCancel = %v", err)
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache", "bulkgen")
	path := filepath.Join(dir, "store.db")
	s := openAt(t, path)
	if err := s.Put(context.Background(), "k", response("k"), 1); err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", name, got, want)
		}
	}
}

func TestOpenOddPaths(t *testing.T) {
	for _, name := range []string{"with space.db", "q?uery.db", "hash#frag.db", "per%20cent.db", "商品.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			s := openAt(t, path)
			if err := s.Put(context.Background(), "k", response("k"), 1); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// The data went to this exact file, not to a name cut at '?' or '#'.
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != name {
				t.Errorf("directory holds %v, want only %q", entries, name)
			}
			mustGet(t, openAt(t, path), "k")
		})
	}
}

func TestTwoStoresShareAFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	a, b := openAt(t, path), openAt(t, path)
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for j := range 300 {
				key := fmt.Sprintf("s%d-%d", i, j)
				if err := s.Put(ctx, key, response(key), 1); err != nil {
					t.Errorf("put %s: %v", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, s := range []*Store{a, b} {
		if n, _, err := s.Stats(ctx); err != nil || n != 600 {
			t.Errorf("Stats = %d, %v; want 600 from both stores", n, err)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	t.Run("XDG_CACHE_HOME", func(t *testing.T) {
		t.Setenv("XDG_CACHE_HOME", "/x/cache")
		got, err := DefaultPath()
		if want := filepath.FromSlash("/x/cache/bulkgen/store.db"); err != nil || got != want {
			t.Errorf("DefaultPath() = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("user cache dir", func(t *testing.T) {
		t.Setenv("XDG_CACHE_HOME", "")
		t.Setenv("HOME", "/home/someone")
		dir, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DefaultPath()
		if want := filepath.Join(dir, "bulkgen", "store.db"); err != nil || got != want {
			t.Errorf("DefaultPath() = %q, %v; want %q", got, err, want)
		}
	})
}

// rawDB opens path without the store's pragmas, as another program would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenRefusesBadFiles(t *testing.T) {
	const damaged = "is not a bulkgen store or is damaged"
	const advice = "move it away, pass --store OTHER.db, or run with --no-store"
	cases := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  []string
	}{
		{
			name: "text file",
			setup: func(t *testing.T, path string) {
				writeFile(t, path, []byte(strings.Repeat("id,text\n1,hello\n", 300)))
			},
			want: []string{damaged, "file is not a database", advice},
		},
		{
			name: "sqlite header then garbage",
			setup: func(t *testing.T, path string) {
				writeFile(t, path, append([]byte("SQLite format 3\x00"), []byte(strings.Repeat("\xde\xad\xbe\xef", 2048))...))
			},
			want: []string{damaged, advice},
		},
		{
			name: "database of another program",
			setup: func(t *testing.T, path string) {
				if _, err := rawDB(t, path).Exec(`CREATE TABLE contacts (name TEXT)`); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{damaged, "another program", advice},
		},
		{
			name: "newer schema",
			setup: func(t *testing.T, path string) {
				s, err := Open(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := rawDB(t, path).Exec(`PRAGMA user_version = 99`); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"written by a newer bulkgen (schema version 99", "upgrade bulkgen"},
		},
		{
			name: "parent is a regular file",
			setup: func(t *testing.T, path string) {
				writeFile(t, filepath.Dir(path), []byte("not a directory"))
			},
			want: []string{"cannot create its directory", "not a directory", "--store OTHER.db"},
		},
		{
			name: "path is a directory",
			setup: func(t *testing.T, path string) {
				if err := os.MkdirAll(path, 0o700); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"is a directory", "--store FILE.db"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "store.db")
			if err := os.MkdirAll(filepath.Dir(filepath.Dir(path)), 0o700); err != nil {
				t.Fatal(err)
			}
			if tc.name != "parent is a regular file" {
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			tc.setup(t, path)
			s, err := open(context.Background(), path, options{busyTimeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

func TestDamagedPagesAreReported(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	s := openAt(t, path)
	for i := range 2000 {
		key := fmt.Sprint(i)
		if err := s.Put(ctx, key, response(key), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Keep the first page (header, schema) and smash the rest.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4096; i < len(data); i++ {
		data[i] = byte(i * 31)
	}
	writeFile(t, path, data)

	s, err = open(ctx, path, options{busyTimeout: 100 * time.Millisecond})
	if err == nil {
		defer s.Close()
		_, _, err = s.Stats(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "is not a bulkgen store or is damaged") {
		t.Errorf("reading a damaged store gave %v; want the damaged-store error", err)
	}
}

func TestLockedStore(t *testing.T) {
	ctx := context.Background()
	const locked = "is locked by another process"

	t.Run("put while another process writes", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store.db")
		s := openAt(t, path, busy(50*time.Millisecond))
		if err := s.Put(ctx, "before", response("before"), 1); err != nil {
			t.Fatal(err)
		}
		other := holdLock(t, path)

		// Reading and opening still work: WAL readers do not wait for writers.
		mustGet(t, s, "before")
		openAt(t, path, busy(50*time.Millisecond))

		err := s.Put(ctx, "k", response("k"), 1)
		if err == nil || !strings.Contains(err.Error(), locked) || !strings.Contains(err.Error(), path) {
			t.Errorf("Put on a locked store = %v; want %q naming the path", err, locked)
		}
		if _, err := s.StartRun(ctx, Run{}); err == nil || !strings.Contains(err.Error(), locked) {
			t.Errorf("StartRun on a locked store = %v; want %q", err, locked)
		}

		// Once the other process lets go, the store works again.
		if _, err := other.ExecContext(ctx, `ROLLBACK`); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "k", response("k"), 1); err != nil {
			t.Errorf("Put after the lock was released: %v", err)
		}
	})

	t.Run("open a new store held by another process", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store.db")
		holdLock(t, path)
		s, err := open(ctx, path, options{busyTimeout: 50 * time.Millisecond})
		if err == nil {
			s.Close()
			t.Fatal("Open succeeded")
		}
		if !strings.Contains(err.Error(), locked) || !strings.Contains(err.Error(), "--no-store") {
			t.Errorf("Open on a locked file = %v; want %q with advice", err, locked)
		}
	})
}

// holdLock takes SQLite's exclusive lock on path from a separate connection
// and keeps it until the test ends (or until the caller rolls back).
func holdLock(t *testing.T, path string) *sql.Conn {
	t.Helper()
	conn, err := rawDB(t, path).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(context.Background(), `ROLLBACK`) //nolint:errcheck // may be rolled back already
		conn.Close()
	})
	if _, err := conn.ExecContext(context.Background(), `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	return conn
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
