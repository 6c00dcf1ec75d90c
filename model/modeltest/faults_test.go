package modeltest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	compatReq = `{"model":"qwen-plus","messages":[{"role":"user","content":"Summarise: the quick brown fox jumps over the lazy dog."}]}`
	nativeReq = `{"model":"qwen-plus","input":{"messages":[{"role":"user","content":"Summarise: the quick brown fox jumps over the lazy dog."}]},"parameters":{"result_format":"message"}}`
)

// always returns a Fault hook that injects f into every request.
func always(f Fault) func(int64, []byte) Fault {
	return func(int64, []byte) Fault { return f }
}

// TestFaultErrorBodies checks every HTTP-level fault in both protocols.
func TestFaultErrorBodies(t *testing.T) {
	tests := []struct {
		fault                   Fault
		status                  int
		compatCode, compatType  string
		nativeCode, msgContains string
	}{
		{Fault429, 429, "limit_requests", "limit_requests", "Throttling.RateQuota", "Requests rate limit exceeded"},
		{Fault429Quota, 429, "insufficient_quota", "insufficient_quota", "Throttling.AllocationQuota", "quota"},
		{Fault500, 500, "internal_error", "internal_error", "InternalError", "internal error"},
		{Fault503, 503, "ModelUnavailable", "ModelUnavailable", "ModelUnavailable", "unavailable"},
		{FaultDataInspection, 400, "data_inspection_failed", "data_inspection_failed", "DataInspectionFailed", "Input data may contain inappropriate content."},
		{FaultArrearage, 400, "Arrearage", "Arrearage", "Arrearage", "Access denied, please make sure your account is in good standing."},
		{FaultInvalidKey, 401, "invalid_api_key", "invalid_request_error", "InvalidApiKey", "API"},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			s := start(t, Options{Fault: always(tt.fault)})

			a := post(t, compatURL(s), compatReq)
			got := decode(t, a.body)
			if a.status != tt.status || str(got, "error.code") != tt.compatCode || str(got, "error.type") != tt.compatType ||
				!strings.Contains(str(got, "error.message"), tt.msgContains) {
				t.Errorf("compatible: status %d body %s", a.status, a.body)
			}
			if p, ok := get(got, "error").(map[string]any)["param"]; !ok || p != nil {
				t.Errorf("compatible: param %v (present %v), want null", p, ok)
			}
			if id := a.header.Get("X-Request-Id"); id == "" || str(got, "request_id") != id {
				t.Errorf("compatible: request_id %q, header %q", str(got, "request_id"), id)
			}
			if a.header.Get("Retry-After") != "" {
				t.Errorf("compatible: Retry-After %q sent by default", a.header.Get("Retry-After"))
			}

			a = post(t, nativeURL(s), nativeReq)
			got = decode(t, a.body)
			if a.status != tt.status || str(got, "code") != tt.nativeCode || !strings.Contains(str(got, "message"), tt.msgContains) &&
				!strings.Contains(strings.ToLower(str(got, "message")), strings.ToLower(tt.msgContains)) {
				t.Errorf("native: status %d body %s", a.status, a.body)
			}
			if len(got) != 3 || str(got, "request_id") != a.header.Get("X-Request-Id") {
				t.Errorf("native: body %s, x-request-id %q", a.body, a.header.Get("X-Request-Id"))
			}

			// A native stream reports the error in an event:error frame.
			a = post(t, nativeURL(s), nativeReq, sse...)
			evs := parseNativeSSE(t, a.body)
			if a.status != http.StatusOK || len(evs) != 1 || evs[0].event != "error" || evs[0].status != fmt.Sprint("HTTP_STATUS/", tt.status) ||
				str(decode(t, []byte(evs[0].data)), "code") != tt.nativeCode {
				t.Errorf("native stream: status %d events %+v", a.status, evs)
			}

			st := s.Stats()
			if st.ByStatus[tt.status] != 3 || st.Faults != 3 || st.OK != 0 {
				t.Errorf("stats %+v", st)
			}
			wantThrottled := int64(0)
			if tt.status == http.StatusTooManyRequests {
				wantThrottled = 3
			}
			if st.Throttled != wantThrottled {
				t.Errorf("throttled %d, want %d", st.Throttled, wantThrottled)
			}
		})
	}
}

func TestRetryAfterOption(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := start(t, Options{Fault: always(Fault429), RetryAfter: on})
		for _, url := range []string{compatURL(s), nativeURL(s)} {
			body := compatReq
			if url == nativeURL(s) {
				body = nativeReq
			}
			a := post(t, url, body)
			if got := a.header.Get("Retry-After"); (got != "") != on || on && got != "1" {
				t.Errorf("RetryAfter %v, %s: Retry-After %q", on, url, got)
			}
		}
	}
}

func TestFaultReset(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
			s := start(t, Options{Fault: always(FaultReset)})
			body := compatReq
			if stream {
				body = strings.Replace(compatReq, `"messages"`, `"stream":true,"messages"`, 1)
			}
			a, err := tryPost(context.Background(), compatURL(s), body)
			if err == nil {
				err = a.readErr
			}
			if err == nil {
				t.Fatalf("no error; got status %d body %q", a.status, a.body)
			}
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("error %v, want connection reset", err)
			}
		})
	}
}

func TestFaultTruncated(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		body      string
		headers   []string
	}{
		{"compatible", CompatiblePath, compatReq, nil},
		{"compatible stream", CompatiblePath, strings.Replace(compatReq, `"messages"`, `"stream":true,"messages"`, 1), nil},
		{"native", NativePath, nativeReq, nil},
		{"native stream", NativePath, nativeReq, sse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{Fault: always(FaultTruncated)})
			a := post(t, s.URL()+tt.url, tt.body, tt.headers...)
			if a.status != http.StatusOK || !errors.Is(a.readErr, io.ErrUnexpectedEOF) {
				t.Errorf("status %d, read error %v, body %q", a.status, a.readErr, a.body)
			}
			if len(a.body) == 0 {
				t.Error("no partial body before the cut")
			}
		})
	}
}

// TestFaultHang checks that a hanging request ends when the client gives
// up, and that Close releases one that is still hanging.
func TestFaultHang(t *testing.T) {
	s := NewServer(Options{Fault: always(FaultHang)})
	defer s.Close()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := tryPost(ctx, compatURL(s), compatReq)
		errc <- err
	}()
	waitFor(t, "request in flight", func() bool { return s.Stats().InFlight == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request returned %v", err)
	}
	waitFor(t, "handler released", func() bool { return s.Stats().InFlight == 0 })

	go func() {
		_, err := tryPost(context.Background(), nativeURL(s), nativeReq)
		errc <- err
	}()
	waitFor(t, "second request in flight", func() bool { return s.Stats().InFlight == 1 })
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second): // a hang guard, not a speed check
		t.Fatal("Close did not return while a request was hanging")
	}
	if err := <-errc; err == nil {
		t.Error("hanging request got an answer after Close")
	}
	if st := s.Stats(); st.InFlight != 0 || len(st.ByStatus) != 0 {
		t.Errorf("stats after close %+v", st)
	}
}

// TestCloseReleasesSlowRequests checks that latency sleeps do not hold
// Close up.
func TestCloseReleasesSlowRequests(t *testing.T) {
	s := NewServer(Options{Latency: time.Hour})
	errc := make(chan error, 1)
	go func() {
		_, err := tryPost(context.Background(), compatURL(s), compatReq)
		errc <- err
	}()
	waitFor(t, "request in flight", func() bool { return s.Stats().InFlight == 1 })
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while a request was sleeping")
	}
	if err := <-errc; err == nil {
		t.Error("slow request got an answer after Close")
	}
}

// waitFor polls cond, failing the test after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestFaultHookSequence(t *testing.T) {
	var mu sync.Mutex
	var seen []int64
	s := start(t, Options{Fault: func(n int64, body []byte) Fault {
		mu.Lock()
		seen = append(seen, n)
		mu.Unlock()
		if !strings.Contains(string(body), "qwen-plus") {
			return Fault500
		}
		if n <= 2 {
			return Fault503
		}
		return FaultNone
	}})
	var statuses []int
	for i := 0; i < 4; i++ {
		statuses = append(statuses, post(t, compatURL(s), compatReq).status)
	}
	if fmt.Sprint(statuses) != "[503 503 200 200]" || fmt.Sprint(seen) != "[1 2 3 4]" {
		t.Errorf("statuses %v, hook saw %v", statuses, seen)
	}
	if st := s.Stats(); st.Faults != 2 || st.OK != 2 || st.Requests != 4 {
		t.Errorf("stats %+v", st)
	}
}

// TestFaultRate checks that FaultRate draws from Faults, deterministically
// for a seed.
func TestFaultRate(t *testing.T) {
	run := func() []int {
		s := start(t, Options{FaultRate: 0.5, Faults: []Fault{Fault500, Fault503}, Seed: 7})
		var out []int
		for i := 0; i < 40; i++ {
			out = append(out, post(t, compatURL(s), compatReq).status)
		}
		return out
	}
	first := run()
	counts := map[int]int{}
	for _, st := range first {
		counts[st]++
	}
	if counts[200] == 0 || counts[500] == 0 || counts[503] == 0 || len(counts) != 3 {
		t.Errorf("statuses %v", counts)
	}
	if second := run(); fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("same seed, different faults:\n%v\n%v", first, second)
	}
}

func TestContentMarkers(t *testing.T) {
	s := start(t, Options{})
	msg := func(content string) string {
		return `{"model":"qwen-plus","messages":[{"role":"user","content":"` + content + `"}]}`
	}
	tests := []struct {
		content  string
		statuses []int
		code     string
	}{
		{"review text [[sim:inspect]]", []int{400, 400}, "data_inspection_failed"},
		{"[[sim:500]] please", []int{500, 500}, "internal_error"},
		{"[[sim:arrearage]]", []int{400}, "Arrearage"},
		{"counted [[sim:503*2]]", []int{503, 503, 200, 200}, "ModelUnavailable"},
		{"slow [[sim:slow=5ms]] and fine", []int{200}, ""},
		{"unknown [[sim:bogus]] marker", []int{200}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.content, func(t *testing.T) {
			var got []int
			for range tt.statuses {
				a := post(t, compatURL(s), msg(tt.content))
				got = append(got, a.status)
				body := decode(t, a.body)
				if a.status != 200 && str(body, "error.code") != tt.code {
					t.Errorf("code %q, want %q", str(body, "error.code"), tt.code)
				}
				if a.status == 200 && strings.Contains(str(body, "choices.0.message.content"), "[[sim:") &&
					!strings.Contains(tt.content, "bogus") {
					t.Errorf("marker echoed in reply %q", str(body, "choices.0.message.content"))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.statuses) {
				t.Errorf("statuses %v, want %v", got, tt.statuses)
			}
		})
	}
	// Markers in a system message are not instructions.
	a := post(t, compatURL(s), `{"model":"qwen-plus","messages":[{"role":"system","content":"[[sim:500]]"},{"role":"user","content":"hi"}]}`)
	if a.status != 200 {
		t.Errorf("system marker applied: status %d", a.status)
	}
}

// TestMaxInFlight holds requests in the fault hook until all have arrived,
// so the peak is known exactly.
func TestMaxInFlight(t *testing.T) {
	const n = 8
	var arrived sync.WaitGroup
	arrived.Add(n)
	release := make(chan struct{})
	s := start(t, Options{Fault: func(int64, []byte) Fault {
		arrived.Done()
		<-release
		return FaultNone
	}})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, err := tryPost(context.Background(), compatURL(s), compatReq); err != nil || a.status != 200 {
				t.Errorf("status %d err %v", a.status, err)
			}
		}()
	}
	arrived.Wait()
	if st := s.Stats(); st.InFlight != n {
		t.Errorf("in flight %d, want %d", st.InFlight, n)
	}
	close(release)
	wg.Wait()
	st := s.Stats()
	if st.MaxInFlight != n || st.InFlight != 0 || st.OK != n {
		t.Errorf("stats %+v", st)
	}
}
