package model

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// clientMode is one way of calling the service: protocol × streaming.
type clientMode struct {
	name        string
	contentType string
	// partial is the start of a valid answer, cut off.
	partial   string
	newClient func(t *testing.T, url string, timeout time.Duration) Client
}

var clientModes = []clientMode{
	{
		name: "openai", contentType: "application/json",
		partial: `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`,
		newClient: func(t *testing.T, url string, timeout time.Duration) Client {
			return newTestOpenAI(t, url, OpenAIConfig{Timeout: timeout})
		},
	},
	{
		name: "openai-stream", contentType: "text/event-stream",
		partial: "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
		newClient: func(t *testing.T, url string, timeout time.Duration) Client {
			return newTestOpenAI(t, url, OpenAIConfig{Timeout: timeout, Stream: true})
		},
	},
	{
		name: "dashscope", contentType: "application/json",
		partial: `{"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":"Hel`,
		newClient: func(t *testing.T, url string, timeout time.Duration) Client {
			return newTestDashScope(t, url, DashScopeConfig{Timeout: timeout})
		},
	},
	{
		name: "dashscope-stream", contentType: "text/event-stream;charset=UTF-8",
		partial: "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"Hel\",\"role\":\"assistant\"},\"finish_reason\":\"null\"}]},\"usage\":{\"input_tokens\":1,\"output_tokens\":1,\"total_tokens\":2},\"request_id\":\"r\"}\n\n",
		newClient: func(t *testing.T, url string, timeout time.Duration) Client {
			return newTestDashScope(t, url, DashScopeConfig{Timeout: timeout, Stream: true})
		},
	},
}

// resetAfter writes a chunked 200 with part of a body, then resets the
// connection (SO_LINGER 0 makes Close send RST).
func resetAfter(t *testing.T, contentType, part string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", contentType, len(part), part)
		_ = buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// truncated declares a longer body than it sends.
func truncated(contentType, part string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(part)+5000))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(part))
	}
}

// hang answers nothing (or only part of the body) until the client gives
// up or the test ends.
func hang(done <-chan struct{}, arrived chan<- struct{}, contentType, part string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if part != "" {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(part))
			w.(http.Flusher).Flush()
		}
		if arrived != nil {
			arrived <- struct{}{}
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func TestTransportFaults(t *testing.T) {
	faults := []struct {
		name    string
		handler func(t *testing.T, m clientMode, done <-chan struct{}) http.HandlerFunc
		timeout bool
	}{
		{"reset mid-body", func(t *testing.T, m clientMode, _ <-chan struct{}) http.HandlerFunc {
			return resetAfter(t, m.contentType, m.partial)
		}, false},
		{"truncated body", func(t *testing.T, m clientMode, _ <-chan struct{}) http.HandlerFunc {
			return truncated(m.contentType, m.partial)
		}, false},
		{"no answer before timeout", func(t *testing.T, m clientMode, done <-chan struct{}) http.HandlerFunc {
			return hang(done, nil, "", "")
		}, true},
		{"stalls mid-body past timeout", func(t *testing.T, m clientMode, done <-chan struct{}) http.HandlerFunc {
			return hang(done, nil, m.contentType, m.partial)
		}, true},
	}
	for _, f := range faults {
		for _, m := range clientModes {
			t.Run(f.name+"/"+m.name, func(t *testing.T) {
				done := make(chan struct{})
				srv := newTestServer(t, f.handler(t, m, done))
				t.Cleanup(func() { close(done) }) // runs before srv.Close
				c := m.newClient(t, srv.URL, 300*time.Millisecond)
				_, err := c.Complete(context.Background(), userRequest("hi"))
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err = %v (%T), want *APIError", err, err)
				}
				if ae.Class != Retryable {
					t.Errorf("class = %v, want retryable: %v", ae.Class, err)
				}
				if errors.Is(err, ErrTimeout) != f.timeout {
					t.Errorf("errors.Is(err, ErrTimeout) = %v, want %v: %v", !f.timeout, f.timeout, err)
				}
				if n := len(srv.requests()); n != 1 {
					t.Errorf("server got %d requests, want 1", n)
				}
			})
		}
	}
}

func TestCallerCancel(t *testing.T) {
	for _, m := range clientModes {
		for _, midBody := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/midBody=%v", m.name, midBody), func(t *testing.T) {
				done := make(chan struct{})
				arrived := make(chan struct{}, 1)
				part := ""
				if midBody {
					part = m.partial
				}
				srv := newTestServer(t, hang(done, arrived, m.contentType, part))
				t.Cleanup(func() { close(done) })
				c := m.newClient(t, srv.URL, time.Hour)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					<-arrived
					cancel()
				}()
				_, err := c.Complete(ctx, userRequest("hi"))
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
				if ClassOf(err) != Fatal {
					t.Errorf("ClassOf = %v, want fatal (the run is stopping)", ClassOf(err))
				}
				var ae *APIError
				if errors.As(err, &ae) {
					t.Errorf("cancellation reported as *APIError: %v", ae)
				}
			})
		}
	}
}

// TestAPIKeyNeverInErrors runs every error path, including servers that
// echo the key back, and checks the key is in no error text.
func TestAPIKeyNeverInErrors(t *testing.T) {
	type scenario struct {
		name    string
		handler http.HandlerFunc
	}
	var scenarios []scenario
	for _, tc := range compatErrors {
		scenarios = append(scenarios, scenario{tc.dir + "/" + tc.name, replayHandler(loadRecording(t, tc.dir, tc.name))})
	}
	for _, name := range []string{"stream-error-frame", "stream-truncated"} {
		scenarios = append(scenarios, scenario{"compat/" + name, replayHandler(loadRecording(t, "compat", name))})
	}
	for _, name := range []string{"auth-error-nosse", "parameter-error-nosse", "parameter-error-sse"} {
		scenarios = append(scenarios, scenario{"recorded/" + name, replayHandler(loadRecording(t, "recorded", name))})
	}
	for _, name := range []string{"throttling-429", "arrearage-400", "bad-gateway-502-text", "stream-truncated-sse"} {
		scenarios = append(scenarios, scenario{"native/" + name, replayHandler(loadRecording(t, "native", name))})
	}
	echo := func(status int, contentType, format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			fmt.Fprintf(w, format, r.Header.Get("Authorization"))
		}
	}
	scenarios = append(scenarios,
		scenario{"echo compat", echo(401, "application/json", `{"error":{"message":"Incorrect API key provided: %s","code":"invalid_api_key"}}`)},
		scenario{"echo native", echo(401, "application/json", `{"code":"InvalidApiKey","message":"bad %s"}`)},
		scenario{"echo text", echo(500, "text/plain", "upstream rejected header Authorization: %s")},
		scenario{"echo compat stream frame", echo(200, "text/event-stream", "data: {\"error\":{\"message\":\"%s\",\"code\":\"x\"}}\n\n")},
		scenario{"echo native stream frame", echo(200, "text/event-stream", "id:1\nevent:error\n:HTTP_STATUS/401\ndata:{\"code\":\"InvalidApiKey\",\"message\":\"%s\"}\n\n")},
		scenario{"echo as code", echo(400, "application/json", `{"code":"%s","message":"x"}`)},
	)
	for _, sc := range scenarios {
		for _, m := range clientModes {
			t.Run(sc.name+"/"+m.name, func(t *testing.T) {
				srv := newTestServer(t, sc.handler)
				c := m.newClient(t, srv.URL, 5*time.Second)
				_, err := c.Complete(context.Background(), userRequest("hi"))
				if err == nil {
					t.Fatalf("no error")
				}
				for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					if strings.Contains(s, testKey) {
						t.Errorf("error text contains the API key: %s", s)
					}
				}
			})
		}
	}
	// Transport failures too.
	for _, m := range clientModes {
		t.Run("refused/"+m.name, func(t *testing.T) {
			srv := newTestServer(t, func(http.ResponseWriter, *http.Request) {})
			url := srv.URL
			srv.Close()
			_, err := m.newClient(t, url, 5*time.Second).Complete(context.Background(), userRequest("hi"))
			if err == nil || strings.Contains(err.Error(), testKey) || ClassOf(err) != Retryable {
				t.Errorf("err = %v (class %v)", err, ClassOf(err))
			}
		})
	}
}
