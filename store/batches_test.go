package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"bulkgen/model"
)

func TestShardLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	id, err := s.NewShard(ctx, Shard{RunID: 7, Endpoint: "http://x/v1", Model: "qwen-plus", Path: "/tmp/shard.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	// A key is not pending until the shard is sealed.
	if _, ok, _ := s.PendingShard(ctx, "k1"); ok {
		t.Fatal("k1 pending before the shard was sealed")
	}
	active, _ := s.Shards(ctx, true, 0)
	if len(active) != 1 || active[0].State != ShardWriting {
		t.Fatalf("active shards %+v", active)
	}
	if err := s.SealShard(ctx, id, 2, 300, []string{"k1", "k2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SealShard(ctx, id, 2, 300, []string{"k1"}); !errors.Is(err, ErrNoShard) {
		t.Errorf("sealing twice: %v", err)
	}
	for _, k := range []string{"k1", "k2"} {
		if got, ok, err := s.PendingShard(ctx, k); !ok || got != id || err != nil {
			t.Errorf("PendingShard(%s) = %d, %v, %v", k, got, ok, err)
		}
	}
	sh, err := s.Shard(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if sh.State != ShardWritten || sh.Lines != 2 || sh.Bytes != 300 || sh.RunID != 7 || sh.Model != "qwen-plus" {
		t.Errorf("sealed shard %+v", sh)
	}
	sh.FileID, sh.State = "file-batch-1", ShardUploaded
	if err := s.UpdateShard(ctx, sh); err != nil {
		t.Fatal(err)
	}
	sh.BatchID, sh.State, sh.Status, sh.Total = "batch_1", ShardSubmitted, "validating", 2
	if err := s.UpdateShard(ctx, sh); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Shard(ctx, id)
	if got.FileID != "file-batch-1" || got.BatchID != "batch_1" || got.Status != "validating" || got.Total != 2 {
		t.Errorf("updated shard %+v", got)
	}

	// Results go in first, then the shard is finished: its keys are free.
	if err := s.Put(ctx, "k1", model.Response{Content: "ok", Batch: true}, 7); err != nil {
		t.Fatal(err)
	}
	if err := s.PutError(ctx, "k2", "batch_expired: too late", 7); err != nil {
		t.Fatal(err)
	}
	sh.Status, sh.Completed, sh.Failed = "expired", 1, 1
	if err := s.FinishShard(ctx, sh); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.PendingShard(ctx, "k2"); ok {
		t.Error("k2 still pending after its shard finished")
	}
	active, _ = s.Shards(ctx, true, 0)
	if len(active) != 0 {
		t.Errorf("active shards after finish: %+v", active)
	}
	all, _ := s.Shards(ctx, false, 10)
	if len(all) != 1 || all[0].State != ShardDone || all[0].Status != "expired" || all[0].Failed != 1 {
		t.Errorf("all shards %+v", all)
	}
	if resp, ok, _ := s.Get(ctx, "k1"); !ok || !resp.Batch {
		t.Errorf("batch flag not kept: %+v", resp)
	}
	if _, err := s.Shard(ctx, 999); !errors.Is(err, ErrNoShard) {
		t.Errorf("Shard(999): %v", err)
	}
	if err := s.UpdateShard(ctx, Shard{ID: 999, State: ShardDone}); !errors.Is(err, ErrNoShard) {
		t.Errorf("UpdateShard(999): %v", err)
	}
}

func TestDeleteShardFreesItsKeys(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	id, _ := s.NewShard(ctx, Shard{Endpoint: "e", Model: "m", Path: "p"})
	if err := s.SealShard(ctx, id, 1, 10, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteShard(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.PendingShard(ctx, "a"); ok {
		t.Error("key pending after its shard was deleted")
	}
	if _, err := s.Shard(ctx, id); !errors.Is(err, ErrNoShard) {
		t.Errorf("deleted shard still there: %v", err)
	}
}

func TestShardsListNewestLimit(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for i := range 5 {
		if _, err := s.NewShard(ctx, Shard{Endpoint: "e", Model: "m", Path: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Shards(ctx, false, 2)
	if err != nil || len(got) != 2 || got[0].Path != "3" || got[1].Path != "4" {
		t.Errorf("Shards(limit 2) = %+v, %v", got, err)
	}
}

// A store written by the version before batch mode (schema 1) is
// upgraded in place and keeps its results.
func TestMigrateFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db := rawDB(t, path)
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = 1`, applicationID)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO results (key, response, run_id, created) VALUES ('old', '{"content":"kept"}', 1, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openAt(t, path)
	ctx := context.Background()
	if resp, ok, err := s.Get(ctx, "old"); !ok || err != nil || resp.Content != "kept" {
		t.Errorf("old result after migration: %+v %v %v", resp, ok, err)
	}
	if _, err := s.NewShard(ctx, Shard{Endpoint: "e", Model: "m", Path: "p"}); err != nil {
		t.Errorf("batch tables missing after migration: %v", err)
	}
	var v int
	if err := rawDB(t, path).QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("user_version %d, %v", v, err)
	}
}
