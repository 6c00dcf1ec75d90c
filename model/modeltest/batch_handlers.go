package modeltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// createBody is the body of POST /batches.
type createBody struct {
	InputFileID      string          `json:"input_file_id"`
	Endpoint         string          `json:"endpoint"`
	CompletionWindow string          `json:"completion_window"`
	Metadata         json.RawMessage `json:"metadata"`
}

// parseWindow reads a completion_window: whole hours from 24h to 336h or
// whole days from 1d to 14d (notes §5).
func parseWindow(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	hours := 0
	switch s[len(s)-1] {
	case 'h':
		hours = n
	case 'd':
		hours = n * 24
	default:
		return 0, false
	}
	if hours < 24 || hours > 336 {
		return 0, false
	}
	return time.Duration(hours) * time.Hour, true
}

// parseMetadata reads metadata: an object of strings, with the limits the
// service puts on its own keys (notes §5).
func parseMetadata(raw json.RawMessage) (map[string]string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "metadata must be an object of string values."
	}
	for key, limit := range map[string]int{"ds_name": 100, "ds_description": 200} {
		if n := utf8.RuneCountInString(m[key]); n > limit {
			return nil, fmt.Sprintf("metadata.%s has %d characters; it may have at most %d.", key, n, limit)
		}
	}
	return m, ""
}

// createBatch answers POST /batches. The input is validated at once, but
// the outcome shows only when the batch leaves "validating".
func (h *Handler) createBatch(x *exchange, _ string, body []byte) {
	st := h.batch
	var cb createBody
	if err := json.Unmarshal(body, &cb); err != nil {
		x.badRequest("", "The request body is not valid JSON: %v", err)
		return
	}
	window, windowOK := parseWindow(cb.CompletionWindow)
	metadata, metaErr := parseMetadata(cb.Metadata)
	switch {
	case cb.InputFileID == "":
		x.badRequest("input_file_id", "Missing required parameter: 'input_file_id'.")
		return
	case cb.Endpoint == "":
		x.badRequest("endpoint", "Missing required parameter: 'endpoint'.")
		return
	case cb.Endpoint != chatEndpoint:
		x.badRequest("endpoint", "The endpoint '%s' is not supported; the simulator runs only '%s'.", cb.Endpoint, chatEndpoint)
		return
	case cb.CompletionWindow == "":
		x.badRequest("completion_window", "Missing required parameter: 'completion_window'.")
		return
	case !windowOK:
		x.badRequest("completion_window", "completion_window must be whole hours from 24h to 336h or whole days from 1d to 14d, got '%s'.", cb.CompletionWindow)
		return
	case metaErr != "":
		x.badRequest("metadata", "%s", metaErr)
		return
	}
	st.mu.Lock()
	f := st.files[cb.InputFileID]
	st.mu.Unlock()
	switch {
	case f == nil:
		x.badRequest("input_file_id", "No such File object: %s", cb.InputFileID)
		return
	case f.purpose != purposeBatch:
		x.badRequest("input_file_id", "The input file %s has purpose '%s'; a batch input must be uploaded with purpose 'batch'.", f.id, f.purpose)
		return
	}

	created := h.now()
	an := analyzeInput(f.data, cb.Endpoint, h.models, st.opts.MaxFileLines, st.opts.MaxLineBytes)
	h.faultCount.Add(an.faults)
	if st.opts.CompletionWindow > 0 {
		window = st.opts.CompletionWindow
	}
	b := &batch{
		id:             "batch_" + h.newID(),
		inputFileID:    f.id,
		endpoint:       cb.Endpoint,
		window:         cb.CompletionWindow,
		metadata:       metadata,
		input:          f.data,
		lines:          an.lines,
		errs:           an.errs,
		created:        created,
		validated:      created.Add(st.opts.ValidateTime),
		deadline:       created.Add(window),
		finalize:       st.opts.FinalizeTime,
		linesPerSecond: st.opts.LinesPerSecond,
		outputID:       "file-batch_output-" + h.hexID(),
		errorID:        "file-batch_output-" + h.hexID(),
		outputSize:     -1,
		errorSize:      -1,
	}
	if n := len(b.lines); n > 0 {
		b.ran = b.lineTime(n - 1).Sub(b.validated)
	}
	st.mu.Lock()
	st.seq++
	b.seq = st.seq
	b.lineKey = mix(h.idKey ^ mix(b.seq))
	st.batches[b.id] = b
	st.order = append(st.order, b)
	st.results[b.outputID] = b
	st.results[b.errorID] = b
	obj := b.object(b.state(created), false)
	st.mu.Unlock()
	st.created.Add(1)
	x.writeAPI(http.StatusOK, contentBatchJSON, marshal(obj))
}

func (x *exchange) noSuchBatch(id string) {
	x.failAPI(http.StatusNotFound, "invalid_request_error", "", "batch_id", fmt.Sprintf("No batch found with id '%s'.", id))
}

func (h *Handler) retrieveBatch(x *exchange, id string, _ []byte) {
	st := h.batch
	st.mu.Lock()
	b := st.batches[id]
	var obj batchObject
	if b != nil {
		obj = b.object(b.state(h.now()), false)
	}
	st.mu.Unlock()
	if b == nil {
		x.noSuchBatch(id)
		return
	}
	x.writeAPI(http.StatusOK, contentBatchJSON, marshal(obj))
}

// cancelBatch answers POST /batches/{id}/cancel. A validating or running
// batch starts cancelling; one already cancelling or cancelled is answered
// as it is, so that a client may repeat a cancel it lost the answer of;
// any other is refused with 400.
func (h *Handler) cancelBatch(x *exchange, id string, _ []byte) {
	st := h.batch
	now := h.now()
	st.mu.Lock()
	b := st.batches[id]
	if b == nil {
		st.mu.Unlock()
		x.noSuchBatch(id)
		return
	}
	s := b.state(now)
	switch s.status {
	case statusValidating, statusInProgress:
		b.cancelAt = now
		s = b.state(now)
	case statusCancelling, statusCancelled:
	default:
		st.mu.Unlock()
		x.badRequest("", "Batch %s cannot be cancelled because its status is '%s'.", id, s.status)
		return
	}
	obj := b.object(s, true)
	st.mu.Unlock()
	x.writeAPI(http.StatusOK, contentBatchJSON, marshal(obj))
}

// batchStatuses are the values the status filter takes.
var batchStatuses = []string{statusValidating, statusInProgress, statusFinalizing, statusCompleted,
	statusFailed, statusExpired, statusCancelling, statusCancelled}

// listBatches answers GET /batches, newest first, with the service's
// filters: input_file_ids and status (comma lists), ds_name (a substring
// of metadata.ds_name), create_after and create_before (yyyyMMddHHmmss,
// Beijing time); after is the last id of the previous page.
func (h *Handler) listBatches(x *exchange, _ string, _ []byte) {
	q := x.r.URL.Query()
	limit, ok := x.listLimit(q)
	if !ok {
		return
	}
	after, before, ok := x.createRange(q, "20060102150405")
	if !ok {
		return
	}
	inputs := commaList(q.Get("input_file_ids"))
	if len(inputs) > 20 {
		x.badRequest("input_file_ids", "input_file_ids lists %d files; at most 20 are allowed.", len(inputs))
		return
	}
	statuses := commaList(q.Get("status"))
	for _, s := range statuses {
		if !slices.Contains(batchStatuses, s) {
			x.badRequest("status", "Unknown status '%s'; use %s.", s, strings.Join(batchStatuses, ", "))
			return
		}
	}
	dsName := q.Get("ds_name")

	now := h.now()
	st := h.batch
	out := batchList{Object: "list"}
	st.mu.Lock()
	start := len(st.order) - 1
	if a := q.Get("after"); a != "" {
		// Newest first: the next page starts below the cursor. An
		// unknown cursor has nothing after it.
		start = slices.IndexFunc(st.order, func(b *batch) bool { return b.id == a }) - 1
		if st.batches[a] == nil {
			start = -1
		}
	}
	for i := start; i >= 0; i-- {
		b := st.order[i]
		s := b.state(now)
		if len(inputs) > 0 && !slices.Contains(inputs, b.inputFileID) ||
			len(statuses) > 0 && !slices.Contains(statuses, s.status) ||
			dsName != "" && !strings.Contains(b.metadata["ds_name"], dsName) ||
			!after.IsZero() && b.created.Before(after) ||
			!before.IsZero() && !b.created.Before(before) {
			continue
		}
		if len(out.Data) == limit {
			out.HasMore = true
			break
		}
		out.Data = append(out.Data, b.object(s, false))
	}
	st.mu.Unlock()
	if n := len(out.Data); n > 0 {
		out.FirstID, out.LastID = &out.Data[0].ID, &out.Data[n-1].ID
	}
	x.writeAPI(http.StatusOK, contentBatchJSON, marshal(out))
}

// commaList splits "a,b" into its non-empty items.
func commaList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// addStats adds the batch counters at now to s. The billed usage and the
// lines count what the batches have answered by now, so they grow while
// batches run, whether or not anybody polls them.
func (st *batchStore) addStats(now time.Time, s *Stats) {
	s.FilesUploaded = st.uploaded.Load()
	s.BatchesCreated = st.created.Load()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, b := range st.order {
		bs := b.state(now)
		prompt, completion := b.billed(&bs)
		s.BatchLines += int64(bs.done)
		s.BatchPromptTokens += prompt
		s.BatchCompletionTokens += completion
	}
}
