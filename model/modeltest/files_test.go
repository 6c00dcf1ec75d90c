package modeltest

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFilesRoundTrip uploads, reads, lists and deletes a file.
func TestFilesRoundTrip(t *testing.T) {
	tests := []struct {
		purpose, prefix string
	}{
		{"batch", "file-batch-"},
		{"file-extract", "file-fe-"},
	}
	for _, tt := range tests {
		t.Run(tt.purpose, func(t *testing.T) {
			s, clk := startClocked(t, BatchOptions{})
			base := s.CompatibleBaseURL()
			data := []byte(fourLines())
			a := upload(t, s, tt.purpose, data)
			if a.status != http.StatusOK {
				t.Fatalf("upload: status %d: %s", a.status, a.body)
			}
			f := decode(t, a.body)
			id := str(f, "id")
			want := map[string]any{"object": "file", "bytes": float64(len(data)), "filename": "input.jsonl",
				"purpose": tt.purpose, "status": "processed", "created_at": float64(clk.Now().Unix())}
			for k, v := range want {
				if f[k] != v {
					t.Errorf("%s = %v, want %v", k, f[k], v)
				}
			}
			if !strings.HasPrefix(id, tt.prefix) || len(id) != len(tt.prefix)+24 {
				t.Errorf("id %q, want %s + 24 hex digits", id, tt.prefix)
			}

			if g := call(t, http.MethodGet, base+"/files/"+id, "", nil); g.status != 200 || !bytes.Equal(g.body, a.body) {
				t.Errorf("get: status %d %s, want the upload answer %s", g.status, g.body, a.body)
			}
			if c := call(t, http.MethodGet, base+"/files/"+id+"/content", "", nil); c.status != 200 || !bytes.Equal(c.body, data) {
				t.Errorf("content: status %d, %d bytes, want the uploaded %d", c.status, len(c.body), len(data))
			}
			l := decode(t, call(t, http.MethodGet, base+"/files?purpose="+tt.purpose, "", nil).body)
			if str(l, "object") != "list" || str(l, "data.0.id") != id || l["has_more"] != false {
				t.Errorf("list: %v", l)
			}
			for _, k := range []string{"first_id", "last_id"} {
				if _, ok := l[k]; ok {
					t.Errorf("file list has %s; the service's has not", k)
				}
			}

			d := call(t, http.MethodDelete, base+"/files/"+id, "", nil)
			if m := decode(t, d.body); d.status != 200 || str(m, "id") != id || str(m, "object") != "file" || m["deleted"] != true {
				t.Errorf("delete: status %d %s", d.status, d.body)
			}
			for _, req := range []struct{ method, path string }{
				{http.MethodGet, "/files/" + id}, {http.MethodGet, "/files/" + id + "/content"}, {http.MethodDelete, "/files/" + id},
			} {
				a := call(t, req.method, base+req.path, "", nil)
				if a.status != http.StatusNotFound {
					t.Errorf("%s %s after delete: status %d", req.method, req.path, a.status)
					continue
				}
				assertAPIError(t, decode(t, a.body), "invalid_request_error", "id")
			}
			if st := s.Stats(); st.FilesUploaded != 1 {
				t.Errorf("FilesUploaded %d", st.FilesUploaded)
			}
		})
	}
}

// TestUploadErrors checks the uploads the Files API refuses.
func TestUploadErrors(t *testing.T) {
	s := start(t, Options{Batch: BatchOptions{MaxFileBytes: 10}})
	url := s.CompatibleBaseURL() + "/files"
	tests := []struct {
		name    string
		purpose string
		data    []byte
		ct      string // overrides the multipart content type
		status  int
		param   string
	}{
		{"fits", "batch", []byte("0123456789"), "", 200, ""},
		{"too large", "batch", []byte("0123456789x"), "", 400, "file"},
		{"fine-tune purpose", "fine-tune", []byte("x"), "", 400, "purpose"},
		{"no purpose", "", []byte("x"), "", 400, "purpose"},
		{"no file", "batch", nil, "", 400, "file"},
		{"not multipart", "batch", []byte("x"), "application/json", 400, "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := multipartBody(t, tt.purpose, "in.jsonl", tt.data)
			if tt.ct != "" {
				ct = tt.ct
			}
			a := call(t, http.MethodPost, url, ct, body)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.status != 200 {
				assertAPIError(t, decode(t, a.body), "invalid_request_error", tt.param)
			}
		})
	}
	if st := s.Stats(); st.FilesUploaded != 1 {
		t.Errorf("FilesUploaded %d, want 1", st.FilesUploaded)
	}
}

// TestBatchAPIRoutes checks methods, unknown paths and authentication.
func TestBatchAPIRoutes(t *testing.T) {
	s := start(t, Options{APIKey: testKey})
	base := s.CompatibleBaseURL()
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodDelete, "/files", 405, "POST, GET"},
		{http.MethodPost, "/files/file-x", 405, "GET, DELETE"},
		{http.MethodPost, "/files/file-x/content", 405, "GET"},
		{http.MethodPut, "/batches", 405, "POST, GET"},
		{http.MethodDelete, "/batches/batch_x", 405, "GET"},
		{http.MethodGet, "/batches/batch_x/cancel", 405, "POST"},
		{http.MethodGet, "/files/a/b/c", 404, ""},
		{http.MethodGet, "/batches/batch_x/results", 404, ""},
		{http.MethodGet, "/files/file-nope", 404, ""},
		{http.MethodGet, "/batches/batch_nope", 404, ""},
		{http.MethodGet, "/files", 200, ""},
		{http.MethodGet, "/files/", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			a := call(t, tt.method, base+tt.path, "", nil)
			if a.status != tt.status || a.header.Get("Allow") != tt.allow {
				t.Fatalf("status %d Allow %q, want %d %q: %s", a.status, a.header.Get("Allow"), tt.status, tt.allow, a.body)
			}
			if a.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if tt.status != 200 {
				m := decode(t, a.body)
				if str(m, "error.type") != "invalid_request_error" || str(m, "error.message") == "" {
					t.Errorf("body %s", a.body)
				}
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		for _, path := range []string{"/files", "/batches", "/batches/batch_x/cancel"} {
			a := post(t, base+path, "{}", "Authorization", "Bearer sk-wrong")
			if a.status != http.StatusUnauthorized || str(decode(t, a.body), "error.code") != "invalid_api_key" {
				t.Errorf("POST %s: status %d %s", path, a.status, a.body)
			}
		}
	})
}

// TestListFiles checks paging, the purpose filter, result files and the
// date filters.
func TestListFiles(t *testing.T) {
	s, clk := startClocked(t, BatchOptions{ValidateTime: -1, FinalizeTime: -1})
	base := s.CompatibleBaseURL()
	day0 := clk.Now().In(beijing).Format("20060102")
	f1 := uploadOK(t, s, fourLines())
	clk.Advance(time.Second)
	a := upload(t, s, "file-extract", []byte("text"))
	f2 := str(decode(t, a.body), "id")
	clk.Advance(time.Second)
	f3 := uploadOK(t, s, jsonl(chatLine("1", "qwen-plus", "x"), chatLine("2", "qwen-plus", "y [[sim:inspect]]")))
	clk.Advance(time.Second)
	b := getBatch(t, s, createOK(t, s, f3)) // completes at once
	out, errs := str(b, "output_file_id"), str(b, "error_file_id")
	day1 := clk.Now().In(beijing).Add(24 * time.Hour).Format("20060102")

	tests := []struct {
		query   string
		want    []string
		hasMore bool
	}{
		{"", []string{out, errs, f3, f2, f1}, false},
		{"limit=2", []string{out, errs}, true},
		{"limit=2&after=" + errs, []string{f3, f2}, true},
		{"after=" + f2, []string{f1}, false},
		{"after=file-unknown", nil, false},
		{"purpose=batch", []string{f3, f1}, false},
		{"purpose=batch_output", []string{out, errs}, false},
		{"purpose=file-extract", []string{f2}, false},
		{"create_after=" + day0, []string{out, errs, f3, f2, f1}, false},
		{"create_after=" + day1, nil, false},
		{"create_before=" + day0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := call(t, http.MethodGet, base+"/files?"+tt.query, "", nil)
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			m := decode(t, a.body)
			var got []string
			data, _ := m["data"].([]any)
			for _, f := range data {
				got = append(got, str(f, "id"))
			}
			if !slices.Equal(got, tt.want) || m["has_more"] != tt.hasMore {
				t.Errorf("ids %v has_more %v, want %v %v", got, m["has_more"], tt.want, tt.hasMore)
			}
		})
	}

	// Result files read like uploads.
	a = call(t, http.MethodGet, base+"/files/"+out, "", nil)
	o := decode(t, a.body)
	c := content(t, s, out)
	if str(o, "purpose") != "batch_output" || num(o, "bytes") != len(c) || !strings.HasPrefix(out, "file-batch_output-") ||
		!strings.HasPrefix(errs, "file-batch_output-") {
		t.Errorf("output file object %v (content %d bytes)", o, len(c))
	}
	if d := call(t, http.MethodDelete, base+"/files/"+errs, "", nil); d.status != 200 {
		t.Fatalf("delete error file: %d", d.status)
	}
	if a := call(t, http.MethodGet, base+"/files/"+errs+"/content", "", nil); a.status != 404 {
		t.Errorf("content of a deleted error file: status %d", a.status)
	}
	if got := str(getBatch(t, s, str(b, "id")), "error_file_id"); got != errs {
		t.Errorf("error_file_id %q after its file was deleted, want it kept", got)
	}
	for _, q := range []string{"limit=0", "limit=x", "create_after=2026"} {
		if a := call(t, http.MethodGet, base+"/files?"+q, "", nil); a.status != 400 {
			t.Errorf("%s: status %d", q, a.status)
		}
	}
}
