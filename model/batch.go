package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/shared"
)

// BatchEndpoint is the only endpoint bulkgen submits batches for.
const BatchEndpoint = "/v1/chat/completions"

// BatchInfo is the state of one batch on the service.
type BatchInfo struct {
	ID           string
	Status       string // validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled
	InputFileID  string
	OutputFileID string
	ErrorFileID  string
	Total        int64
	Completed    int64
	Failed       int64
	// Errors are the batch-level errors of a batch that failed validation.
	Errors    []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Terminal reports whether the batch will not change any more.
func (b BatchInfo) Terminal() bool { return BatchTerminal(b.Status) }

// BatchTerminal reports whether a batch status is final.
func BatchTerminal(status string) bool {
	switch status {
	case "completed", "failed", "expired", "cancelled":
		return true
	}
	return false
}

// BatchClient drives the OpenAI-compatible Files and Batches APIs
// (DashScope's compatible mode, OpenAI, vLLM's OpenAI server). Like
// OpenAIClient it never retries on its own.
type BatchClient struct {
	files   openai.FileService
	batches openai.BatchService
	key     string
}

// NewBatchClient returns a client for cfg's base URL (the same as the chat
// client's: …/compatible-mode/v1).
func NewBatchClient(cfg OpenAIConfig) (*BatchClient, error) {
	base := cfg.BaseURL
	if base == "" {
		base, _ = DefaultBaseURL(APIOpenAI, RegionBeijing)
	}
	if _, err := checkBaseURL(base); err != nil {
		return nil, fmt.Errorf("batch client: %w", err)
	}
	opts := sdkOptions(base, cfg)
	return &BatchClient{files: openai.NewFileService(opts...), batches: openai.NewBatchService(opts...), key: cfg.APIKey}, nil
}

// Upload sends a request file (purpose "batch") and returns its file id.
// The body is streamed: the SDK's own multipart encoder would hold the
// whole file (up to hundreds of MB) in memory.
func (c *BatchClient) Upload(ctx context.Context, name string, r io.Reader) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("purpose", "batch"); err != nil {
				return err
			}
			h := make(textproto.MIMEHeader)
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
			h.Set("Content-Type", "application/jsonl")
			part, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, r); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	var httpResp *http.Response
	f, err := c.files.New(ctx, openai.FileNewParams{File: strings.NewReader(""), Purpose: openai.FilePurposeBatch},
		option.WithRequestBody(mw.FormDataContentType(), pr), option.WithResponseInto(&httpResp))
	pr.Close() // unblocks the writer if the request ended early
	if err != nil {
		return "", c.fail(ctx, "upload "+name, httpResp, err)
	}
	if f.ID == "" {
		return "", fmt.Errorf("upload %s: the service answered without a file id", name)
	}
	return f.ID, nil
}

// Create starts a batch over an uploaded request file.
func (c *BatchClient) Create(ctx context.Context, fileID, window string, metadata map[string]string) (BatchInfo, error) {
	p := openai.BatchNewParams{
		InputFileID:      fileID,
		Endpoint:         openai.BatchNewParamsEndpoint(BatchEndpoint),
		CompletionWindow: openai.BatchNewParamsCompletionWindow(window),
	}
	if len(metadata) > 0 {
		p.Metadata = shared.Metadata(metadata)
	}
	var httpResp *http.Response
	b, err := c.batches.New(ctx, p, option.WithResponseInto(&httpResp))
	if err != nil {
		return BatchInfo{}, c.fail(ctx, "create a batch for file "+fileID, httpResp, err)
	}
	return batchInfo(b), nil
}

// Get returns a batch's current state.
func (c *BatchClient) Get(ctx context.Context, id string) (BatchInfo, error) {
	var httpResp *http.Response
	b, err := c.batches.Get(ctx, id, option.WithResponseInto(&httpResp))
	if err != nil {
		return BatchInfo{}, c.fail(ctx, "get batch "+id, httpResp, err)
	}
	return batchInfo(b), nil
}

// Cancel asks the service to stop a batch; lines already done are kept
// (and billed).
func (c *BatchClient) Cancel(ctx context.Context, id string) (BatchInfo, error) {
	var httpResp *http.Response
	b, err := c.batches.Cancel(ctx, id, option.WithResponseInto(&httpResp))
	if err != nil {
		return BatchInfo{}, c.fail(ctx, "cancel batch "+id, httpResp, err)
	}
	return batchInfo(b), nil
}

// FindByInputFile looks for a batch created over fileID: after a crash
// between creating a batch and recording it, this finds it again instead
// of paying for a second one. It asks with DashScope's input_file_ids
// filter and also checks every batch listed, for servers that ignore it.
func (c *BatchClient) FindByInputFile(ctx context.Context, fileID string) (BatchInfo, bool, error) {
	pager := c.batches.ListAutoPaging(ctx, openai.BatchListParams{Limit: param.NewOpt[int64](100)},
		option.WithQuery("input_file_ids", fileID))
	seen := 0
	for pager.Next() {
		b := pager.Current()
		if b.InputFileID == fileID {
			return batchInfo(&b), true, nil
		}
		// Only batches of the last 30 days are listed; a busy account
		// still has a bound worth keeping.
		if seen++; seen >= 10000 {
			break
		}
	}
	if err := pager.Err(); err != nil {
		return BatchInfo{}, false, c.fail(ctx, "list batches", nil, err)
	}
	return BatchInfo{}, false, nil
}

// Content opens a file's content (a batch's output or error file).
func (c *BatchClient) Content(ctx context.Context, fileID string) (io.ReadCloser, error) {
	resp, err := c.files.Content(ctx, fileID)
	if err != nil {
		return nil, c.fail(ctx, "download file "+fileID, resp, err)
	}
	return resp.Body, nil
}

// DeleteFile removes an uploaded or produced file (the service keeps at
// most 10,000 files per account).
func (c *BatchClient) DeleteFile(ctx context.Context, fileID string) error {
	var httpResp *http.Response
	if _, err := c.files.Delete(ctx, fileID, option.WithResponseInto(&httpResp)); err != nil {
		return c.fail(ctx, "delete file "+fileID, httpResp, err)
	}
	return nil
}

// fail turns an SDK error into an error that names the operation and is
// classified like a chat error (an invalid key is fatal, a 5xx retryable).
func (c *BatchClient) fail(ctx context.Context, op string, httpResp *http.Response, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var oe *openai.Error
	if errors.As(err, &oe) {
		status := oe.StatusCode
		body := []byte(`{"error":` + oe.RawJSON() + `}`)
		h := http.Header{}
		if oe.Response != nil {
			h = oe.Response.Header
		}
		return fmt.Errorf("%s: %w", op, httpError(status, h, body, c.key))
	}
	if httpResp != nil && httpResp.StatusCode >= 400 {
		return fmt.Errorf("%s: %w", op, httpError(httpResp.StatusCode, httpResp.Header, nil, c.key))
	}
	return fmt.Errorf("%s: %w", op, &APIError{Class: Retryable, Message: redact(err.Error(), c.key), Err: err})
}

func batchInfo(b *openai.Batch) BatchInfo {
	info := BatchInfo{
		ID: b.ID, Status: string(b.Status), InputFileID: b.InputFileID,
		OutputFileID: b.OutputFileID, ErrorFileID: b.ErrorFileID,
		Total: b.RequestCounts.Total, Completed: b.RequestCounts.Completed, Failed: b.RequestCounts.Failed,
	}
	if b.CreatedAt > 0 {
		info.CreatedAt = time.Unix(b.CreatedAt, 0)
	}
	if b.ExpiresAt > 0 {
		info.ExpiresAt = time.Unix(b.ExpiresAt, 0)
	}
	for _, e := range b.Errors.Data {
		msg := e.Message
		if e.Code != "" {
			msg = e.Code + ": " + msg
		}
		if e.Line > 0 {
			msg = fmt.Sprintf("line %d: %s", e.Line, msg)
		}
		info.Errors = append(info.Errors, msg)
	}
	return info
}

// batchLine is one line of a request file.
type batchLine struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// BatchRequestLine renders req as one line of a Batch API request file
// (without the newline). The body is exactly what the realtime
// OpenAI-compatible client sends, so both give the same answer.
func BatchRequestLine(customID string, req Request) ([]byte, error) {
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	body, err := json.Marshal(openAIParams(req))
	if err != nil {
		return nil, fmt.Errorf("encode batch request %s: %w", customID, err)
	}
	return json.Marshal(batchLine{CustomID: customID, Method: http.MethodPost, URL: BatchEndpoint, Body: body})
}

// BatchResult is one line of a batch output or error file.
type BatchResult struct {
	CustomID string
	Response Response
	// Err is the line's error (an *APIError), nil on success.
	Err error
}

// ParseBatchResult reads one line of an output or error file:
//
//	{"id":…,"custom_id":…,"response":{"status_code":200,"request_id":…,"body":{chat.completion}},"error":null}
//	{"id":…,"custom_id":…,"response":{"status_code":400,…,"body":{"error":{…}}},"error":{"code":…,"message":…}}
//
// A line that cannot be read at all is an error of the whole line (no
// custom id to give it to).
func ParseBatchResult(line []byte) (BatchResult, error) {
	var raw struct {
		ID       string `json:"id"`
		CustomID string `json:"custom_id"`
		Response *struct {
			StatusCode int             `json:"status_code"`
			RequestID  string          `json:"request_id"`
			Body       json.RawMessage `json:"body"`
		} `json:"response"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(trimBOM(line), &raw); err != nil {
		return BatchResult{}, fmt.Errorf("not a batch result line: %w", err)
	}
	if raw.CustomID == "" {
		return BatchResult{}, errors.New("batch result line has no custom_id")
	}
	res := BatchResult{CustomID: raw.CustomID}
	lineErr := func(status int, code, msg, requestID string) {
		class, hint := Classify(status, code, msg)
		if class == Retryable || class == Fatal {
			// Inside a batch nothing is retried by the service and
			// nothing stops the run: a rerun submits the line again.
			class = RowFinal
		}
		res.Err = &APIError{Status: status, Code: code, Message: msg, RequestID: requestID, Class: class, Hint: hint}
	}
	if raw.Response != nil && raw.Response.StatusCode == http.StatusOK && (raw.Error == nil || raw.Error.Code == "" && raw.Error.Message == "") {
		cc, err := decodeCompletion(raw.Response.Body)
		if err != nil || len(cc.Choices) == 0 {
			lineErr(http.StatusOK, "", "batch output line has no chat completion", raw.Response.RequestID)
			return res, nil
		}
		res.Response = cc.response()
		res.Response.RequestID, res.Response.Batch = raw.Response.RequestID, true
		if res.Response.RequestID == "" {
			res.Response.RequestID = raw.ID
		}
		return res, nil
	}
	status, requestID := 0, ""
	var f errorFields
	if raw.Response != nil {
		status, requestID = raw.Response.StatusCode, raw.Response.RequestID
		f = parseErrorBody(raw.Response.Body)
	}
	code, msg := f.code, f.message
	if raw.Error != nil {
		if raw.Error.Code != "" {
			code = raw.Error.Code
		}
		if raw.Error.Message != "" {
			msg = raw.Error.Message
		}
	}
	if msg == "" {
		msg = "the batch returned no result for this line"
	}
	lineErr(status, code, msg, requestID)
	return res, nil
}
