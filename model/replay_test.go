package model

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// recording is one stored HTTP answer.
type recording struct {
	status int
	header http.Header
	body   []byte
}

// loadRecording reads testdata/<dir>/<name>.response.{header,body}.txt.
// The UTF-8 BOM some files start with is not part of the wire data, and
// the stored bodies are decompressed and reformatted, so the recorded
// Content-Length / Content-Encoding / Transfer-Encoding no longer apply.
func loadRecording(t testing.TB, dir, name string) recording {
	t.Helper()
	base := filepath.Join("testdata", dir, name)
	head, err := os.ReadFile(base + ".response.header.txt")
	if err != nil {
		t.Fatalf("load recording: %v", err)
	}
	body, err := os.ReadFile(base + ".response.body.txt")
	if err != nil {
		t.Fatalf("load recording: %v", err)
	}
	rec := recording{header: http.Header{}, body: trimBOM(body)}
	sc := bufio.NewScanner(bytes.NewReader(trimBOM(head)))
	first := true
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		if first {
			first = false
			fields := strings.Fields(line)
			if len(fields) < 2 || !strings.HasPrefix(fields[0], "HTTP/") {
				t.Fatalf("%s: first line %q is not a status line", base, line)
			}
			rec.status, err = strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("%s: status %q: %v", base, fields[1], err)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("%s: header line %q", base, line)
		}
		switch http.CanonicalHeaderKey(strings.TrimSpace(k)) {
		case "Content-Length", "Content-Encoding", "Transfer-Encoding":
			continue
		}
		rec.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if rec.status == 0 {
		t.Fatalf("%s: no status line", base)
	}
	return rec
}

// captured is one request as the test server saw it.
type captured struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// testServer records every request and hands it to a handler.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
}

func newTestServer(t testing.TB, h http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, captured{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// newReplayServer answers every request with rec.
func newReplayServer(t testing.TB, rec recording) *testServer {
	t.Helper()
	return newTestServer(t, replayHandler(rec))
}

func replayHandler(rec recording) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range rec.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	}
}

func (s *testServer) requests() []captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]captured(nil), s.reqs...)
}

// onlyRequest returns the single request the server got.
func (s *testServer) onlyRequest(t *testing.T) captured {
	t.Helper()
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

const testKey = "sk-test-0123456789abcdef-SECRET"

func newTestDashScope(t *testing.T, baseURL string, cfg DashScopeConfig) *DashScopeClient {
	t.Helper()
	cfg.BaseURL = baseURL
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	c, err := NewDashScope(cfg)
	if err != nil {
		t.Fatalf("NewDashScope: %v", err)
	}
	return c
}

func newTestOpenAI(t *testing.T, baseURL string, cfg OpenAIConfig) *OpenAIClient {
	t.Helper()
	cfg.BaseURL = baseURL
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	c, err := NewOpenAI(cfg)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return c
}

func userRequest(text string) Request {
	return Request{Model: "qwen-plus", Messages: []Message{{Role: "user", Content: text}}}
}

func ptr[T any](v T) *T { return &v }
