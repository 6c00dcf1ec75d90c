package model

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout is the per-request timeout when a config leaves it 0. It
// matches the DashScope SDK's default; thinking models can take minutes.
const DefaultTimeout = 5 * time.Minute

// checkRequest rejects requests no server could answer, before sending. A
// missing model, an unknown role or response format comes from the run's
// configuration and would fail every row alike, so it is fatal; an empty
// message list belongs to the row.
func checkRequest(req Request) error {
	if req.Model == "" {
		return &APIError{Class: Fatal, Message: "no model name in the request", Hint: "set --model"}
	}
	if len(req.Messages) == 0 {
		return &APIError{Class: RowFinal, Message: "request has no messages"}
	}
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return &APIError{
				Class:   Fatal,
				Message: fmt.Sprintf("message %d has role %q", i+1, m.Role),
				Hint:    "use the roles system, user or assistant",
			}
		}
	}
	switch req.ResponseFormat {
	case "", "text", "json_object":
	case "json_schema":
		if len(req.JSONSchema) == 0 {
			return &APIError{Class: Fatal, Message: "response format json_schema without a schema", Hint: "declare fields: or schema: in the job file"}
		}
	default:
		return &APIError{
			Class:   Fatal,
			Message: fmt.Sprintf("unknown response format %q", req.ResponseFormat),
			Hint:    `use "text", "json_object" or "json_schema"`,
		}
	}
	return nil
}

// thinking reports whether the request asks for thinking mode, which
// DashScope only serves as a stream for several models.
func thinking(req Request) bool {
	return req.EnableThinking != nil && *req.EnableThinking
}

// stopValue is the JSON value of "stop": one sequence is sent as a plain
// string, several as an array; both protocols accept either.
func stopValue(stop []string) any {
	switch len(stop) {
	case 0:
		return nil
	case 1:
		return stop[0]
	}
	return stop
}

// resolveTimeout applies the default and rejects nonsense.
func resolveTimeout(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return DefaultTimeout, nil
	case d < 0:
		return 0, fmt.Errorf("timeout %s: must not be negative", d)
	}
	return d, nil
}

// defaultHTTPClient is used when a config brings none. The standard
// transport keeps only 2 idle connections per host, which under a
// concurrency of dozens of requests to one host means a new TLS handshake
// for most requests; keep more. Its connects are timed by timer (see
// RoundTripHinter).
func defaultHTTPClient(timer *connTimer) *http.Client {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{}
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = 256
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second} // as http.DefaultTransport's
	t.DialContext = timer.wrap(dialer.DialContext)
	return &http.Client{Transport: t}
}
