package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"bulkgen/model"
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("run store is closed")

const (
	// schemaVersion is stored in PRAGMA user_version. Bump it with a
	// migration in migrate when the tables change.
	schemaVersion = 2

	// applicationID ("bulk") is stored in PRAGMA application_id so that a
	// SQLite file of another program is recognised and left alone.
	applicationID = 0x62756c6b

	// defaultBusyTimeout is how long a statement waits for another process
	// holding the store's write lock before giving up.
	defaultBusyTimeout = 5 * time.Second

	// maxBatch caps the rows committed in one transaction, so that one
	// commit stays short and the callers of the first rows of a large
	// burst are acknowledged early.
	maxBatch = 256

	// queueSize bounds the puts waiting for the writer; beyond it Put
	// blocks (or returns on ctx), which keeps memory flat.
	queueSize = 4 * maxBatch
)

// options are the knobs tests turn; Open uses the defaults.
type options struct {
	busyTimeout time.Duration
}

// Store is an open run store. Its methods are safe for concurrent use.
type Store struct {
	path string
	opts options
	db   *sql.DB

	// wconn is the one connection that writes. The writer goroutine and
	// the run-ledger methods take wmu to use it, so writes inside this
	// process never contend for SQLite's file lock with each other.
	wmu   sync.Mutex
	wconn *sql.Conn

	getResult *sql.Stmt
	getError  *sql.Stmt
	// The writer's statements, prepared once: database/sql keeps them
	// prepared on the writer's connection, and Tx.StmtContext reuses them
	// (preparing in every transaction cost more than the inserts).
	putResult, delError, putError *sql.Stmt

	// resultKeys and errorKeys skip the lookups of keys that are not
	// stored (see keyFilter); loading runs in the background until
	// stopLoad.
	resultKeys, errorKeys *keyFilter
	stopLoad              context.CancelFunc
	loading               sync.WaitGroup

	// mu guards closed and the send side of queue: Close takes it for
	// writing, so no Put can send on the closed channel.
	mu         sync.RWMutex
	closed     bool
	queue      chan *putOp
	writerDone chan struct{}
}

// putOp is one queued Put or PutError.
type putOp struct {
	rowID int64 // the row the commit inserted (0: it updated one)
	ctx   context.Context
	key   string
	value string // JSON of the model.Response, or the error message
	isErr bool
	runID int64
	done  chan error // buffered: the writer never blocks on a caller
}

// DefaultPath is $XDG_CACHE_HOME/bulkgen/store.db when XDG_CACHE_HOME is an
// absolute path, else os.UserCacheDir()/bulkgen/store.db (on Linux
// ~/.cache/bulkgen/store.db, on macOS ~/Library/Caches/bulkgen/store.db).
func DefaultPath() (string, error) {
	// os.UserCacheDir honours XDG_CACHE_HOME only on Linux and BSD; looking
	// at it first gives the same answer on every system for users who set it.
	if dir := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "bulkgen", "store.db"), nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the run store location: %w: pass --store FILE.db or run with --no-store", err)
	}
	return filepath.Join(dir, "bulkgen", "store.db"), nil
}

// Open opens the run store at path, creating its directory (0700), the file
// (0600) and the tables as needed. ctx bounds opening only.
//
// A file that is not a bulkgen store, a damaged one, one written by a newer
// bulkgen, or one locked by another process for longer than the busy
// timeout gives an error that says what to do.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, options{busyTimeout: defaultBusyTimeout})
}

func open(ctx context.Context, path string, opts options) (*Store, error) {
	if path == "" {
		return nil, errors.New("run store path is empty: pass --store FILE.db or run with --no-store")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("run store %s: cannot create its directory (%w): pass --store OTHER.db or run with --no-store", path, err)
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open run store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(abs, opts))
	if err != nil {
		return nil, fmt.Errorf("open run store %s: %w", path, err)
	}
	// The writer holds one connection for the store's life; readers share
	// the rest. WAL lets them read while the writer commits.
	readers := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(readers + 1)
	db.SetMaxIdleConns(readers + 1)

	s := &Store{
		path:       path,
		opts:       opts,
		db:         db,
		queue:      make(chan *putOp, queueSize),
		writerDone: make(chan struct{}),
	}
	if err := s.init(ctx); err != nil {
		s.closeDB()
		return nil, err
	}
	if err := s.startFilters(ctx); err != nil {
		s.closeDB()
		return nil, err
	}
	go s.writeLoop()
	return s, nil
}

// Room in the key filters for keys added while the store is open, beyond
// those in it at Open: a run of a million new rows keeps about 1% false
// "maybe"s. Errors are rarer.
const (
	resultKeysRoom = 1 << 20
	errorKeysRoom  = 1 << 16
)

// startFilters sizes the key filters and starts reading the stored keys
// into them. Until a filter is loaded, its lookups go to SQLite.
func (s *Store) startFilters(ctx context.Context) error {
	var err error
	if s.resultKeys, err = newKeyFilter(ctx, s.db, "results", resultKeysRoom); err != nil {
		return s.fail("open", err)
	}
	if s.errorKeys, err = newKeyFilter(ctx, s.db, "errors", errorKeysRoom); err != nil {
		return s.fail("open", err)
	}
	loadCtx, stop := context.WithCancel(context.Background())
	s.stopLoad = stop
	for _, f := range []*keyFilter{s.resultKeys, s.errorKeys} {
		s.loading.Add(1)
		go func() {
			defer s.loading.Done()
			f.load(loadCtx) //nolint:errcheck // unloaded, the filter answers "maybe" and SQLite reports the problem
		}()
	}
	return nil
}

// createFile creates path 0600 if it does not exist. SQLite would create it
// with the umask's default (usually 0644), readable by every local user.
func createFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("run store %s is a directory: pass --store FILE.db, or run with --no-store", path)
	case err == nil:
		// Never open and close an existing store here: closing any
		// descriptor of a file drops every POSIX lock this process holds
		// on it, including those of another open Store.
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("open run store %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process created it just now
	}
	if err != nil {
		return fmt.Errorf("create run store %s: %w: pass --store OTHER.db or run with --no-store", path, err)
	}
	return f.Close()
}

// dsn builds the modernc.org/sqlite data source name. The pragmas are DSN
// parameters so that every pooled connection gets them, not just the first.
//
// synchronous=NORMAL in WAL mode does not fsync on commit: a commit survives
// the process dying but not necessarily a power loss. That is the
// trade-off we want (thousands of commits a second; a lost row costs one
// request).
func dsn(abs string, opts options) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive letter: file:/C:/...
	}
	// In a file: URI, '%' escapes and '?' and '#' end the path.
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	return fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate",
		p, opts.busyTimeout.Milliseconds())
}

// schema is version 1. Responses are stored as JSON so that fields added to
// model.Response later are kept without a migration.
const schema = `
CREATE TABLE IF NOT EXISTS results (
	key      TEXT PRIMARY KEY,
	response TEXT NOT NULL,            -- JSON of model.Response
	run_id   INTEGER NOT NULL,         -- runs.id of the run that paid for it (0: none)
	created  INTEGER NOT NULL          -- unix milliseconds, for pruning old rows
);
CREATE TABLE IF NOT EXISTS errors (
	key     TEXT PRIMARY KEY,
	message TEXT NOT NULL,
	run_id  INTEGER NOT NULL,
	created INTEGER NOT NULL
);
-- AUTOINCREMENT: a run id is never reused, so results.run_id stays meaningful
-- after old runs are deleted.
CREATE TABLE IF NOT EXISTS runs (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	command           TEXT NOT NULL,   -- JSON array of the arguments
	input             TEXT NOT NULL,
	output            TEXT NOT NULL,
	model             TEXT NOT NULL,
	endpoint          TEXT NOT NULL,
	started           INTEGER NOT NULL, -- unix nanoseconds
	ended             INTEGER,          -- unix nanoseconds; NULL while running
	status            TEXT NOT NULL,
	exit_code         INTEGER NOT NULL,
	rows              INTEGER NOT NULL,
	sent              INTEGER NOT NULL,
	from_store        INTEGER NOT NULL,
	deduped           INTEGER NOT NULL,
	failed            INTEGER NOT NULL,
	skipped           INTEGER NOT NULL,
	requests          INTEGER NOT NULL,
	throttled         INTEGER NOT NULL,
	prompt_tokens     INTEGER NOT NULL,
	completion_tokens INTEGER NOT NULL,
	reasoning_tokens  INTEGER NOT NULL,
	cost              REAL,             -- NULL until prices are known
	currency          TEXT NOT NULL,
	error             TEXT NOT NULL
);
`

// init takes the writer connection, checks or creates the schema and
// prepares the read statements.
func (s *Store) init(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.fail("open", err)
	}
	s.wconn = conn

	appID, version, err := s.header(ctx, conn)
	if err != nil {
		return err
	}
	// Only write when needed: a current store opens without taking the
	// write lock, so a second process can open it while the first writes.
	if appID != applicationID || version != schemaVersion {
		if err := s.migrate(ctx, conn); err != nil {
			return err
		}
	}

	if s.getResult, err = s.db.PrepareContext(ctx, `SELECT response, run_id FROM results WHERE key = ?`); err != nil {
		return s.fail("prepare", err)
	}
	if s.getError, err = s.db.PrepareContext(ctx, `SELECT message FROM errors WHERE key = ?`); err != nil {
		return s.fail("prepare", err)
	}
	if s.putResult, err = s.db.PrepareContext(ctx, `INSERT INTO results (key, response, run_id, created) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET response = excluded.response, run_id = excluded.run_id, created = excluded.created`); err != nil {
		return s.fail("prepare", err)
	}
	if s.delError, err = s.db.PrepareContext(ctx, `DELETE FROM errors WHERE key = ?`); err != nil {
		return s.fail("prepare", err)
	}
	if s.putError, err = s.db.PrepareContext(ctx, `INSERT INTO errors (key, message, run_id, created) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET message = excluded.message, run_id = excluded.run_id, created = excluded.created`); err != nil {
		return s.fail("prepare", err)
	}
	return nil
}

// header reads the application id and schema version.
func (s *Store) header(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (appID, version int64, err error) {
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return 0, 0, s.fail("read the store header", err)
	}
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, 0, s.fail("read the store header", err)
	}
	return appID, version, nil
}

// migrate creates the schema in a new store, or brings an older one up to
// schemaVersion, inside one write transaction. It checks the header again
// under the lock because another process may have just done the same.
func (s *Store) migrate(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("create tables", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	appID, version, err := s.header(ctx, tx)
	if err != nil {
		return err
	}
	switch {
	case appID == applicationID && version == schemaVersion:
		return nil
	case appID == applicationID && version > schemaVersion:
		return fmt.Errorf("run store %s was written by a newer bulkgen (schema version %d; this one knows up to %d): upgrade bulkgen, pass --store OTHER.db, or run with --no-store",
			s.path, version, schemaVersion)
	case appID != applicationID:
		var tables int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables); err != nil {
			return s.fail("create tables", err)
		}
		if appID != 0 || version != 0 || tables != 0 {
			return s.damaged(fmt.Errorf("it is a SQLite database of another program (application_id %#x, %d tables)", appID, tables))
		}
	}
	// version 0 → 1: a new file. Later versions add their steps here.
	if version < 1 {
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return s.fail("create tables", err)
		}
	}
	// 1 → 2: Batch API shards.
	if version < 2 {
		if _, err := tx.ExecContext(ctx, schemaBatches); err != nil {
			return s.fail("create tables", err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = %d`, applicationID, schemaVersion)); err != nil {
		return s.fail("create tables", err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail("create tables", err)
	}
	return nil
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Close commits every queued put, acknowledges its caller, and closes the
// database. Calls after Close return ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()

	<-s.writerDone
	return s.closeDB()
}

// waitLoaded waits until the key filters are loaded (or failed to); for
// tests.
func (s *Store) waitLoaded() { s.loading.Wait() }

// closeDB closes what open created, in reverse order.
func (s *Store) closeDB() error {
	if s.stopLoad != nil {
		s.stopLoad()
		s.loading.Wait()
	}
	var errs []error
	for _, st := range []*sql.Stmt{s.getResult, s.getError, s.putResult, s.delError, s.putError} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	errs = append(errs, s.db.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close run store %s: %w", s.path, err)
	}
	return nil
}

// Get returns the stored response for key; ok is false when there is none.
func (s *Store) Get(ctx context.Context, key string) (resp model.Response, ok bool, err error) {
	resp, _, ok, err = s.Lookup(ctx, key)
	return resp, ok, err
}

// Lookup is Get that also returns the id of the run that stored the
// result, so that a caller can tell an in-run duplicate from a result of an
// earlier run.
func (s *Store) Lookup(ctx context.Context, key string) (resp model.Response, runID int64, ok bool, err error) {
	if s.isClosed() {
		return model.Response{}, 0, false, ErrClosed
	}
	if !s.resultKeys.mayHave(ctx, key) {
		return model.Response{}, 0, false, nil
	}
	var text string
	err = s.getResult.QueryRowContext(ctx, key).Scan(&text, &runID)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Response{}, 0, false, nil
	}
	if err != nil {
		return model.Response{}, 0, false, s.fail("read result "+key, err)
	}
	if err := json.Unmarshal([]byte(text), &resp); err != nil {
		return model.Response{}, 0, false, s.damaged(fmt.Errorf("result %s is not valid JSON: %w", key, err))
	}
	return resp, runID, true, nil
}

// GetError returns the stored row-final error message for key; ok is false
// when there is none.
func (s *Store) GetError(ctx context.Context, key string) (msg string, ok bool, err error) {
	if s.isClosed() {
		return "", false, ErrClosed
	}
	if !s.errorKeys.mayHave(ctx, key) {
		return "", false, nil
	}
	err = s.getError.QueryRowContext(ctx, key).Scan(&msg)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.fail("read error "+key, err)
	}
	return msg, true, nil
}

// Put stores resp under key, replacing any response stored before, and
// deletes any error stored for key in the same transaction. runID is the
// run that paid for resp (0 if none).
//
// Put returns nil only once the row is committed: it then survives the
// process being killed. If ctx is done before the writer reaches the row,
// the row is not written and Put returns ctx.Err(); once the row is in a
// committing transaction, Put waits for the commit and reports its outcome,
// so nil always means stored and an error always means not stored. A
// caller that wants to keep rows finished after an interrupt should pass
// context.WithoutCancel(ctx).
func (s *Store) Put(ctx context.Context, key string, resp model.Response, runID int64) error {
	if key == "" {
		return errors.New("put result: empty key")
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("put result %s: %w", key, err)
	}
	return s.enqueue(ctx, &putOp{ctx: ctx, key: key, value: string(b), runID: runID})
}

// PutError stores a row-final error message (a content-inspection refusal,
// an input that is too long, ...) under key so that a rerun with
// --keep-errors can reuse it. It replaces an error stored before and leaves
// a stored response alone. It commits like Put and has Put's guarantees.
func (s *Store) PutError(ctx context.Context, key, msg string, runID int64) error {
	if key == "" {
		return errors.New("put error: empty key")
	}
	return s.enqueue(ctx, &putOp{ctx: ctx, key: key, value: msg, isErr: true, runID: runID})
}

func (s *Store) enqueue(ctx context.Context, op *putOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op.done = make(chan error, 1)
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- op:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// No select on ctx here: the writer answers promptly (it drops the op
	// if ctx is done by then), and waiting keeps the answer exact.
	return <-op.done
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// writeLoop is the only goroutine that commits puts. It takes what is
// queued, up to maxBatch, commits it in one transaction and acknowledges
// every caller. While it commits, new puts queue up and form the next
// batch, so the batch size follows the load without any timer.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*putOp, 0, maxBatch)
	last := 0                 // the size of the last batch
	for op := range s.queue { // ends when Close closes the queue and it is drained
		batch = append(batch[:0], op)
	fill:
		for len(batch) < maxBatch {
			select {
			case op, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		// A commit costs far more than a row: when puts come from many
		// callers at once (the last batch had several), wait a moment
		// for more so that one commit serves them all. A lone caller
		// (one put at a time) never waits.
		if last > 1 && len(batch) < maxBatch {
			s.linger(&batch)
		}
		last = len(batch)
		s.commit(batch)
		clear(batch) // let the committed values be collected
	}
}

// commitLinger is how long the writer waits for more puts to join a
// batch under concurrent load. Callers wait that much longer for their
// put (nothing next to a model's latency); the writer commits several
// times fewer transactions.
const commitLinger = 2 * time.Millisecond

// linger adds to batch what is queued within commitLinger, up to maxBatch.
func (s *Store) linger(batch *[]*putOp) {
	t := time.NewTimer(commitLinger)
	defer t.Stop()
	for len(*batch) < maxBatch {
		select {
		case op, ok := <-s.queue:
			if !ok {
				return
			}
			*batch = append(*batch, op)
		case <-t.C:
			return
		}
	}
}

// commit writes batch in one transaction and acknowledges every op.
func (s *Store) commit(batch []*putOp) {
	live := make([]*putOp, 0, len(batch))
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.done <- err
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	err := s.writeBatch(live)
	if err == nil {
		// Before any Put returns: a lookup that follows it must find it.
		for _, op := range live {
			f := s.resultKeys
			if op.isErr {
				f = s.errorKeys
			}
			f.add(op.key)
			f.inserted(op.rowID)
		}
	}
	for _, op := range live {
		op.done <- err
	}
}

func (s *Store) writeBatch(batch []*putOp) error {
	// Background: the ops' contexts were checked just before; from here
	// the commit must not be torn by one caller's cancellation. The busy
	// timeout bounds how long it can wait.
	ctx := context.Background()
	s.wmu.Lock()
	defer s.wmu.Unlock()

	tx, err := s.wconn.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("store results", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	putResult, delError, putError := tx.StmtContext(ctx, s.putResult), tx.StmtContext(ctx, s.delError), tx.StmtContext(ctx, s.putError)

	now := time.Now().UnixMilli()
	for _, op := range batch {
		if op.isErr {
			res, err := putError.ExecContext(ctx, op.key, op.value, op.runID, now)
			if err != nil {
				return s.fail("store error "+op.key, err)
			}
			op.rowID = insertedRow(res)
			continue
		}
		res, err := putResult.ExecContext(ctx, op.key, op.value, op.runID, now)
		if err != nil {
			return s.fail("store result "+op.key, err)
		}
		op.rowID = insertedRow(res)
		if !s.errorKeys.mayHave(ctx, op.key) {
			continue // no error stored for it: nothing to delete
		}
		if _, err := delError.ExecContext(ctx, op.key); err != nil {
			return s.fail("store result "+op.key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.fail("commit results", err)
	}
	return nil
}

// insertedRow is the rowid an upsert inserted, or 0 when it updated a row
// (SQLite then leaves the last insert rowid as it was: a rowid no higher
// than one seen before, which inserted ignores).
func insertedRow(res sql.Result) int64 {
	id, err := res.LastInsertId()
	if err != nil {
		return 0
	}
	return id
}

// Stats counts the stored results and row errors.
func (s *Store) Stats(ctx context.Context) (results, rowErrors int64, err error) {
	if s.isClosed() {
		return 0, 0, ErrClosed
	}
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM results), (SELECT count(*) FROM errors)`).Scan(&results, &rowErrors)
	if err != nil {
		return 0, 0, s.fail("count results", err)
	}
	return results, rowErrors, nil
}

// fail turns a database error into one that tells the user what to do.
func (s *Store) fail(op string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code; extended codes carry detail
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("run store %s is locked by another process (waited %v: %w): wait for it to finish, pass --store OTHER.db, or run with --no-store",
				s.path, s.opts.busyTimeout, err)
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return s.damaged(err)
		}
	}
	return fmt.Errorf("run store %s: %s: %w", s.path, op, err)
}

func (s *Store) damaged(cause error) error {
	return fmt.Errorf("run store %s is not a bulkgen store or is damaged (%w): move it away, pass --store OTHER.db, or run with --no-store", s.path, cause)
}
