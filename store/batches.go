package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// schemaBatches holds Batch API work (schema version 2). A shard is one
// request file: written locally, uploaded, submitted as one batch, and
// finally "done" once its results are in the results and errors tables.
// batch_requests says which request keys are waiting in which shard, so
// that a rerun neither submits them again nor forgets them.
const schemaBatches = `
CREATE TABLE IF NOT EXISTS batch_shards (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id    INTEGER NOT NULL,
	endpoint  TEXT NOT NULL,            -- the service the batch lives on
	model     TEXT NOT NULL,
	path      TEXT NOT NULL,            -- the request file on disk
	lines     INTEGER NOT NULL,
	bytes     INTEGER NOT NULL,
	file_id   TEXT NOT NULL DEFAULT '', -- the uploaded request file
	batch_id  TEXT NOT NULL DEFAULT '',
	state     TEXT NOT NULL,            -- writing, written, uploaded, submitted, done
	status    TEXT NOT NULL DEFAULT '', -- the service's batch status
	total     INTEGER NOT NULL DEFAULT 0,
	completed INTEGER NOT NULL DEFAULT 0,
	failed    INTEGER NOT NULL DEFAULT 0,
	message   TEXT NOT NULL DEFAULT '',
	created   INTEGER NOT NULL,         -- unix nanoseconds
	updated   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_requests (
	key      TEXT PRIMARY KEY,
	shard_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_requests_shard ON batch_requests (shard_id);
`

// Shard states, in order.
const (
	ShardWriting   = "writing"   // the request file is being written; discarded on resume
	ShardWritten   = "written"   // file complete, its keys recorded; not uploaded
	ShardUploaded  = "uploaded"  // FileID known; no batch recorded yet
	ShardSubmitted = "submitted" // BatchID known; results not fetched yet
	ShardDone      = "done"      // results fetched into the store
)

// ErrNoShard is returned (wrapped) for a shard id that is not in the store.
var ErrNoShard = errors.New("no such batch shard in the run store")

// Shard is one Batch API request file and its batch.
type Shard struct {
	ID       int64
	RunID    int64
	Endpoint string
	Model    string
	Path     string
	Lines    int64
	Bytes    int64
	FileID   string
	BatchID  string
	State    string
	// Status and the counts are the service's, as last seen.
	Status                   string
	Total, Completed, Failed int64
	// Message is the last problem with the shard (a batch-level error, a
	// failed upload), for `bulkgen batch status`.
	Message string
	Created time.Time
	Updated time.Time
}

const shardColumns = `id, run_id, endpoint, model, path, lines, bytes, file_id, batch_id, state, status,
	total, completed, failed, message, created, updated`

// NewShard records a shard in state "writing" and returns its id.
func (s *Store) NewShard(ctx context.Context, sh Shard) (int64, error) {
	if s.isClosed() {
		return 0, ErrClosed
	}
	now := time.Now().UnixNano()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.wconn.ExecContext(ctx, `INSERT INTO batch_shards (run_id, endpoint, model, path, lines, bytes, state, created, updated)
		VALUES (?, ?, ?, ?, 0, 0, ?, ?, ?)`, sh.RunID, sh.Endpoint, sh.Model, sh.Path, ShardWriting, now, now)
	if err != nil {
		return 0, s.fail("record batch shard", err)
	}
	return res.LastInsertId()
}

// SealShard records that shard id's request file is complete: its size,
// and the request keys it holds, in one transaction. From then on
// PendingShard finds those keys.
func (s *Store) SealShard(ctx context.Context, id, lines, bytes int64, keys []string) error {
	if s.isClosed() {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.wconn.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(fmt.Sprintf("seal batch shard %d", id), err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	ins, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO batch_requests (key, shard_id) VALUES (?, ?)`)
	if err != nil {
		return s.fail(fmt.Sprintf("seal batch shard %d", id), err)
	}
	defer ins.Close()
	for _, k := range keys {
		if _, err := ins.ExecContext(ctx, k, id); err != nil {
			return s.fail(fmt.Sprintf("seal batch shard %d", id), err)
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE batch_shards SET lines = ?, bytes = ?, state = ?, updated = ? WHERE id = ? AND state = ?`,
		lines, bytes, ShardWritten, time.Now().UnixNano(), id, ShardWriting)
	if err != nil {
		return s.fail(fmt.Sprintf("seal batch shard %d", id), err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("seal batch shard %d: %w (or it is not being written)", id, ErrNoShard)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(fmt.Sprintf("seal batch shard %d", id), err)
	}
	return nil
}

// UpdateShard stores sh's file id, batch id, state, status, counts and
// message.
func (s *Store) UpdateShard(ctx context.Context, sh Shard) error {
	if s.isClosed() {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.wconn.ExecContext(ctx, `UPDATE batch_shards SET file_id = ?, batch_id = ?, state = ?, status = ?,
		total = ?, completed = ?, failed = ?, message = ?, updated = ? WHERE id = ?`,
		sh.FileID, sh.BatchID, sh.State, sh.Status, sh.Total, sh.Completed, sh.Failed, sh.Message, time.Now().UnixNano(), sh.ID)
	if err != nil {
		return s.fail(fmt.Sprintf("update batch shard %d", sh.ID), err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("update batch shard %d: %w", sh.ID, ErrNoShard)
	}
	return nil
}

// FinishShard marks shard id done and forgets its pending keys, in one
// transaction. Call it only after every result of the shard was Put (or
// PutError): the keys without a result are then free to be submitted
// again by a rerun.
func (s *Store) FinishShard(ctx context.Context, sh Shard) error {
	if s.isClosed() {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.wconn.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(fmt.Sprintf("finish batch shard %d", sh.ID), err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `DELETE FROM batch_requests WHERE shard_id = ?`, sh.ID); err != nil {
		return s.fail(fmt.Sprintf("finish batch shard %d", sh.ID), err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE batch_shards SET state = ?, status = ?, total = ?, completed = ?, failed = ?,
		message = ?, updated = ? WHERE id = ?`,
		ShardDone, sh.Status, sh.Total, sh.Completed, sh.Failed, sh.Message, time.Now().UnixNano(), sh.ID)
	if err != nil {
		return s.fail(fmt.Sprintf("finish batch shard %d", sh.ID), err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("finish batch shard %d: %w", sh.ID, ErrNoShard)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(fmt.Sprintf("finish batch shard %d", sh.ID), err)
	}
	return nil
}

// DeleteShard removes a shard and its pending keys (a shard whose file
// was never completed).
func (s *Store) DeleteShard(ctx context.Context, id int64) error {
	if s.isClosed() {
		return ErrClosed
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for _, q := range []string{`DELETE FROM batch_requests WHERE shard_id = ?`, `DELETE FROM batch_shards WHERE id = ?`} {
		if _, err := s.wconn.ExecContext(ctx, q, id); err != nil {
			return s.fail(fmt.Sprintf("delete batch shard %d", id), err)
		}
	}
	return nil
}

// PendingShard returns the shard a request key waits in, if any.
func (s *Store) PendingShard(ctx context.Context, key string) (int64, bool, error) {
	if s.isClosed() {
		return 0, false, ErrClosed
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT shard_id FROM batch_requests WHERE key = ?`, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, s.fail("read pending batch request", err)
	}
	return id, true, nil
}

// Shard returns shard id, or an error wrapping ErrNoShard.
func (s *Store) Shard(ctx context.Context, id int64) (Shard, error) {
	if s.isClosed() {
		return Shard{}, ErrClosed
	}
	sh, err := scanShard(s.db.QueryRowContext(ctx, `SELECT `+shardColumns+` FROM batch_shards WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Shard{}, fmt.Errorf("batch shard %d: %w", id, ErrNoShard)
	}
	if err != nil {
		return Shard{}, s.fail("read batch shard", err)
	}
	return sh, nil
}

// Shards lists shards, oldest first: only those not done when active, else
// the newest limit ones (limit <= 0: all).
func (s *Store) Shards(ctx context.Context, active bool, limit int) ([]Shard, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	if limit <= 0 {
		limit = -1
	}
	q := `SELECT ` + shardColumns + ` FROM (SELECT * FROM batch_shards ORDER BY id DESC LIMIT ?) ORDER BY id`
	args := []any{limit}
	if active {
		q = `SELECT ` + shardColumns + ` FROM batch_shards WHERE state != ? ORDER BY id`
		args = []any{ShardDone}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.fail("list batch shards", err)
	}
	defer rows.Close()
	var out []Shard
	for rows.Next() {
		sh, err := scanShard(rows)
		if err != nil {
			return nil, s.fail("list batch shards", err)
		}
		out = append(out, sh)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list batch shards", err)
	}
	return out, nil
}

func scanShard(row interface{ Scan(...any) error }) (Shard, error) {
	var sh Shard
	var created, updated int64
	err := row.Scan(&sh.ID, &sh.RunID, &sh.Endpoint, &sh.Model, &sh.Path, &sh.Lines, &sh.Bytes, &sh.FileID, &sh.BatchID,
		&sh.State, &sh.Status, &sh.Total, &sh.Completed, &sh.Failed, &sh.Message, &created, &updated)
	if err != nil {
		return Shard{}, err
	}
	sh.Created, sh.Updated = time.Unix(0, created), time.Unix(0, updated)
	return sh, nil
}

// ShardKeys returns the request keys still pending in shard id.
func (s *Store) ShardKeys(ctx context.Context, id int64) ([]string, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM batch_requests WHERE shard_id = ?`, id)
	if err != nil {
		return nil, s.fail("read batch shard keys", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, s.fail("read batch shard keys", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("read batch shard keys", err)
	}
	return keys, nil
}
