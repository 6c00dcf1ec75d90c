package model

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// batchReplay serves the recorded Files and Batches answers by route and
// keeps what the client sent.
type batchReplay struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string]recording // "METHOD /path" (no query)
	got    []*http.Request
	bodies [][]byte
}

func newBatchReplay(t *testing.T, routes map[string]string) (*batchReplay, *httptest.Server) {
	r := &batchReplay{t: t, routes: map[string]recording{}}
	for route, name := range routes {
		r.routes[route] = loadRecording(t, "recorded", name)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (b *batchReplay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	b.mu.Lock()
	b.got = append(b.got, req)
	b.bodies = append(b.bodies, body)
	b.mu.Unlock()
	rec, ok := b.routes[req.Method+" "+strings.TrimPrefix(req.URL.Path, "/compatible-mode/v1")]
	if !ok {
		http.Error(w, `{"error":{"code":"not_found","message":"no recording for `+req.Method+" "+req.URL.Path+`"}}`, http.StatusNotFound)
		return
	}
	for k, vs := range rec.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body)
}

func newTestBatchClient(t *testing.T, url string) *BatchClient {
	t.Helper()
	c, err := NewBatchClient(OpenAIConfig{BaseURL: url + "/compatible-mode/v1", APIKey: "sk-batch-test-key-123456"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBatchClientRecorded(t *testing.T) {
	const batchID = "batch_2ecfc43e-439e-4443-bfe8-9a36b89456d0"
	replay, srv := newBatchReplay(t, map[string]string{
		"POST /files":                          "upload-file-compatible-nosse",
		"POST /batches":                        "create-batch-compatible-nosse",
		"GET /batches/" + batchID:              "get-inprogress-batch-compatible-nosse",
		"POST /batches/" + batchID + "/cancel": "cancel-batch-compatible-nosse",
		"GET /batches":                         "list-batches-filter-by-input-file-id-compatible-nosse",
		"GET /files/file-batch_output-c5f57bf1fbc749cdae9676ba/content": "get-file-content-compatible-nosse",
	})
	c := newTestBatchClient(t, srv.URL)
	ctx := context.Background()

	lines := "{\"custom_id\":\"1\"}\n{\"custom_id\":\"2\"}\n"
	id, err := c.Upload(ctx, "shard-1.jsonl", strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	if id != "file-fe-5d5eb068893f4b5e8551ada4" {
		t.Errorf("file id %q", id)
	}
	// The upload is a proper multipart form with purpose=batch and the file.
	up := replay.got[0]
	_, params, err := mime.ParseMediaType(up.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(bytes.NewReader(replay.bodies[0]), params["boundary"])
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		fields[p.FormName()] += string(b)
		if p.FormName() == "file" && p.FileName() != "shard-1.jsonl" {
			t.Errorf("file name %q", p.FileName())
		}
	}
	if fields["purpose"] != "batch" || fields["file"] != lines {
		t.Errorf("multipart fields %q", fields)
	}
	if got := up.Header.Get("Authorization"); got != "Bearer sk-batch-test-key-123456" {
		t.Errorf("Authorization %q", got)
	}

	b, err := c.Create(ctx, "file-batch-61875e1242854691b8bfd17d", "24h", map[string]string{"ds_name": "bulkgen"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.ID, "batch_") || b.Status == "" || b.InputFileID == "" {
		t.Errorf("created batch %+v", b)
	}
	var sent map[string]any
	if err := json.Unmarshal(replay.bodies[1], &sent); err != nil {
		t.Fatal(err)
	}
	if sent["endpoint"] != BatchEndpoint || sent["completion_window"] != "24h" || sent["input_file_id"] != "file-batch-61875e1242854691b8bfd17d" {
		t.Errorf("create body %s", replay.bodies[1])
	}

	b, err = c.Get(ctx, batchID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != "in_progress" || b.Terminal() {
		t.Errorf("in-progress batch %+v", b)
	}
	b, err = c.Cancel(ctx, batchID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != "cancelling" {
		t.Errorf("cancelled batch %+v", b)
	}

	found, ok, err := c.FindByInputFile(ctx, "file-batch-c015426ce301481bb13c76b4")
	if err != nil || !ok || found.ID != "batch_5b57e198-203e-49c8-bcc3-65e997d51754" || found.Status != "completed" ||
		found.OutputFileID != "file-batch_output-c5f57bf1fbc749cdae9676ba" || found.Completed != 2 {
		t.Errorf("FindByInputFile = %+v, %v, %v", found, ok, err)
	}
	if q := replay.got[len(replay.got)-1].URL.Query().Get("input_file_ids"); q != "file-batch-c015426ce301481bb13c76b4" {
		t.Errorf("list filter input_file_ids=%q", q)
	}
	if _, ok, err := c.FindByInputFile(ctx, "file-batch-other"); ok || err != nil {
		t.Errorf("FindByInputFile(other) = %v, %v", ok, err)
	}

	rc, err := c.Content(ctx, found.OutputFileID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	var results []BatchResult
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		r, err := ParseBatchResult(sc.Bytes())
		if err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	if len(results) != 2 {
		t.Fatalf("%d results", len(results))
	}
	r := results[0]
	if r.CustomID != "1" || r.Err != nil || !r.Response.Batch || r.Response.Usage.PromptTokens != 26 ||
		r.Response.Usage.CompletionTokens != 49 || r.Response.FinishReason != "stop" || !strings.HasPrefix(r.Response.Content, "你好") ||
		r.Response.RequestID != "153fa1be-abbc-4b52-80a6-c7ca92688fbc" {
		t.Errorf("result 1 = %+v", r)
	}
}

func TestParseBatchResultErrors(t *testing.T) {
	tests := []struct {
		name, line string
		code       string
		class      Class
	}{
		{"error file line", `{"id":"x","custom_id":"r7","response":{"status_code":400,"request_id":"q","body":{"error":{"code":"data_inspection_failed","message":"Input data may contain inappropriate content."}}},"error":{"code":"data_inspection_failed","message":"Input data may contain inappropriate content."}}`,
			"data_inspection_failed", RowFinal},
		{"batch-only code", `{"custom_id":"r8","response":null,"error":{"code":"mismatched_model","message":"model differs"}}`, "mismatched_model", RowFinal},
		{"expired", `{"custom_id":"r9","error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}`, "batch_expired", RowFinal},
		{"server error is final inside a batch", `{"custom_id":"r10","response":{"status_code":500,"body":{"error":{"code":"internal_error","message":"boom"}}},"error":null}`, "internal_error", RowFinal},
		{"200 without choices", `{"custom_id":"r11","response":{"status_code":200,"body":{"object":"chat.completion"}},"error":null}`, "", RowFinal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseBatchResult([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			var ae *APIError
			if !errors.As(r.Err, &ae) {
				t.Fatalf("Err = %v, want an *APIError", r.Err)
			}
			if ae.Code != tt.code || ae.Class != tt.class || ae.Message == "" {
				t.Errorf("error %+v", ae)
			}
		})
	}
	for _, bad := range []string{`not json`, `{"response":{}}`} {
		if _, err := ParseBatchResult([]byte(bad)); err == nil {
			t.Errorf("ParseBatchResult(%q) accepted it", bad)
		}
	}
}

func TestBatchRequestLineIsTheRealtimeBody(t *testing.T) {
	temp := 0.0
	req := Request{Model: "qwen-plus", Messages: []Message{{Role: "system", Content: "s"}, {Role: "user", Content: "翻译：你好"}},
		Temperature: &temp, EnableThinking: new(bool)}
	line, err := BatchRequestLine("row-3-abc", req)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(line, '\n') {
		t.Fatal("line contains a newline")
	}
	var got struct {
		CustomID string         `json:"custom_id"`
		Method   string         `json:"method"`
		URL      string         `json:"url"`
		Body     map[string]any `json:"body"`
	}
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatal(err)
	}
	if got.CustomID != "row-3-abc" || got.Method != "POST" || got.URL != "/v1/chat/completions" {
		t.Errorf("line %s", line)
	}
	want, _ := json.Marshal(openAIParams(req))
	var wantBody map[string]any
	json.Unmarshal(want, &wantBody)
	gb, _ := json.Marshal(got.Body)
	wb, _ := json.Marshal(wantBody)
	if !bytes.Equal(gb, wb) {
		t.Errorf("body %s, want %s", gb, wb)
	}
	if got.Body["enable_thinking"] != false || got.Body["model"] != "qwen-plus" {
		t.Errorf("body %v", got.Body)
	}
	if _, err := BatchRequestLine("x", Request{Model: "qwen-plus"}); err == nil {
		t.Error("a request without messages was accepted")
	}
}

func TestBatchClientErrorsAreClassified(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided. ","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	}))
	defer srv.Close()
	c := newTestBatchClient(t, srv.URL)
	_, err := c.Get(context.Background(), "batch_x")
	if ClassOf(err) != Fatal || !strings.Contains(err.Error(), "get batch batch_x") {
		t.Errorf("err = %v (class %v)", err, ClassOf(err))
	}
	if strings.Contains(err.Error(), "sk-batch-test-key-123456") {
		t.Error("the key leaked into the error")
	}
}
