package modeltest

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Server is a running simulator on a loopback port.
type Server struct {
	h  *Handler
	ts *httptest.Server
}

// NewServer starts a simulator on 127.0.0.1 at a free port. Like
// httptest.NewServer it panics if it cannot listen; programs should use
// Listen. The caller must Close it.
func NewServer(opts Options) *Server {
	h := NewHandler(opts)
	ts := httptest.NewUnstartedServer(h)
	configure(ts.Config)
	ts.Start()
	return &Server{h: h, ts: ts}
}

// Listen starts a simulator on addr ("" means 127.0.0.1 at a free port).
// It is what `bulkgen run --sim` uses.
func Listen(addr string, opts Options) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start model simulator on %s: %w", addr, err)
	}
	h := NewHandler(opts)
	ts := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	configure(ts.Config)
	ts.Start()
	return &Server{h: h, ts: ts}, nil
}

func configure(srv *http.Server) {
	// A client that never finishes its headers must not pin a goroutine.
	srv.ReadHeaderTimeout = 30 * time.Second
	// net/http logs protocol noise (bad requests, TLS probes) per
	// connection; a simulator inside a CLI run must stay quiet.
	srv.ErrorLog = log.New(io.Discard, "", 0)
}

// URL returns the base URL, "http://127.0.0.1:<port>".
func (s *Server) URL() string { return s.ts.URL }

// CompatibleBaseURL returns the OpenAI-compatible base URL, the one to give
// an OpenAI SDK: URL() + "/compatible-mode/v1".
func (s *Server) CompatibleBaseURL() string { return s.ts.URL + "/compatible-mode/v1" }

// NativeBaseURL returns the DashScope native base URL: URL() + "/api/v1".
func (s *Server) NativeBaseURL() string { return s.ts.URL + "/api/v1" }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.h.Stats() }

// Close stops the server and returns once every handler has finished. It
// does not wait for hanging or slow requests: they are released and their
// connections closed. It is safe to call more than once.
func (s *Server) Close() {
	s.h.Close()
	s.ts.CloseClientConnections()
	s.ts.Close()
}
