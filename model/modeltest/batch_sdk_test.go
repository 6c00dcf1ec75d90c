package modeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// sdkClient is the official OpenAI SDK pointed at a simulator.
func sdkClient(s *Server, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(s.CompatibleBaseURL()),
		option.WithAPIKey(testKey),
		option.WithMaxRetries(0),
	}, opts...)...)
}

// waitBatch polls a batch until cond holds, with a generous deadline: the
// SDK test runs on the real clock.
func waitBatch(ctx context.Context, t *testing.T, c openai.Client, id string, cond func(*openai.Batch) bool) *openai.Batch {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := c.Batches.Get(ctx, id)
		if err != nil {
			t.Fatalf("Batches.Get: %v", err)
		}
		if cond(b) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %s stuck in %s", id, b.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBatchWithOpenAISDK runs the whole batch workflow through
// github.com/openai/openai-go/v3, the client bulkgen uses: upload, create,
// get, list (with DashScope's input_file_ids filter), content, cancel,
// delete.
func TestBatchWithOpenAISDK(t *testing.T) {
	ctx := context.Background()
	s := start(t, Options{})
	c := sdkClient(s)

	bodies := []string{
		`{"model":"qwen-plus","messages":[{"role":"user","content":"Summarise: the quick brown fox."}]}`,
		`{"model":"qwen-plus","messages":[{"role":"user","content":"Translate into English:\n你好"}]}`,
	}
	var input bytes.Buffer
	for i, b := range bodies {
		input.WriteString(`{"custom_id":"row-` + string(rune('1'+i)) + `","method":"POST","url":"/v1/chat/completions","body":` + b + "}\n")
	}
	f, err := c.Files.New(ctx, openai.FileNewParams{
		File:    openai.File(bytes.NewReader(input.Bytes()), "rows.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch,
	})
	if err != nil {
		t.Fatalf("Files.New: %v", err)
	}
	if !strings.HasPrefix(f.ID, "file-batch-") || f.Purpose != openai.FileObjectPurposeBatch || f.Bytes != int64(input.Len()) || f.Filename != "rows.jsonl" {
		t.Errorf("file %+v", f)
	}

	b, err := c.Batches.New(ctx, openai.BatchNewParams{
		InputFileID:      f.ID,
		Endpoint:         openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h,
		Metadata:         shared.Metadata{"ds_name": "bulkgen run"},
	})
	if err != nil {
		t.Fatalf("Batches.New: %v", err)
	}
	if b.Status != openai.BatchStatusValidating || b.InputFileID != f.ID || b.Metadata["ds_name"] != "bulkgen run" {
		t.Errorf("new batch %+v", b)
	}
	// A window other than the SDK's only constant is a plain conversion.
	if _, err := c.Batches.New(ctx, openai.BatchNewParams{InputFileID: f.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow("14d")}); err != nil {
		t.Errorf("Batches.New with 14d: %v", err)
	}

	// Find the batch by its input file, as a client that crashed before
	// recording the batch id does.
	page, err := c.Batches.List(ctx, openai.BatchListParams{Limit: openai.Int(10)}, option.WithQuery("input_file_ids", f.ID))
	if err != nil {
		t.Fatalf("Batches.List: %v", err)
	}
	if len(page.Data) != 2 || page.Data[1].ID != b.ID {
		t.Errorf("listed %d batches, want 2 with %s last", len(page.Data), b.ID)
	}
	empty, err := c.Batches.List(ctx, openai.BatchListParams{}, option.WithQuery("input_file_ids", "file-batch-none"))
	if err != nil || len(empty.Data) != 0 || empty.HasMore {
		t.Errorf("empty list: %v %+v", err, empty)
	}
	// Auto-paging follows has_more with after=<last id>.
	var ids []string
	iter := c.Batches.ListAutoPaging(ctx, openai.BatchListParams{Limit: openai.Int(1)})
	for iter.Next() {
		ids = append(ids, iter.Current().ID)
	}
	if err := iter.Err(); err != nil || len(ids) != 2 || ids[1] != b.ID {
		t.Errorf("auto-paging: %v %v", err, ids)
	}

	b = waitBatch(ctx, t, c, b.ID, func(b *openai.Batch) bool { return b.Status == openai.BatchStatusCompleted })
	if b.RequestCounts.Total != 2 || b.RequestCounts.Completed != 2 || b.OutputFileID == "" || b.ErrorFileID != "" || b.CompletedAt == 0 {
		t.Errorf("completed batch %+v", b)
	}

	resp, err := c.Files.Content(ctx, b.OutputFileID)
	if err != nil {
		t.Fatalf("Files.Content: %v", err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read content: %v", err)
	}
	type outLine struct {
		CustomID string `json:"custom_id"`
		Response struct {
			StatusCode int                   `json:"status_code"`
			Body       openai.ChatCompletion `json:"body"`
		} `json:"response"`
	}
	got := map[string]outLine{}
	for l := range bytes.Lines(raw) {
		var ol outLine
		if err := json.Unmarshal(l, &ol); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		got[ol.CustomID] = ol
	}
	for i, body := range bodies {
		var params openai.ChatCompletionNewParams
		if err := json.Unmarshal([]byte(body), &params); err != nil {
			t.Fatal(err)
		}
		rt, err := c.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatalf("realtime: %v", err)
		}
		ol := got["row-"+string(rune('1'+i))]
		if ol.Response.StatusCode != 200 || ol.Response.Body.Choices[0].Message.Content != rt.Choices[0].Message.Content ||
			ol.Response.Body.Usage.PromptTokens != rt.Usage.PromptTokens || ol.Response.Body.Usage.CompletionTokens != rt.Usage.CompletionTokens {
			t.Errorf("line %d: batch %+v, realtime %+v", i+1, ol.Response.Body, rt)
		}
	}

	of, err := c.Files.Get(ctx, b.OutputFileID)
	if err != nil || of.Bytes != int64(len(raw)) || of.Purpose != openai.FileObjectPurposeBatchOutput {
		t.Errorf("Files.Get output: %v %+v", err, of)
	}
	files, err := c.Files.List(ctx, openai.FileListParams{Purpose: openai.String("batch")})
	if err != nil || len(files.Data) != 1 || files.Data[0].ID != f.ID {
		t.Errorf("Files.List: %v %+v", err, files)
	}
	del, err := c.Files.Delete(ctx, f.ID)
	if err != nil || !del.Deleted || del.ID != f.ID {
		t.Errorf("Files.Delete: %v %+v", err, del)
	}
	_, err = c.Files.Get(ctx, f.ID)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("Files.Get after delete: %v", err)
	}
}

// TestBatchCancelWithOpenAISDK cancels a running batch through the SDK
// and reads the lines it had answered.
func TestBatchCancelWithOpenAISDK(t *testing.T) {
	ctx := context.Background()
	// The first line would be answered after 100s: the cancel comes
	// long before.
	s := start(t, Options{Batch: BatchOptions{LinesPerSecond: 0.01, ValidateTime: -1}})
	c := sdkClient(s)
	f, err := c.Files.New(ctx, openai.FileNewParams{
		File:    openai.File(strings.NewReader(jsonl(chatLine("a", "qwen-plus", "x"), chatLine("b", "qwen-plus", "y"))), "in.jsonl", "application/jsonl"),
		Purpose: openai.FilePurposeBatch,
	})
	if err != nil {
		t.Fatalf("Files.New: %v", err)
	}
	b, err := c.Batches.New(ctx, openai.BatchNewParams{InputFileID: f.ID, Endpoint: openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow24h})
	if err != nil {
		t.Fatalf("Batches.New: %v", err)
	}
	b, err = c.Batches.Cancel(ctx, b.ID)
	if err != nil || b.Status != openai.BatchStatusCancelling {
		t.Fatalf("Batches.Cancel: %v %+v", err, b)
	}
	b = waitBatch(ctx, t, c, b.ID, func(b *openai.Batch) bool { return b.Status == openai.BatchStatusCancelled })
	if b.RequestCounts.Total != 2 || b.RequestCounts.Failed != 2 || b.ErrorFileID == "" || b.CancelledAt == 0 {
		t.Errorf("cancelled batch %+v", b)
	}
	resp, err := c.Files.Content(ctx, b.ErrorFileID)
	if err != nil {
		t.Fatalf("Files.Content: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if n := strings.Count(string(raw), `"code":"batch_cancelled"`); n != 2 {
		t.Errorf("error file has %d batch_cancelled lines, want 2:\n%s", n, raw)
	}
	// Repeating the cancel answers the batch as it is.
	if again, err := c.Batches.Cancel(ctx, b.ID); err != nil || again.Status != openai.BatchStatusCancelled {
		t.Errorf("repeated cancel: %v %+v", err, again)
	}
}
