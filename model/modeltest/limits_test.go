package modeltest

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeClock makes the quota buckets independent of real time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRPM(t *testing.T) {
	for _, tt := range []struct {
		name       string
		url        func(*Server) string
		body       string
		code       func(map[string]any) string
		wantCode   string
		retryAfter bool
	}{
		{"compatible", compatURL, compatReq, func(m map[string]any) string { return str(m, "error.code") }, "limit_requests", false},
		{"native", nativeURL, nativeReq, func(m map[string]any) string { return str(m, "code") }, "Throttling.RateQuota", false},
		{"compatible with Retry-After", compatURL, compatReq, func(m map[string]any) string { return str(m, "error.code") }, "limit_requests", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			// 180 RPM is 3 per second: the bucket holds 3 requests.
			s := start(t, Options{RPM: 180, RetryAfter: tt.retryAfter, now: clk.Now})
			for i := 1; i <= 3; i++ {
				if a := post(t, tt.url(s), tt.body); a.status != http.StatusOK {
					t.Fatalf("request %d: status %d %s", i, a.status, a.body)
				}
			}
			a := post(t, tt.url(s), tt.body)
			if a.status != http.StatusTooManyRequests || tt.code(decode(t, a.body)) != tt.wantCode {
				t.Fatalf("4th request: status %d %s", a.status, a.body)
			}
			if got := a.header.Get("Retry-After"); (got != "") != tt.retryAfter || tt.retryAfter && got != "1" {
				t.Errorf("Retry-After %q with RetryAfter=%v", got, tt.retryAfter)
			}
			clk.Advance(time.Second / 2) // refills one and a half requests
			if a := post(t, tt.url(s), tt.body); a.status != http.StatusOK {
				t.Errorf("after refill: status %d", a.status)
			}
			if a := post(t, tt.url(s), tt.body); a.status != http.StatusTooManyRequests {
				t.Errorf("after refill, second request: status %d", a.status)
			}
			if st := s.Stats(); st.Throttled != 2 || st.OK != 4 || st.Faults != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestRPMBelowSixtyHoldsOneRequest(t *testing.T) {
	clk := newFakeClock()
	s := start(t, Options{RPM: 6, RetryAfter: true, now: clk.Now}) // one request per 10 s
	var got []int
	for i := 0; i < 2; i++ {
		got = append(got, post(t, compatURL(s), compatReq).status)
	}
	a := post(t, compatURL(s), compatReq)
	if fmt.Sprint(got) != "[200 429]" || a.header.Get("Retry-After") != "10" {
		t.Errorf("statuses %v, Retry-After %q", got, a.header.Get("Retry-After"))
	}
	clk.Advance(11 * time.Second)
	if a := post(t, compatURL(s), compatReq); a.status != http.StatusOK {
		t.Errorf("after 11 s: status %d", a.status)
	}
}

func TestTPM(t *testing.T) {
	clk := newFakeClock()
	// One request costs well over 20 tokens, the per-second allowance of
	// 1200 TPM: the first passes on a full bucket, the debt throttles the
	// next.
	s := start(t, Options{TPM: 1200, now: clk.Now})
	first := post(t, compatURL(s), compatReq)
	if first.status != http.StatusOK {
		t.Fatalf("first: status %d %s", first.status, first.body)
	}
	cost := num(decode(t, first.body), "usage.total_tokens")
	if cost <= 20 {
		t.Fatalf("test request costs only %d tokens", cost)
	}

	a := post(t, compatURL(s), compatReq)
	if m := decode(t, a.body); a.status != http.StatusTooManyRequests || str(m, "error.code") != "insufficient_quota" {
		t.Errorf("compatible: status %d %s", a.status, a.body)
	}
	a = post(t, nativeURL(s), nativeReq)
	if m := decode(t, a.body); a.status != http.StatusTooManyRequests || str(m, "code") != "Throttling.AllocationQuota" {
		t.Errorf("native: status %d %s", a.status, a.body)
	}
	// The debt is cost-20 tokens; it is paid off at 20 tokens a second.
	clk.Advance(time.Duration(cost)*time.Second/20 + time.Second)
	if a := post(t, compatURL(s), compatReq); a.status != http.StatusOK {
		t.Errorf("after refill: status %d", a.status)
	}
	if st := s.Stats(); st.PromptTokens == 0 || st.CompletionTokens == 0 || st.OK != 2 || st.Throttled != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := newBucket(120, t0) // 2 per second, holds 2
	steps := []struct {
		at   time.Duration
		cost float64
		ok   bool
	}{
		{0, 1, true},
		{0, 1, true},
		{0, 1, false},
		{250 * time.Millisecond, 1, false}, // 0.5 in the bucket
		{500 * time.Millisecond, 1, true},
		{10 * time.Second, 5, true}, // full bucket admits more than it holds
		{10 * time.Second, 1, false},
		{11 * time.Second, 1, false}, // still paying the debt: -3 + 2
		{12 * time.Second, 1, true},
	}
	for i, s := range steps {
		if ok, _ := b.take(t0.Add(s.at), s.cost); ok != s.ok {
			t.Errorf("step %d (%v, cost %v): ok %v, want %v", i, s.at, s.cost, ok, s.ok)
		}
	}
}
