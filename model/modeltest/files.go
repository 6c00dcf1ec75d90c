package modeltest

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Paths of the OpenAI-compatible Files and Batches endpoints.
const (
	FilesPath   = "/compatible-mode/v1/files"
	BatchesPath = "/compatible-mode/v1/batches"
)

// File purposes. Uploads take "batch" or "file-extract"; a batch's result
// files have "batch_output".
const (
	purposeBatch       = "batch"
	purposeFileExtract = "file-extract"
	purposeBatchOutput = "batch_output"
)

// batchStore holds the files and batches of one Handler, in memory.
type batchStore struct {
	opts BatchOptions // normalized

	mu      sync.Mutex
	seq     uint64
	files   map[string]*storedFile // uploaded files by id
	batches map[string]*batch
	order   []*batch          // by creation
	results map[string]*batch // output and error file ids

	uploaded, created atomic.Int64
}

func newBatchStore(opts BatchOptions) *batchStore {
	return &batchStore{
		opts:    opts.normalized(),
		files:   make(map[string]*storedFile),
		batches: make(map[string]*batch),
		results: make(map[string]*batch),
	}
}

// storedFile is an uploaded file.
type storedFile struct {
	id, filename, purpose string
	created               time.Time
	seq                   uint64
	data                  []byte
}

// fileObject is the service's file object (recorded
// upload-file-compatible-nosse), keys in its order.
type fileObject struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Bytes     int64  `json:"bytes"`
	Filename  string `json:"filename"`
	Purpose   string `json:"purpose"`
	Status    string `json:"status"`
	CreatedAt int64  `json:"created_at"`
}

func (f *storedFile) object() fileObject {
	return fileObject{ID: f.id, Object: "file", Bytes: int64(len(f.data)), Filename: f.filename,
		Purpose: f.purpose, Status: "processed", CreatedAt: f.created.Unix()}
}

// fileList is GET /files; unlike the batch list it has no first_id and
// last_id (recorded list-files-compatible-nosse).
type fileList struct {
	Object  string       `json:"object"`
	Data    []fileObject `json:"data"` // null when empty, like the batch list
	HasMore bool         `json:"has_more"`
}

type fileDeleted struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// ---- routing ----

// batchRoute is one operation of the Files and Batches API.
type batchRoute struct {
	op     string // the name Hook sees
	method string
	// serve answers the request; body is the JSON body of create, nil
	// for the others. upload has none: serveBatchAPI calls it directly.
	serve func(h *Handler, x *exchange, id string, body []byte)
}

// serveBatchAPI answers the Files and Batches endpoints. It reports
// whether the path was one of theirs; other paths are left to the chat
// routes.
func (h *Handler) serveBatchAPI(x *exchange) bool {
	p := x.r.URL.Path
	var routes []batchRoute
	var id string
	if rest, ok := cutPath(p, FilesPath); ok {
		id, routes = fileRoutes(rest)
	} else if rest, ok := cutPath(p, BatchesPath); ok {
		id, routes = batchRoutes(rest)
	} else {
		return false
	}
	if routes == nil {
		x.failAPI(http.StatusNotFound, "invalid_request_error", "", "", "No route matches "+p+".")
		return true
	}
	i := slices.IndexFunc(routes, func(r batchRoute) bool { return r.method == x.r.Method })
	if i < 0 {
		var allow []string
		for _, r := range routes {
			allow = append(allow, r.method)
		}
		x.w.Header().Set("Allow", strings.Join(allow, ", "))
		x.failAPI(http.StatusMethodNotAllowed, "invalid_request_error", "", "",
			fmt.Sprintf("Method %s is not allowed; use %s.", x.r.Method, strings.Join(allow, " or ")))
		return true
	}
	route := routes[i]
	if !h.authorized(x.r) {
		x.fail(errInvalidKey())
		return true
	}
	// The hook runs once the request is in, so that a request it holds
	// still takes effect after its client has gone. upload reads its
	// multipart body itself and runs the hook after it.
	if route.op == "upload" {
		h.upload(x)
		return true
	}
	var body []byte
	if route.op == "create" {
		b, err := io.ReadAll(http.MaxBytesReader(x.w, x.r.Body, 1<<20))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				x.failAPI(http.StatusRequestEntityTooLarge, "invalid_request_error", "", "", "The request body is larger than 1 MiB.")
				return true
			}
			panic(http.ErrAbortHandler) // the client went away mid-body
		}
		body = b
	}
	if !h.hook(x, route.op) {
		return true
	}
	route.serve(h, x, id, body)
	return true
}

// cutPath returns what follows prefix in p, if p is prefix or below it.
func cutPath(p, prefix string) (string, bool) {
	if p == prefix {
		return "", true
	}
	rest, ok := strings.CutPrefix(p, prefix+"/")
	return rest, ok
}

func fileRoutes(rest string) (string, []batchRoute) {
	id, sub, _ := strings.Cut(rest, "/")
	switch {
	case id == "" && sub == "":
		return "", []batchRoute{{"upload", http.MethodPost, nil}, {"list-files", http.MethodGet, (*Handler).listFiles}}
	case id != "" && !strings.Contains(rest, "/"):
		return id, []batchRoute{{"get-file", http.MethodGet, (*Handler).getFile}, {"delete", http.MethodDelete, (*Handler).deleteFile}}
	case id != "" && sub == "content":
		return id, []batchRoute{{"content", http.MethodGet, (*Handler).fileContent}}
	}
	return "", nil
}

func batchRoutes(rest string) (string, []batchRoute) {
	id, sub, _ := strings.Cut(rest, "/")
	switch {
	case id == "" && sub == "":
		return "", []batchRoute{{"create", http.MethodPost, (*Handler).createBatch}, {"list", http.MethodGet, (*Handler).listBatches}}
	case id != "" && !strings.Contains(rest, "/"):
		return id, []batchRoute{{"retrieve", http.MethodGet, (*Handler).retrieveBatch}}
	case id != "" && sub == "cancel":
		return id, []batchRoute{{"cancel", http.MethodPost, (*Handler).cancelBatch}}
	}
	return "", nil
}

// hook runs BatchOptions.Hook; it reports false, having answered 500,
// when the hook failed the request.
func (h *Handler) hook(x *exchange, op string) bool {
	if h.batch.opts.Hook == nil {
		return true
	}
	if err := h.batch.opts.Hook(x.r.Context(), op); err != nil {
		x.failAPI(http.StatusInternalServerError, "internal_error", "internal_error", "", msgInternal)
		return false
	}
	return true
}

// ---- answers ----

// apiErrorBody is the error body of the Files and Batches endpoints:
// OpenAI's shape with param and code null unless they mean something,
// and without request_id (recorded upload-file-error-nosse).
type apiErrorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// failAPI sends an error answer of the Files and Batches endpoints; an
// empty code or param is written as null.
func (x *exchange) failAPI(status int, typ, code, param, msg string) {
	var b apiErrorBody
	b.Error.Message, b.Error.Type = msg, typ
	if code != "" {
		b.Error.Code = &code
	}
	if param != "" {
		b.Error.Param = &param
	}
	x.writeAPI(status, contentJSON, marshal(b))
}

// badRequest is the usual 400 of a bad parameter.
func (x *exchange) badRequest(param, format string, args ...any) {
	x.failAPI(http.StatusBadRequest, "invalid_request_error", "", param, fmt.Sprintf(format, args...))
}

// contentBatchJSON is what the service's batch endpoints send; its file
// endpoints send plain application/json.
const contentBatchJSON = "application/json;charset=UTF-8"

func (x *exchange) writeAPI(status int, contentType string, body []byte) {
	x.h.record(status)
	x.setHeaders(contentType)
	x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
}

// ---- Files ----

// upload answers POST /files: multipart with the parts "file" and
// "purpose" ("batch" or "file-extract").
func (h *Handler) upload(x *exchange) {
	st := h.batch
	mr, err := x.r.MultipartReader()
	if err != nil {
		x.badRequest("file", "The request must be multipart/form-data with the parts 'file' and 'purpose': %v", err)
		return
	}
	var purpose, filename string
	var data []byte
	haveFile := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			x.abortIfGone()
			x.badRequest("file", "The multipart body is malformed: %v", err)
			return
		}
		switch part.FormName() {
		case "purpose":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				x.abortIfGone()
				x.badRequest("purpose", "Reading 'purpose' failed: %v", err)
				return
			}
			purpose = strings.TrimSpace(string(b))
		case "file":
			haveFile = true
			filename = part.FileName()
			data, err = io.ReadAll(io.LimitReader(part, st.opts.MaxFileBytes+1))
			if err != nil {
				x.abortIfGone()
				x.badRequest("file", "Reading 'file' failed: %v", err)
				return
			}
			if int64(len(data)) > st.opts.MaxFileBytes {
				x.badRequest("file", "The file is larger than %d bytes, the most a file may have.", st.opts.MaxFileBytes)
				return
			}
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				x.abortIfGone()
			}
		}
	}
	if !h.hook(x, "upload") {
		return
	}
	var prefix string
	switch purpose {
	case purposeBatch:
		prefix = "file-batch-"
	case purposeFileExtract:
		prefix = "file-fe-"
	default:
		x.badRequest("purpose", "'purpose' must be 'batch' or 'file-extract'")
		return
	}
	if !haveFile {
		x.badRequest("file", "Missing required parameter: 'file'.")
		return
	}
	if filename == "" {
		filename = "upload"
	}
	f := &storedFile{id: prefix + h.hexID(), filename: filename, purpose: purpose, created: h.now(), data: data}
	st.mu.Lock()
	st.seq++
	f.seq = st.seq
	st.files[f.id] = f
	st.mu.Unlock()
	st.uploaded.Add(1)
	x.writeAPI(http.StatusOK, contentJSON, marshal(f.object()))
}

// abortIfGone drops the connection when a body read failed because the
// client went away; otherwise the caller answers 400.
func (x *exchange) abortIfGone() {
	if x.r.Context().Err() != nil {
		panic(http.ErrAbortHandler)
	}
}

// hexID returns 24 fresh hex digits, the tail of the service's file ids.
func (h *Handler) hexID() string {
	return strings.ReplaceAll(h.newID(), "-", "")[:24]
}

// resultFile is a batch's output or error file as the Files API sees it.
type resultFile struct {
	b         *batch
	s         batchState
	errorFile bool
}

func (r *resultFile) id() string {
	if r.errorFile {
		return r.b.errorID
	}
	return r.b.outputID
}

// lookupFile finds an uploaded file or a result file that exists at now.
// Call with st.mu held.
func (st *batchStore) lookupFile(id string, now time.Time) (*storedFile, *resultFile) {
	if f := st.files[id]; f != nil {
		return f, nil
	}
	b := st.results[id]
	if b == nil {
		return nil, nil
	}
	r := &resultFile{b: b, s: b.state(now), errorFile: id == b.errorID}
	if r.errorFile && (!r.s.hasErrors() || b.errorGone) || !r.errorFile && (!r.s.hasOutput() || b.outputGone) {
		return nil, nil
	}
	return nil, r
}

// resultObject renders a result file, measuring it the first time: its
// content never changes once the batch is over.
func (h *Handler) resultObject(r *resultFile) fileObject {
	st := h.batch
	st.mu.Lock()
	size := r.b.outputSize
	if r.errorFile {
		size = r.b.errorSize
	}
	st.mu.Unlock()
	if size < 0 {
		size = r.b.resultSize(&r.s, r.errorFile, h.models)
		st.mu.Lock()
		if r.errorFile {
			r.b.errorSize = size
		} else {
			r.b.outputSize = size
		}
		st.mu.Unlock()
	}
	name := r.b.id + "_output.jsonl"
	if r.errorFile {
		name = r.b.id + "_error.jsonl"
	}
	return fileObject{ID: r.id(), Object: "file", Bytes: size, Filename: name,
		Purpose: purposeBatchOutput, Status: "processed", CreatedAt: r.s.ended.Unix()}
}

func (x *exchange) noSuchFile(id string) {
	x.failAPI(http.StatusNotFound, "invalid_request_error", "", "id", "No such File object: "+id)
}

func (h *Handler) getFile(x *exchange, id string, _ []byte) {
	st := h.batch
	st.mu.Lock()
	f, r := st.lookupFile(id, h.now())
	st.mu.Unlock()
	switch {
	case f != nil:
		x.writeAPI(http.StatusOK, contentJSON, marshal(f.object()))
	case r != nil:
		x.writeAPI(http.StatusOK, contentJSON, marshal(h.resultObject(r)))
	default:
		x.noSuchFile(id)
	}
}

func (h *Handler) deleteFile(x *exchange, id string, _ []byte) {
	st := h.batch
	st.mu.Lock()
	f, r := st.lookupFile(id, h.now())
	switch {
	case f != nil:
		delete(st.files, id)
	case r != nil && r.errorFile:
		r.b.errorGone = true
	case r != nil:
		r.b.outputGone = true
	}
	st.mu.Unlock()
	if f == nil && r == nil {
		x.noSuchFile(id)
		return
	}
	x.writeAPI(http.StatusOK, contentJSON, marshal(fileDeleted{ID: id, Object: "file", Deleted: true}))
}

// fileContent answers GET /files/{id}/content: the bytes of an upload, or
// the JSONL of a result file, generated as it is sent.
func (h *Handler) fileContent(x *exchange, id string, _ []byte) {
	st := h.batch
	st.mu.Lock()
	f, r := st.lookupFile(id, h.now())
	st.mu.Unlock()
	const contentType = "application/octet-stream"
	switch {
	case f != nil:
		x.writeAPI(http.StatusOK, contentType, f.data)
	case r != nil:
		size := h.resultObject(r).Bytes
		x.h.record(http.StatusOK)
		x.setHeaders(contentType)
		x.w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		x.w.WriteHeader(http.StatusOK)
		_ = r.b.writeResults(x.w, &r.s, r.errorFile, h.models) // a write error means the client left
	default:
		x.noSuchFile(id)
	}
}

// listFiles answers GET /files?after=&limit=&purpose=&create_after=&create_before=,
// newest first; the dates are yyyyMMdd in Beijing time.
func (h *Handler) listFiles(x *exchange, _ string, _ []byte) {
	q := x.r.URL.Query()
	limit, ok := x.listLimit(q)
	if !ok {
		return
	}
	after, before, ok := x.createRange(q, "20060102")
	if !ok {
		return
	}
	purpose := q.Get("purpose")
	now := h.now()

	// Collect every file that exists now, uploads and result files.
	type entry struct {
		created time.Time
		seq     uint64
		f       *storedFile
		r       *resultFile
	}
	st := h.batch
	var all []entry
	st.mu.Lock()
	for _, f := range st.files {
		all = append(all, entry{f.created, f.seq, f, nil})
	}
	for _, b := range st.order {
		for _, id := range []string{b.outputID, b.errorID} {
			if _, r := st.lookupFile(id, now); r != nil {
				all = append(all, entry{r.s.ended, b.seq, nil, r})
			}
		}
	}
	st.mu.Unlock()
	slices.SortFunc(all, func(a, b entry) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		if c := cmp.Compare(b.seq, a.seq); c != 0 {
			return c
		}
		if a.r != nil && b.r != nil && a.r.errorFile != b.r.errorFile {
			if a.r.errorFile {
				return 1
			}
			return -1
		}
		return 0
	})
	id := func(e entry) string {
		if e.f != nil {
			return e.f.id
		}
		return e.r.id()
	}
	if a := q.Get("after"); a != "" {
		// An unknown cursor has nothing after it.
		i := slices.IndexFunc(all, func(e entry) bool { return id(e) == a })
		if i < 0 {
			all = nil
		} else {
			all = all[i+1:]
		}
	}
	var out fileList
	out.Object = "list"
	for _, e := range all {
		p := purposeBatchOutput
		if e.f != nil {
			p = e.f.purpose
		}
		if purpose != "" && p != purpose || !after.IsZero() && e.created.Before(after) || !before.IsZero() && !e.created.Before(before) {
			continue
		}
		if len(out.Data) == limit {
			out.HasMore = true
			break
		}
		if e.f != nil {
			out.Data = append(out.Data, e.f.object())
		} else {
			out.Data = append(out.Data, h.resultObject(e.r))
		}
	}
	x.writeAPI(http.StatusOK, contentJSON, marshal(out))
}

// listLimit reads limit (1–100, default 20, notes §5).
func (x *exchange) listLimit(q url.Values) (int, bool) {
	s := q.Get("limit")
	if s == "" {
		return 20, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		x.badRequest("limit", "limit must be an integer from 1 to 100, got %q.", s)
		return 0, false
	}
	return n, true
}

// beijing is the time zone of the list filters' dates.
var beijing = time.FixedZone("CST", 8*3600)

// createRange reads create_after and create_before in layout; zero times
// mean no bound.
func (x *exchange) createRange(q url.Values, layout string) (after, before time.Time, ok bool) {
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"create_after", &after}, {"create_before", &before}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		t, err := time.ParseInLocation(layout, s, beijing)
		if err != nil {
			x.badRequest(p.name, "%s must be a date as %s in Beijing time, got %q.", p.name, layout, s)
			return time.Time{}, time.Time{}, false
		}
		*p.t = t
	}
	return after, before, true
}
