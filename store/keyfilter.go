package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// keyFilter is a Bloom filter of the keys in one table (results or
// errors): it answers "this key is certainly not stored" without asking
// SQLite. Almost every lookup of a fresh run is for a key that is not
// there, and a SQLite lookup through database/sql costs tens of
// microseconds of CPU, as much as the rest of a row's work; the filter
// costs tens of nanoseconds. A "maybe" goes to SQLite as before, so the
// filter never changes an answer, only skips the ones it can.
//
// Keys committed by this process are added by the writer before their Put
// returns. Keys committed by another process sharing the store are read
// in from the table (rows past the highest rowid seen) when the filter
// would answer "no" and has not looked for a second: two runs sharing a
// store see each other's results within a second.
//
// Until the keys already in the table are loaded (a background scan
// started by Open), every question is answered "maybe".
type keyFilter struct {
	db    *sql.DB
	table string // a constant of this package, never user input

	words []atomic.Uint64
	mask  uint64 // number of bits - 1 (a power of two)
	seed  [2]maphash.Seed

	ready atomic.Bool // the table's keys are in

	mu        sync.Mutex // held while reading the table; guards the fields below
	maxRowID  int64      // the highest rowid read in
	refreshed time.Time  // when the table was last read

	now func() time.Time
}

const (
	// filterHashes and filterBitsPerKey give about 1% false "maybe"s
	// while the table holds no more keys than the filter was sized for.
	filterHashes     = 7
	filterBitsPerKey = 10
	// maxFilterBits caps a filter at 32 MiB (about 27 million keys at
	// 1%); past its size it answers "maybe" more often, never wrongly.
	maxFilterBits = 1 << 28
	// filterRefresh is how old the filter's view of other processes'
	// commits may be before a "no" reads the table again.
	filterRefresh = time.Second
)

// newKeyFilter sizes a filter for the rows in table now plus room keys
// more. It does not read the keys: load does.
func newKeyFilter(ctx context.Context, db *sql.DB, table string, room int64) (*keyFilter, error) {
	var maxRowID int64
	// max(rowid) is one B-tree descent, where count(*) would scan the
	// table; rowids only grow, so it bounds the number of rows.
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM `+table).Scan(&maxRowID); err != nil {
		return nil, fmt.Errorf("size the %s filter: %w", table, err)
	}
	want := uint64(filterBitsPerKey * (maxRowID + room))
	n := min(uint64(1)<<bits.Len64(max(want, 64)-1), maxFilterBits)
	return &keyFilter{
		db: db, table: table,
		words: make([]atomic.Uint64, n/64), mask: n - 1,
		seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		now:  time.Now,
	}, nil
}

// load reads every key of the table into the filter and makes it ready.
// On an error (the store closing, a damaged file) it leaves the filter
// unready: every question then goes to SQLite, which reports the problem.
func (f *keyFilter) load(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.readFrom(ctx, 0); err != nil {
		return err
	}
	f.ready.Store(true)
	return nil
}

// readFrom adds the keys of the rows after rowid from; f.mu is held.
func (f *keyFilter) readFrom(ctx context.Context, from int64) error {
	rows, err := f.db.QueryContext(ctx, `SELECT rowid, key FROM `+f.table+` WHERE rowid > ? ORDER BY rowid`, from)
	if err != nil {
		return fmt.Errorf("read the %s keys: %w", f.table, err)
	}
	defer rows.Close()
	last := from
	var key string
	for rows.Next() {
		if err := rows.Scan(&last, &key); err != nil {
			return fmt.Errorf("read the %s keys: %w", f.table, err)
		}
		f.add(key)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the %s keys: %w", f.table, err)
	}
	f.maxRowID = max(f.maxRowID, last)
	f.refreshed = f.now()
	return nil
}

// add records that key is stored.
func (f *keyFilter) add(key string) {
	h1, h2 := f.hashes(key)
	for i := range uint64(filterHashes) {
		bit := (h1 + i*h2) & f.mask
		f.words[bit/64].Or(1 << (bit % 64))
	}
}

// inserted notes that this process committed the row rowID, whose key it
// has added. When it follows the highest row read in, the next read of
// the table can start after it: a run's own commits are not read back.
// Rows of other processes in between keep the mark where it is.
func (f *keyFilter) inserted(rowID int64) {
	// Never wait for a reader of the table (the first load of a large
	// store takes a while): the row is then simply read back later.
	if !f.mu.TryLock() {
		return
	}
	if f.ready.Load() && rowID == f.maxRowID+1 {
		f.maxRowID = rowID
	}
	f.mu.Unlock()
}

// has reports whether every bit of key is set.
func (f *keyFilter) has(key string) bool {
	h1, h2 := f.hashes(key)
	for i := range uint64(filterHashes) {
		bit := (h1 + i*h2) & f.mask
		if f.words[bit/64].Load()&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

func (f *keyFilter) hashes(key string) (h1, h2 uint64) {
	// h2 odd: with a power-of-two size, the probes then never repeat.
	return maphash.String(f.seed[0], key), maphash.String(f.seed[1], key) | 1
}

// mayHave is false only when key is certainly not in the table (as of
// this process's commits, and other processes' up to filterRefresh ago).
func (f *keyFilter) mayHave(ctx context.Context, key string) bool {
	if f == nil || !f.ready.Load() {
		return true
	}
	if f.has(key) {
		return true
	}
	// Not seen. Another process may have stored it since the table was
	// last read: read the new rows in, at most once a second, and by one
	// goroutine at a time (the others answer from what is known).
	if !f.mu.TryLock() {
		return false
	}
	defer f.mu.Unlock()
	if f.now().Sub(f.refreshed) < filterRefresh {
		return false
	}
	if err := f.readFrom(ctx, f.maxRowID); err != nil {
		return true // let SQLite answer, and report what is wrong
	}
	return f.has(key)
}
