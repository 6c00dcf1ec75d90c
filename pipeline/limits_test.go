package pipeline

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The controller's tests run on a simulated clock: c.now is set to the
// simulation's time and admit (the non-blocking heart of acquire) is
// called directly, so nothing here sleeps or measures real time.

// TestControllerCutsOnOverloadAndGrowsBack replaces the test of the same
// name in caller_test.go, which drove the blocking acquire with a clock
// that only moves between calls; that worked only while the pacer was a
// rate.Limiter reading the real clock.
func TestControllerCutsOnOverloadAndGrowsBack(t *testing.T) {
	now := time.Unix(0, 0)
	c := newController(32, 0, true)
	c.now = func() time.Time { return now }
	send := func() time.Time {
		t.Helper()
		c.mu.Lock()
		defer c.mu.Unlock()
		for range 1000 {
			wait, ok := c.admit(now)
			if ok {
				return now
			}
			if wait <= 0 {
				t.Fatalf("no slot at %v with %d in flight", now, c.inFlight)
			}
			now = now.Add(wait)
		}
		t.Fatal("admit never admitted")
		return now
	}
	// 40 quick successes at 100/s.
	for range 40 {
		sent := send()
		now = now.Add(10 * time.Millisecond)
		c.release(sent, outcomeOK, 0)
	}
	if c.pacer != nil || c.currentLimit() != 32 {
		t.Fatal("no throttling yet: nothing should be limited")
	}
	// A burst of 429s: one cut, not one per 429.
	var sents []time.Time
	for range 10 {
		sents = append(sents, send())
	}
	now = now.Add(5 * time.Millisecond)
	for _, s := range sents {
		c.release(s, outcomeThrottled, 0)
	}
	if !c.pause.After(now) {
		t.Fatal("sending goes on after a burst of 429s")
	}
	// The cut is made once the 429s still on their way are back: at the
	// next send.
	cut := c.lastCut
	c.release(send(), outcomeOK, 0)
	lim, rps := c.limitSnapshot()
	if lim != 16 {
		t.Errorf("concurrency %d after a burst of 429s, want one halving to 16", lim)
	}
	// 40 successes in 0.4s from a bucket that holds a second's worth:
	// the quota is at least 40/1.4 ≈ 28.5/s, and at most 100/s.
	if rps < 0.9*28.5 || rps > 100 {
		t.Errorf("rate %.1f/s after overload, want about the 28.5/s the successes prove", rps)
	}
	if got, want := now.Sub(cut), time.Duration(pauseRequests/c.found*float64(time.Second)); got < want {
		t.Errorf("sent again %v after the cut, want a pause of %v for the quota's bucket to refill", got, want)
	}
	// Successes grow it back, first to the estimate.
	before, found := rps, c.found
	for range 100 {
		s := send()
		now = now.Add(10 * time.Millisecond)
		c.release(s, outcomeOK, 0)
	}
	lim, rps = c.limitSnapshot()
	if rps <= before || rps >= found || lim <= 16 {
		t.Errorf("after 100 successes: concurrency %d rate %.1f (was 16, %.1f): did not grow back towards %.1f", lim, rps, before, found)
	}
	// A stray 429 among many successes, under the estimate, does not cut.
	now = now.Add(2 * time.Second)
	s := send()
	c.release(s, outcomeThrottled, 0)
	if l2, r2 := c.limitSnapshot(); l2 != lim || r2 != rps {
		t.Errorf("a single 429 in 100 outcomes cut the limits: %d/%.1f → %d/%.1f", lim, rps, l2, r2)
	}
	// Above the estimate the rate probes for more, and a 429 there is
	// what it was looking for: it cuts at once.
	for rps <= found {
		s := send()
		now = now.Add(10 * time.Millisecond)
		c.release(s, outcomeOK, 0)
		_, rps = c.limitSnapshot()
	}
	s = send()
	c.release(s, outcomeThrottled, 0)
	c.release(send(), outcomeOK, 0)
	if _, r2 := c.limitSnapshot(); r2 >= found {
		t.Errorf("a 429 while probing above the estimate %.1f/s left the rate at %.1f/s", found, r2)
	}
}

func TestRampAt(t *testing.T) {
	for _, tc := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 0, 0},
		{rampBurst, 0, 0},
		{rampBurst + 1, 5 * time.Millisecond, 10 * time.Millisecond},
		{20, 30 * time.Millisecond, 45 * time.Millisecond}, // a 20/s quota's bucket, met after ~38ms
		{100, 55 * time.Millisecond, 70 * time.Millisecond},
		{1000, 85 * time.Millisecond, 100 * time.Millisecond},
	} {
		if got := rampAt(tc.n); got < tc.min || got > tc.max {
			t.Errorf("rampAt(%d) = %v, want %v..%v", tc.n, got, tc.min, tc.max)
		}
	}
	for n := 1; n < 5000; n++ {
		if rampAt(n+1) < rampAt(n) {
			t.Fatalf("rampAt(%d) = %v < rampAt(%d) = %v", n+1, rampAt(n+1), n, rampAt(n))
		}
	}
}

func TestSlowStartHoldsBackTheFirstBurst(t *testing.T) {
	now := time.Unix(100, 0)
	c := newController(200, 0, true)
	c.now = func() time.Time { return now }
	c.mu.Lock()
	defer c.mu.Unlock()
	admitted := 0
	var wait time.Duration
	for {
		w, ok := c.admit(now)
		if !ok {
			wait = w
			break
		}
		admitted++
	}
	if admitted != rampBurst {
		t.Errorf("%d requests at once at the start, want %d", admitted, rampBurst)
	}
	if wait <= 0 || wait > 10*time.Millisecond {
		t.Errorf("next request in %v, want within 10ms", wait)
	}
	// After the ramp, nothing but the concurrency limits.
	now = now.Add(rampSteps * rampDoubling)
	for c.inFlight < 200 {
		if _, ok := c.admit(now); !ok {
			t.Fatalf("held back after the ramp with %d in flight", c.inFlight)
		}
	}
	if c.ramping {
		t.Error("still ramping after the ramp's time")
	}
}

// TestSlowStartPacesItselfByTheRoundTrip: with a 100ms round trip to the
// service (a 429 takes that long to come back), slow start runs on a clock
// 20 times slower, so that it sends about as few requests before the first
// 429 can arrive as it does on loopback.
func TestSlowStartPacesItselfByTheRoundTrip(t *testing.T) {
	// sent is how many requests slow start lets out within d of the
	// first, with nothing answered.
	sent := func(roundTrip, d time.Duration) int {
		now := time.Unix(100, 0)
		c := newController(10000, 0, true)
		c.now = func() time.Time { return now }
		c.roundTrip = func() time.Duration { return roundTrip }
		c.mu.Lock()
		defer c.mu.Unlock()
		for end := now.Add(d); !now.After(end); {
			if w, ok := c.admit(now); !ok {
				now = now.Add(max(w, 100*time.Microsecond))
			}
		}
		return c.inFlight
	}
	loopback := sent(0, 40*time.Millisecond)
	near := func(got, want int) bool { return got >= want-1 && got <= want+1 }
	if got := sent(2*time.Millisecond, 40*time.Millisecond); got != loopback {
		t.Errorf("2ms round trip: %d requests in 40ms, want %d as on loopback", got, loopback)
	}
	if got := sent(100*time.Millisecond, 800*time.Millisecond); !near(got, loopback) {
		t.Errorf("100ms round trip: %d requests in 800ms, want about the %d of 40ms on loopback", got, loopback)
	}
	if got := sent(100*time.Millisecond, 100*time.Millisecond); got > 5 {
		t.Errorf("100ms round trip: %d requests before the first 429 could be back", got)
	}
	// A connect that hangs counts for at most maxRampRoundTrip.
	if got := sent(time.Minute, 40*time.Millisecond*(2*maxRampRoundTrip/rampDoubling)); !near(got, loopback) {
		t.Errorf("hung connect: %d requests, want about %d over the capped clock", got, loopback)
	}
}

func TestFixedConcurrencyHasNoSlowStart(t *testing.T) {
	now := time.Unix(100, 0)
	c := newController(50, 0, false)
	c.now = func() time.Time { return now }
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range 50 {
		if _, ok := c.admit(now); !ok {
			t.Fatalf("--fixed-concurrency held back request %d", i+1)
		}
	}
}

func TestPacerSpacesEvenly(t *testing.T) {
	start := time.Unix(100, 0)
	p := &pacer{rate: 10}
	now := start
	for i := range 5 {
		if now.Before(p.next) {
			now = p.next
		}
		p.sent(now)
		if want := start.Add(time.Duration(i+1) * 100 * time.Millisecond); !p.next.Equal(want) {
			t.Fatalf("send %d: next at %v, want %v", i+1, p.next.Sub(start), want.Sub(start))
		}
		now = now.Add(20 * time.Millisecond) // woke a little late: cadence kept
	}
	// After an idle second, no burst: a whole interval to the next send.
	now = p.next.Add(time.Second)
	p.sent(now)
	if got := p.next.Sub(now); got != 100*time.Millisecond {
		t.Errorf("after idling the next send is %v away, want 100ms", got)
	}
}

func TestThrottlePauses(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter time.Duration
		want       time.Duration
	}{
		// A cut: the bucket refills by pauseRequests at the 11.8/s the
		// successes prove (20 in 0.7s from a bucket of a second's worth).
		{"no Retry-After", 0, time.Duration(pauseRequests / (20 / 1.7) * float64(time.Second))},
		{"Retry-After", 3 * time.Second, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(100, 0)
			c := newController(8, 0, true)
			c.now = func() time.Time { return now }
			for range 20 {
				c.mu.Lock()
				_, ok := c.admit(now)
				c.mu.Unlock()
				if !ok {
					t.Fatal("held back")
				}
				now = now.Add(35 * time.Millisecond)
				c.release(now, outcomeOK, 0)
			}
			// A run of three 429s: one or two could be strays.
			c.mu.Lock()
			for range 3 {
				c.admit(now)
			}
			c.mu.Unlock()
			for range 3 {
				c.release(now, outcomeThrottled, tc.retryAfter)
			}
			// The cut is made when the 429s on their way are back.
			c.mu.Lock()
			c.admit(c.pause)
			c.mu.Unlock()
			if got := c.pause.Sub(now); got < tc.want*95/100 || got > tc.want*105/100 {
				t.Errorf("paused %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGrownRate(t *testing.T) {
	c := newController(8, 0, true)
	c.found = 20
	at := func(seconds float64) float64 { c.sinceCut = int(seconds * 20); return c.grownRate() }
	if r := at(0); r != 20*rateFactor {
		t.Errorf("right after a cut: %.2f/s, want %.2f", r, 20*rateFactor)
	}
	if r := at(backSeconds); math.Abs(r-20) > 0.01 {
		t.Errorf("after %ds worth: %.2f/s, want back at the estimate 20", backSeconds, r)
	}
	if r := at(backSeconds + probeSeconds); math.Abs(r-20*(1+probeShare)) > 0.01 {
		t.Errorf("probing: %.2f/s, want %.2f", r, 20*(1+probeShare))
	}
	c.fixedRPS = 21
	if r := at(100); r != 21 {
		t.Errorf("with --rpm 1260: %.2f/s, want capped at 21", r)
	}
}

// quotaCase is a run through the controller against a simulated service:
// a quota bucket like DashScope's (and modeltest's), answers after a
// latency, 429s at once, retries after the caller's backoff.
type quotaCase struct {
	name      string
	rows      int
	workers   int           // -c
	latency   time.Duration // of an answer
	jitter    time.Duration // added to latency, uniform
	quota     float64       // requests/s; 0: none
	cost      func(row int) float64
	rtt429    time.Duration
	retryBase time.Duration
	stray     float64                       // share of requests refused with a 429 at random
	quotaAt   func(t time.Duration) float64 // quota from t into the run; nil: quota
	fixed     bool                          // --fixed-concurrency: no adaptive limits
}

type quotaResult struct {
	elapsed             time.Duration
	requests, throttled int
}

// TestQuotaFoundWithFew429s is the quota-bound case on a
// simulated clock: -c far above the quota, no --rpm or --tpm, and no
// Retry-After (as DashScope). The run must keep 429s at no more than 3%
// of requests and finish in no more than 1/0.95 of the time the quota
// allows.
func TestQuotaFoundWithFew429s(t *testing.T) {
	tokens := func(row int) float64 { return float64(60 + rand.New(rand.NewPCG(uint64(row), 3)).IntN(80)) } // mean ≈ 100
	for _, tc := range []quotaCase{
		{name: "RPM 1200, -c 200, 30s", rows: 600, workers: 200, latency: 200 * time.Millisecond, jitter: 100 * time.Millisecond, quota: 20},
		{name: "RPM 1200, -c 200, zero latency", rows: 600, workers: 200, quota: 20},
		{name: "TPM 120000 at ~100 tokens a request, -c 200", rows: 600, workers: 200, latency: 200 * time.Millisecond, jitter: 100 * time.Millisecond, quota: 2000, cost: tokens},
		{name: "RPM 300, -c 64, 2 min", rows: 600, workers: 64, latency: time.Second, jitter: time.Second, quota: 5},
		{name: "RPM 15000, -c 500, 1s latency", rows: 7500, workers: 500, latency: time.Second, jitter: 500 * time.Millisecond, quota: 250},
		{name: "RPM 1200, -c 8", rows: 600, workers: 8, latency: 200 * time.Millisecond, quota: 20},
		// A bucket of one request: no slack at all. Long enough that the
		// last rows' retries (backing off 1s, 2s, 4s...) are a small part.
		{name: "RPM 60, -c 16, 10 min", rows: 600, workers: 16, latency: 2 * time.Second, quota: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := simulate(t, tc)
			perSec := tc.quota
			if tc.cost != nil {
				perSec = tc.quota / 100
			}
			// The bucket starts full (a second's worth is free), and the
			// last answer takes its latency.
			best := time.Duration((float64(tc.rows)/perSec-1)*float64(time.Second)) + tc.latency + tc.jitter/2
			share := float64(r.throttled) / float64(r.requests)
			through := best.Seconds() / r.elapsed.Seconds()
			t.Logf("%d rows in %v (best %v, %.1f%% of the quota); %d requests, %d throttled (%.1f%%)",
				tc.rows, r.elapsed.Round(time.Millisecond), best.Round(time.Millisecond), 100*through, r.requests, r.throttled, 100*share)
			if share > 0.03 {
				t.Errorf("%.1f%% of requests were throttled, want ≤ 3%%", 100*share)
			}
			if through < 0.95 {
				t.Errorf("throughput %.1f%% of the quota, want ≥ 95%%", 100*through)
			}
		})
	}
}

// TestQuotaChanges: a quota shared with other clients of the account
// shrinks or grows during a run. The controller must follow it down
// without a storm of 429s and find the larger quota again.
func TestQuotaChanges(t *testing.T) {
	for _, tc := range []struct {
		quotaCase
		best       time.Duration
		max429     float64
		minThrough float64
	}{
		{quotaCase{name: "20/s, then 10/s after 15s", rows: 600, workers: 200, latency: 200 * time.Millisecond, quota: 20,
			quotaAt: func(t time.Duration) float64 { return map[bool]float64{true: 20, false: 10}[t < 15*time.Second] }},
			43200 * time.Millisecond, 0.05, 0.9}, // 320 rows in 15s, 280 at 10/s
		{quotaCase{name: "10/s, then 20/s after 20s", rows: 1200, workers: 200, latency: 200 * time.Millisecond, quota: 10,
			quotaAt: func(t time.Duration) float64 { return map[bool]float64{true: 10, false: 20}[t < 20*time.Second] }},
			69700 * time.Millisecond, 0.03, 0.85}, // 210 rows in 20s, 990 at 20/s
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := simulate(t, tc.quotaCase)
			share := float64(r.throttled) / float64(r.requests)
			through := tc.best.Seconds() / r.elapsed.Seconds()
			t.Logf("%d rows in %v (best %v, %.1f%%); %d requests, %d throttled (%.1f%%)",
				tc.rows, r.elapsed.Round(time.Millisecond), tc.best, 100*through, r.requests, r.throttled, 100*share)
			if share > tc.max429 {
				t.Errorf("%.1f%% of requests were throttled, want ≤ %.0f%%", 100*share, 100*tc.max429)
			}
			if through < tc.minThrough {
				t.Errorf("throughput %.1f%% of the best, want ≥ %.0f%%", 100*through, 100*tc.minThrough)
			}
		})
	}
}

// TestStray429sBarelySlowARun: a service without a quota that refuses a
// share of requests with a 429 at random (hiccups, not a quota) must not
// slow the run much more than the retries themselves do: compared with
// the same run without adaptive limits (--fixed-concurrency).
func TestStray429sBarelySlowARun(t *testing.T) {
	for _, tc := range []quotaCase{
		{rows: 4000, workers: 100, latency: 200 * time.Millisecond, stray: 0.005},
		{rows: 4000, workers: 100, latency: 200 * time.Millisecond, stray: 0.02},
		{rows: 4000, workers: 100, latency: 200 * time.Millisecond, stray: 0.10},
		{rows: 2000, workers: 16, latency: 20 * time.Millisecond, jitter: 20 * time.Millisecond, stray: 0.10, retryBase: 5 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%d rows, -c %d, %v, %.1f%%", tc.rows, tc.workers, tc.latency, 100*tc.stray), func(t *testing.T) {
			r := simulate(t, tc)
			tc.fixed = true
			fixed := simulate(t, tc)
			t.Logf("%v (%d requests, %d throttled); with fixed limits %v", r.elapsed, r.requests, r.throttled, fixed.elapsed)
			// At 10%, 429s at random look like a quota at first: it
			// takes a cut or two to see that cutting does not help.
			slack := 1.15
			if tc.stray >= 0.1 {
				slack = 2
			}
			if r.elapsed.Seconds() > fixed.elapsed.Seconds()*slack+1 {
				t.Errorf("took %v, more than %.2f × the %v with fixed limits + 1s", r.elapsed, slack, fixed.elapsed)
			}
		})
	}
}

// TestSlowStartBarelySlowsAnUnlimitedRun: without a quota, slow start
// must not cost a latency-bound run more than a little of its time.
func TestSlowStartBarelySlowsAnUnlimitedRun(t *testing.T) {
	for _, tc := range []quotaCase{
		{name: "2000 rows, 200ms, -c 100", rows: 2000, workers: 100, latency: 200 * time.Millisecond},
		{name: "20000 rows, 5ms, -c 64", rows: 20000, workers: 64, latency: 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := simulate(t, tc)
			ideal := time.Duration(math.Ceil(float64(tc.rows)/float64(tc.workers))) * tc.latency
			t.Logf("%v, ideal %v; %d requests", r.elapsed, ideal, r.requests)
			if r.throttled != 0 || r.requests != tc.rows {
				t.Fatalf("%d requests, %d throttled, for %d rows", r.requests, r.throttled, tc.rows)
			}
			// Slow start sends the 100th request after 61ms.
			if r.elapsed > ideal+80*time.Millisecond {
				t.Errorf("took %v, more than 80ms over the ideal %v", r.elapsed, ideal)
			}
		})
	}
}

// simulate runs tc through a controller on a simulated clock. Workers do
// what caller.send does: acquire, send, release, and after a 429 back off
// (equal jitter from retryBase) and try the same row again.
func simulate(t *testing.T, tc quotaCase) quotaResult {
	t.Helper()
	if tc.rtt429 == 0 {
		tc.rtt429 = time.Millisecond
	}
	if tc.retryBase == 0 {
		tc.retryBase = DefaultRetryBase
	}
	if tc.cost == nil {
		tc.cost = func(int) float64 { return 1 }
	}
	start := time.Unix(1000, 0)
	s := &sim{now: start, rng: rand.New(rand.NewPCG(1, 2))}
	c := newController(tc.workers, 0, !tc.fixed)
	c.now = func() time.Time { return s.now }
	var bucket *simBucket
	if tc.quota > 0 {
		bucket = &simBucket{rate: tc.quota, capacity: math.Max(tc.quota, 1), tokens: math.Max(tc.quota, 1), last: start}
	}
	if bucket != nil && tc.quotaAt != nil {
		bucket.at = func(t time.Time) float64 { return tc.quotaAt(t.Sub(start)) }
	}
	type worker struct {
		row      int // -1: needs a row
		attempts int
		gen      int // invalidates stale wake-ups
		sent     time.Time
		blocked  bool // waiting for a change (a release)
	}
	workers := make([]*worker, tc.workers)
	nextRow, done := 0, 0
	var res quotaResult
	var tryAcquire func(i int)
	wakeBlocked := func() {
		for i, w := range workers {
			if w.blocked {
				w.blocked = false
				w.gen++
				s.at(s.now, i, w.gen, evWake)
			}
		}
	}
	tryAcquire = func(i int) {
		w := workers[i]
		if w.row < 0 {
			if nextRow == tc.rows {
				return
			}
			w.row, w.attempts = nextRow, 0
			nextRow++
		}
		c.mu.Lock()
		wait, ok := c.admit(s.now)
		c.mu.Unlock()
		switch {
		case ok:
			w.sent = s.now
			w.attempts++
			res.requests++
			if bucket != nil && !bucket.take(s.now, tc.cost(w.row)) || tc.stray > 0 && s.rng.Float64() < tc.stray {
				s.at(s.now.Add(tc.rtt429), i, w.gen, evThrottled)
				return
			}
			lat := tc.latency
			if tc.jitter > 0 {
				lat += time.Duration(s.rng.Int64N(int64(tc.jitter)))
			}
			s.at(s.now.Add(lat), i, w.gen, evAnswered)
		case wait > 0:
			// Waits for the time, or for a change, whichever is first.
			w.blocked = true
			s.at(s.now.Add(wait), i, w.gen, evWake)
		default:
			w.blocked = true
		}
	}
	for i := range workers {
		workers[i] = &worker{row: -1}
		tryAcquire(i)
	}
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(event)
		s.now = e.at
		w := workers[e.worker]
		switch e.kind {
		case evWake:
			if e.gen != w.gen {
				continue
			}
			w.blocked = false
			w.gen++
			tryAcquire(e.worker)
		case evAnswered:
			c.release(w.sent, outcomeOK, 0)
			w.row = -1
			done++
			wakeBlocked()
			tryAcquire(e.worker)
		case evThrottled:
			res.throttled++
			c.release(w.sent, outcomeThrottled, 0)
			wakeBlocked()
			if w.attempts > DefaultRetries+10 {
				t.Fatalf("row %d throttled %d times", w.row, w.attempts)
			}
			d := tc.retryBase << min(w.attempts-1, 6)
			d = min(d, DefaultRetryMax)
			w.gen++
			s.at(s.now.Add(d/2+time.Duration(s.rng.Int64N(int64(d/2)+1))), e.worker, w.gen, evWake)
		}
		if s.now.Sub(start) > time.Hour {
			t.Fatalf("simulated run still going after an hour: %d of %d rows done", done, tc.rows)
		}
	}
	if done != tc.rows {
		t.Fatalf("%d of %d rows done", done, tc.rows)
	}
	res.elapsed = s.now.Sub(start)
	return res
}

// simBucket is the service's quota: a token bucket that refills at rate
// per second, holds capacity, and admits a request when it holds the
// request's cost or is full (then it goes into debt), like modeltest's.
type simBucket struct {
	rate, capacity, tokens float64
	last                   time.Time
	at                     func(time.Time) float64 // the rate changes: rate at a time
}

func (b *simBucket) take(now time.Time, cost float64) bool {
	if b.at != nil {
		b.rate = b.at(now)
		b.capacity = math.Max(b.rate, 1)
	}
	b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= math.Min(cost, b.capacity) {
		b.tokens -= cost
		return true
	}
	return false
}

type eventKind int

const (
	evWake eventKind = iota
	evAnswered
	evThrottled
)

type event struct {
	at     time.Time
	seq    int
	worker int
	gen    int
	kind   eventKind
}

type events []event

func (q events) Len() int { return len(q) }
func (q events) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q events) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *events) Push(x any)   { *q = append(*q, x.(event)) }
func (q *events) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sim struct {
	now    time.Time
	seq    int
	events events
	rng    *rand.Rand
}

func (s *sim) at(t time.Time, worker, gen int, kind eventKind) {
	s.seq++
	heap.Push(&s.events, event{at: t, seq: s.seq, worker: worker, gen: gen, kind: kind})
}

// The controller must not hold anyone back when the context ends.
func TestAcquireEndsWithTheContext(t *testing.T) {
	c := newController(1, 0, true)
	if _, err := c.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.acquire(ctx); err == nil {
		t.Fatal("acquire with no free slot and an ended context returned no error")
	}
}

// TestWaitersAreNotWokenForNothing: with many requests waiting for one
// slot, each release lets one of them look at the limits, not all of them
// (which made hundreds of goroutines wake, lock and re-arm timers for every
// request sent at -c 200, enough to stall the start of a run).
func TestWaitersAreNotWokenForNothing(t *testing.T) {
	const waiters = 100
	c := newController(1, 0, false)
	ctx := context.Background()
	first, err := c.acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admitted := make(chan time.Time)
	for range waiters {
		go func() {
			sent, err := c.acquire(ctx)
			if err != nil {
				t.Error(err)
			}
			admitted <- sent
		}()
	}
	// Let them all queue up before releasing anything.
	for deadline := time.Now().Add(5 * time.Second); ; {
		c.mu.Lock()
		looks := c.looks
		c.mu.Unlock()
		if looks >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	sent := first
	for range waiters {
		c.release(sent, outcomeOK, 0)
		sent = <-admitted
		// Give whoever was woken time to look (and go back to sleep),
		// so that looks are counted per release, not merged.
		time.Sleep(time.Millisecond)
	}
	c.release(sent, outcomeOK, 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	// One look by the head of the line when it arrives, one per release
	// (allow a few spurious ones); everyone woken would be ~waiters²/2.
	if max := 3*waiters + 5; c.looks > max {
		t.Errorf("%d looks at the limits for %d admissions, want at most %d", c.looks, waiters+1, max)
	}
}

// TestAcquireInLineEndsWithTheContext: a request waiting behind another
// for its turn gives up when its context ends.
func TestAcquireInLineEndsWithTheContext(t *testing.T) {
	c := newController(1, 0, false)
	if _, err := c.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	head, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error)
	go func() { _, err := c.acquire(head); done <- err }()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.acquire(ctx); err == nil {
		t.Fatal("acquire behind a waiting request returned no error when its context ended")
	}
	stop()
	if err := <-done; err == nil {
		t.Fatal("the head of the line returned no error when its context ended")
	}
}

func TestAppendWindowStaysBounded(t *testing.T) {
	start := time.Unix(100, 0)
	var w []time.Time
	for i := range 100000 {
		w = appendWindow(w, start.Add(time.Duration(i)*time.Millisecond)) // 1,000/s for 100s
		if len(w) > 2*maxWindow {
			t.Fatalf("after %d appends the window holds %d", i+1, len(w))
		}
	}
	last := w[len(w)-1]
	if n := countBetween(w, last.Add(-time.Second), last.Add(1)); n != 1001 {
		t.Errorf("%v in the last second, want 1001", n)
	}
	// Slow sends: everything of the last minute is kept.
	w = nil
	for i := range 200 {
		w = appendWindow(w, start.Add(time.Duration(i)*time.Second))
	}
	if w[0].After(w[len(w)-1].Add(-succWindow)) {
		t.Errorf("the window starts %v before its end, want at least %v", w[len(w)-1].Sub(w[0]), succWindow)
	}
}
