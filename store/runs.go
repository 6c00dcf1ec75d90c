package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrNoRun is returned (wrapped) by Run and FinishRun for an id that is not
// in the ledger.
var ErrNoRun = errors.New("no such run in the run store")

// Run is one entry of the runs ledger.
type Run struct {
	ID       int64
	Command  []string // the command line, arguments only; never a secret
	Input    string
	Output   string
	Model    string
	Endpoint string // base URL or "sim"

	Started time.Time
	Ended   time.Time // zero while running

	// Status is "running", "ok", "rows failed", "fatal", "interrupted",
	// "budget" or "error".
	Status   string
	ExitCode int

	Rows, Sent, FromStore, Deduped, Failed, Skipped, Requests, Throttled int64
	PromptTokens, CompletionTokens, ReasoningTokens                      int64

	Cost     *float64 // nil until prices are known
	Currency string
	Error    string // the run's final error message, if any
}

// runData are the columns of runs after id, in the order scanRun reads them.
const (
	runData = `command, input, output, model, endpoint, started, ended, status, exit_code,
	rows, sent, from_store, deduped, failed, skipped, requests, throttled,
	prompt_tokens, completion_tokens, reasoning_tokens, cost, currency, error`
	runColumns = `id, ` + runData
)

// StartRun records the start of a run with status "running" and returns its
// id. r.ID and r.Status are ignored; a zero r.Started means now.
func (s *Store) StartRun(ctx context.Context, r Run) (int64, error) {
	if s.isClosed() {
		return 0, ErrClosed
	}
	if r.Started.IsZero() {
		r.Started = time.Now()
	}
	r.Status = "running"
	r.Ended = time.Time{}
	cmd, err := json.Marshal(r.Command)
	if err != nil {
		return 0, fmt.Errorf("start run: %w", err)
	}

	// Through the writer connection, so it queues behind group commits
	// instead of contending with them for the file lock.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.wconn.ExecContext(ctx, `INSERT INTO runs (`+runData+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(cmd), r.Input, r.Output, r.Model, r.Endpoint, r.Started.UnixNano(), nil, r.Status, r.ExitCode,
		r.Rows, r.Sent, r.FromStore, r.Deduped, r.Failed, r.Skipped, r.Requests, r.Throttled,
		r.PromptTokens, r.CompletionTokens, r.ReasoningTokens, r.Cost, r.Currency, r.Error)
	if err != nil {
		return 0, s.fail("start run", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, s.fail("start run", err)
	}
	return id, nil
}

// FinishRun updates run r.ID with every field of r except Started. A zero
// r.Ended means now. It returns an error wrapping ErrNoRun if there is no
// such run.
func (s *Store) FinishRun(ctx context.Context, r Run) error {
	if s.isClosed() {
		return ErrClosed
	}
	if r.Status == "" {
		return fmt.Errorf("finish run %d: empty status", r.ID)
	}
	if r.Ended.IsZero() {
		r.Ended = time.Now()
	}
	cmd, err := json.Marshal(r.Command)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, err)
	}

	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.wconn.ExecContext(ctx, `UPDATE runs SET command = ?, input = ?, output = ?, model = ?, endpoint = ?,
		ended = ?, status = ?, exit_code = ?, rows = ?, sent = ?, from_store = ?, deduped = ?, failed = ?,
		skipped = ?, requests = ?, throttled = ?, prompt_tokens = ?, completion_tokens = ?, reasoning_tokens = ?,
		cost = ?, currency = ?, error = ?
		WHERE id = ?`,
		string(cmd), r.Input, r.Output, r.Model, r.Endpoint, r.Ended.UnixNano(), r.Status, r.ExitCode,
		r.Rows, r.Sent, r.FromStore, r.Deduped, r.Failed, r.Skipped, r.Requests, r.Throttled,
		r.PromptTokens, r.CompletionTokens, r.ReasoningTokens, r.Cost, r.Currency, r.Error, r.ID)
	if err != nil {
		return s.fail(fmt.Sprintf("finish run %d", r.ID), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(fmt.Sprintf("finish run %d", r.ID), err)
	}
	if n == 0 {
		return fmt.Errorf("finish run %d: %w", r.ID, ErrNoRun)
	}
	return nil
}

// Runs returns up to limit runs, newest first; limit <= 0 means all.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, s.fail("list runs", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := s.scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list runs", err)
	}
	return runs, nil
}

// Run returns run id, or an error wrapping ErrNoRun.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	if s.isClosed() {
		return Run{}, ErrClosed
	}
	r, err := s.scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %d: %w", id, ErrNoRun)
	}
	return r, err
}

func (s *Store) scanRun(row interface{ Scan(...any) error }) (Run, error) {
	var (
		r       Run
		cmd     string
		started int64
		ended   sql.NullInt64
		cost    sql.NullFloat64
	)
	err := row.Scan(&r.ID, &cmd, &r.Input, &r.Output, &r.Model, &r.Endpoint, &started, &ended, &r.Status, &r.ExitCode,
		&r.Rows, &r.Sent, &r.FromStore, &r.Deduped, &r.Failed, &r.Skipped, &r.Requests, &r.Throttled,
		&r.PromptTokens, &r.CompletionTokens, &r.ReasoningTokens, &cost, &r.Currency, &r.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, err
	}
	if err != nil {
		return Run{}, s.fail("read run", err)
	}
	if err := json.Unmarshal([]byte(cmd), &r.Command); err != nil {
		return Run{}, s.damaged(fmt.Errorf("run %d: command is not valid JSON: %w", r.ID, err))
	}
	r.Started = time.Unix(0, started)
	if ended.Valid {
		r.Ended = time.Unix(0, ended.Int64)
	}
	if cost.Valid {
		r.Cost = &cost.Float64
	}
	return r, nil
}
