package pipeline

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// controller is the adaptive limit in front of every request: at most
// limit requests in flight, started no faster than the pacer allows.
//
// DashScope enforces its quotas per minute and per second (buckets of
// RPM/60 and TPM/60 a second, holding about a second's worth) and says
// nothing about them: no Retry-After, no rate-limit headers. The only
// signal is a 429, and every 429 is a request wasted. So the controller
// works like TCP congestion control, in three parts:
//
//   - Slow start. A run starts sending at a modest rate that doubles every
//     10ms, instead of firing all -c requests at once. A 429 comes back
//     at once (the gateway does not queue it), so a quota is found after
//     about one second's worth of requests instead of after -c of them; a
//     service without a quota has 100 requests in flight after 61ms.
//   - At 429s that show the run is over its quota (see overloaded), the
//     quota is estimated from the requests it let through (see estimate),
//     the send rate is set a little under it and all sending pauses
//     briefly so that the service's bucket refills. Concurrency is cut
//     too, but never below what the rate needs at the latency seen.
//   - While requests succeed, the rate climbs back to the estimate, stays
//     near it, then probes above it ever faster (like TCP CUBIC): a fixed
//     quota costs a 429 or two every half minute, a quota that was
//     underestimated or that grew is found again within a minute.
//
// A 429 for a request sent before the last cut does not cut again: it is
// the same overload, already answered. 429s that cutting does not make
// rarer come at random, not from the rate: they undo the cuts (see
// overloaded). A Retry-After, when a server sends one, pauses all sending
// until it has passed; it says how long to wait, not how fast to go
// afterwards, so 429s that show an overload cut the rate all the same.
type controller struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a waiter may proceed
	line     chan struct{} // held by the waiter whose turn it is (see acquire)
	looks    int           // calls of admit, for tests: waiters woken for nothing cost CPU
	maxLimit int
	limit    float64 // concurrency, 1..maxLimit
	inFlight int
	lastCut  time.Time
	pause    time.Time // no sends before this (Retry-After, or a bucket refilling)

	adaptive bool
	pacer    *pacer  // nil while the rate is not limited (no throttle yet, no --rpm)
	fixedRPS float64 // --rpm / 60; the adaptive rate never exceeds it

	// Slow start: ramping until the first throttle or until the ramp's
	// rate is past any quota (rampSteps doublings).
	ramping   bool
	firstSend time.Time
	started   int // requests sent while ramping
	// roundTrip, when set, tells about how long a round trip to the
	// service takes (model.RoundTripHinter): slow start doubles no
	// faster than every two round trips, as a 429 takes one to come back.
	roundTrip func() time.Duration

	latency float64 // moving average of answers' latency, seconds
	// A cut waits (pending) until the 429s of the requests sent before it
	// have come back, then estimates the quota from them.
	pending    bool
	prevCut    time.Time         // the cut before lastCut
	cutProbing bool              // the pending cut came while probing
	cutRate    float64           // the rate when the pending cut came (0: not paced)
	rtt        [16]time.Duration // how long recent 429s took to come back
	iRTT       int
	found      float64 // quota estimate at the last cut, requests/s (0: none yet)
	// lastShare is the share of 429s that made the last cut under an
	// estimate (0 after other cuts); noise the share of 429s that
	// cutting did not remove.
	lastShare, noise float64
	sinceCut         int // successes since the last cut: the growth clock

	sends []time.Time // recent sends
	thr   []time.Time // when recent throttled requests were sent
	now   func() time.Time
}

const (
	cutFactor  = 0.5         // concurrency after a cut
	rateFactor = 0.95        // send rate after a cut, of the estimated quota
	succWindow = time.Minute // how long sends and 429s are remembered
	maxWindow  = 4096        // and how many at most
	// estimateRequests is how many requests a quota estimate looks back
	// over at least (and at least 10s, at most succWindow).
	estimateRequests = 30
	minRate          = 0.2 // requests/s; the adaptive rate never goes below it
	// latencyWeight is the weight of a new answer in the moving average
	// of latency.
	latencyWeight = 0.1
	cutCooldown   = time.Second
	// Before any cut, 429s mean a quota when three came in a run (at
	// least clusterShare of the requests sent over their span) or were
	// at least cutShare of the requests sent lately: a quota refuses
	// request after request, while a stray 429 (a burst somewhere else
	// on the account, a hiccup) should not slow a whole run down. Under
	// an estimate that held until now it takes dropShare: the quota
	// shrank, and most requests over it are refused.
	clusterShare = 0.3
	cutShare     = 0.10
	dropShare    = 0.10
	// noiseFloor: 429s at random below it are none at all, and a 429
	// while probing cuts at once.
	noiseFloor = 0.01
	// maxNoise is the largest share of 429s taken for noise: a service
	// that refuses more at random is not one to run a job against, and
	// a quota far overrun refuses more than that.
	maxNoise = 0.25
	// minSettle is the least a cut waits for 429s still on their way.
	minSettle = 10 * time.Millisecond
	// mdFloor is the deepest one cut goes under an earlier estimate: a
	// quota that shrank is followed down a step a second.
	mdFloor = 0.8

	// Slow start: rampBurst requests at once, then a rate of rampRate/s
	// doubling every rampDoubling, and never more than twice what went
	// out a doubling before (see rampWait). 100 requests go out within
	// 61ms, 1,000 within 95ms; a quota of 20/s (a bucket of 20) is met
	// after about 38ms, when the ramp sends about one request a
	// millisecond. The requests go one by one, so that the ones a quota
	// refused tell how many it let through.
	rampBurst    = 1
	rampRate     = 100.0
	rampDoubling = 10 * time.Millisecond
	rampSteps    = 20 // then the ramp is at 100·2^20/s: over

	// After a cut, sending pauses until the quota's bucket has refilled
	// by pauseRequests requests (at most a second: the bucket holds no
	// more), so that small irregularities in pacing do not meet an empty
	// bucket.
	pauseRequests = 5
	// After a cut the rate climbs linearly from rateFactor of the
	// estimate back to the estimate over backSeconds worth of successes,
	// then probes above it: by probeShare after probeSeconds worth, four
	// times that after twice as long, and so on, faster and faster.
	backSeconds    = 5
	backRequests   = 20
	probeShare     = 0.05
	probeSeconds   = 10
	probeRequests  = 60
	slowestSeconds = 60
)

func newController(maxLimit int, rpm float64, adaptive bool) *controller {
	c := &controller{
		changed: make(chan struct{}), line: make(chan struct{}, 1), maxLimit: maxLimit, limit: float64(maxLimit),
		adaptive: adaptive, ramping: adaptive, now: time.Now,
	}
	if rpm > 0 {
		c.fixedRPS = rpm / 60
		c.pacer = &pacer{rate: c.fixedRPS}
	}
	return c
}

// acquire waits for a free slot, the pause, the slow start and the pacer.
// It returns the time the request is sent, to be given back to release.
func (c *controller) acquire(ctx context.Context) (time.Time, error) {
	// Waiters queue for their turn, and only the one at the head of the
	// line watches the limits. Otherwise every change (a release, the
	// ramp's next step) would wake all of them (hundreds at -c 200) to
	// find that one may go: a thundering herd that, at the start of a
	// run, ate the CPU that sending and reading answers needed, so that
	// a quota's first 429s were read tens of milliseconds late.
	// (Channel senders are served in order.)
	select {
	case c.line <- struct{}{}:
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	defer func() { <-c.line }()
	for {
		c.mu.Lock()
		now := c.now()
		wait, ok := c.admit(now)
		if ok {
			c.mu.Unlock()
			return now, nil
		}
		ch := c.changed
		c.mu.Unlock()
		var timer *time.Timer
		var expired <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			expired = timer.C
		}
		select {
		case <-ch:
		case <-expired:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
	}
}

// admit takes a slot for a request sent at now, if every limit allows it.
// Otherwise it reports how long until the earliest time-based limit may
// allow it (0: until something changes, e.g. a slot is released). Call
// with mu held.
func (c *controller) admit(now time.Time) (time.Duration, bool) {
	c.looks++
	if c.pending && !now.Before(c.pause) {
		c.settle(now)
	}
	if wait := c.pause.Sub(now); wait > 0 {
		return wait, false
	}
	if c.inFlight >= c.currentLimit() {
		return 0, false
	}
	if c.ramping && !c.firstSend.IsZero() {
		if wait := c.rampWait(now); wait > 0 {
			return wait, false
		}
	}
	if c.pacer != nil {
		if wait := c.pacer.next.Sub(now); wait > 0 {
			return wait, false
		}
		c.pacer.sent(now)
	}
	c.inFlight++
	if c.firstSend.IsZero() {
		c.firstSend = now
	}
	if c.ramping {
		c.started++
	}
	c.sends = appendWindow(c.sends, now)
	return 0, true
}

// rampWait is how long slow start holds back the next request. Call with
// mu held.
func (c *controller) rampWait(now time.Time) time.Duration {
	age := now.Sub(c.firstSend)
	scale := c.rampScale()
	doubling := time.Duration(scale * float64(rampDoubling))
	if age >= rampSteps*doubling {
		c.ramping = false
		return 0
	}
	n := c.started + 1
	wait := time.Duration(scale*float64(rampAt(n))) - age
	// The ramp doubles what was sent, not what it allowed: when the
	// requests were slow to go (a client busy starting, reading, opening
	// connections), they must not all go at once when it catches up, as
	// the answers of a busy client are slow too, 429s included. So no
	// more than twice what had gone out a doubling ago, plus the burst.
	if k := (n - rampBurst + 1) / 2; k > 0 && k <= len(c.sends) && len(c.sends) == c.started {
		wait = max(wait, c.sends[k-1].Add(doubling).Sub(now))
	}
	return wait
}

// rampScale stretches slow start's clock when a round trip to the service
// takes longer than half of rampDoubling: over the Internet, the first
// 429 of a quota comes back tens or hundreds of milliseconds after its
// request, and a ramp that doubled every 10ms would have sent -c requests
// by then. (On loopback or in a data centre the scale stays 1.)
func (c *controller) rampScale() float64 {
	if c.roundTrip == nil {
		return 1
	}
	rt := min(c.roundTrip(), maxRampRoundTrip)
	return max(1, 2*float64(rt)/float64(rampDoubling))
}

// maxRampRoundTrip caps the round trip slow start waits for: a connect
// that hangs or fails must not stall the ramp for longer.
const maxRampRoundTrip = 500 * time.Millisecond

// rampAt is when slow start allows the n-th request, counted from the
// first: rampBurst at once, then at rampRate·2^(t/rampDoubling) per
// second, which sums to rampBurst + rampRate·d/ln2·(2^(t/d) − 1) by t.
func rampAt(n int) time.Duration {
	if n <= rampBurst {
		return 0
	}
	d := rampDoubling.Seconds()
	t := d * math.Log2(1+float64(n-rampBurst)*math.Ln2/(rampRate*d))
	return time.Duration(t * float64(time.Second))
}

func (c *controller) currentLimit() int {
	return max(1, int(c.limit))
}

// wake lets every waiter look again. Call with mu held.
func (c *controller) wake() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// outcome of one request, for release.
type outcome int

const (
	outcomeOK        outcome = iota // answered (success or a row-level error)
	outcomeFailed                   // a transient failure that says nothing of quota
	outcomeThrottled                // 429
)

// release frees the slot taken at sent and adapts the limits.
func (c *controller) release(sent time.Time, o outcome, retryAfter time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
	now := c.now()
	defer c.wake()
	if retryAfter > 0 {
		c.pauseUntil(now.Add(retryAfter))
	}
	if !c.adaptive {
		return
	}
	switch o {
	case outcomeOK:
		if lat := now.Sub(sent).Seconds(); c.latency == 0 {
			c.latency = lat
		} else {
			c.latency += latencyWeight * (lat - c.latency)
		}
		c.limit += 1 / c.limit
		if c.pacer != nil && c.found > 0 && !c.pending {
			c.sinceCut++
			c.pacer.rate = c.grownRate()
			// Never fewer in flight than the paced rate needs.
			c.limit = math.Max(c.limit, c.needed())
		}
		c.limit = math.Min(float64(c.maxLimit), c.limit)
	case outcomeThrottled:
		c.thr = appendWindow(c.thr, sent)
		c.rtt[c.iRTT] = now.Sub(sent)
		c.iRTT = (c.iRTT + 1) % len(c.rtt)
		c.throttled(sent, now, retryAfter)
	}
}

// throttled handles a 429 for a request sent at sent. Call with mu held.
func (c *controller) throttled(sent, now time.Time, retryAfter time.Duration) {
	if sent.Before(c.lastCut) {
		return // the same overload, already answered
	}
	// The service's bucket is empty now: another request at once would
	// only meet it empty again. Skip a beat (one request's worth of
	// refill) even when this 429 does not cut.
	if c.pacer != nil && retryAfter <= 0 {
		c.pauseUntil(now.Add(time.Duration(math.Min(1, 1/c.pacer.rate) * float64(time.Second))))
	}
	if c.pacer != nil && now.Sub(c.lastCut) < cutCooldown {
		return
	}
	if !c.overloaded(sent) {
		return
	}
	c.ramping = false
	// Stop sending at once, but estimate the quota only once the 429s of
	// everything sent so far are back: a 429 comes back without waiting
	// for a model, but a client busy starting hundreds of requests reads
	// the answers late, and a 429 still on its way would count as a
	// request the quota let through.
	c.pending = true
	c.prevCut, c.lastCut = c.lastCut, now
	c.cutProbing = c.probing()
	c.cutRate = 0
	if c.pacer != nil {
		c.cutRate = c.pacer.rate
	}
	settle := 2 * slices.Max(c.rtt[:])
	c.pauseUntil(now.Add(min(max(settle, minSettle), time.Second)))
}

// settle makes the pending cut, at now. Call with mu held.
func (c *controller) settle(now time.Time) {
	c.pending = false
	found := c.estimate(c.lastCut)
	if c.found > 0 && c.cutRate > 0 {
		// Cut by at most mdFloor, and never speed up: a cut that
		// proves too shallow is followed by another a second later.
		found = math.Min(math.Max(found, mdFloor*c.cutRate), c.cutRate)
	}
	if c.cutProbing {
		// The run went at the estimate without a 429 before it probed
		// above it: the quota is no lower. (What was sent lately is
		// mostly what the probe chose to send, under the quota.)
		found = math.Max(found, c.found)
	}
	found = math.Max(minRate, found)
	if c.fixedRPS > 0 {
		found = math.Min(found, c.fixedRPS)
	}
	c.found, c.sinceCut = found, 0
	if c.pacer == nil {
		c.pacer = &pacer{}
	}
	c.pacer.rate = c.grownRate()
	// Fewer requests in flight too (some servers limit concurrency), but
	// not fewer than the new rate needs at the latency seen: with the
	// rate paced, that would only slow the run below its quota.
	c.limit = math.Max(1, math.Min(c.limit, math.Max(c.limit*cutFactor, c.needed())))
	// The pause since the cut counts towards the bucket's refill.
	c.pauseUntil(c.lastCut.Add(time.Duration(math.Min(1, pauseRequests/found) * float64(time.Second))))
}

// needed is the concurrency the paced rate needs at the latency seen so
// far, with room for the latency to double. Call with mu held.
func (c *controller) needed() float64 {
	return 2*c.pacer.rate*c.latency + 1
}

// estimate is the quota, in requests per second, that the requests sent
// before the cut at cut point to. Call with mu held, once the 429s of
// those requests are back.
//
// The requests sent and not refused are the ones the quota let through,
// answered or not. The quota's bucket holds about a second's worth and
// was empty at the cut (it refused requests); over the w seconds before,
// it let through rate·w plus what it held at the start.
func (c *controller) estimate(cut time.Time) float64 {
	// Over at least estimateRequests at the current rate, so that a
	// low quota's estimate does not rest on a handful of requests.
	span := 10 * time.Second
	if c.pacer != nil && c.pacer.rate > 0 {
		span = min(max(span, time.Duration(estimateRequests/c.pacer.rate*float64(time.Second))), succWindow)
	}
	from := cut.Add(-span)
	if c.firstSend.After(from) {
		from = c.firstSend
	}
	if c.prevCut.After(from) {
		from = c.prevCut // what came before belongs to another estimate
	}
	if len(c.sends) > 0 && c.sends[0].After(from) {
		from = c.sends[0] // the window forgot older sends
	}
	to := cut.Add(1)
	w := cut.Sub(from).Seconds()
	n := countBetween(c.sends, from, to) - countBetween(c.thr, from, to)
	if c.found == 0 {
		// Sent as fast as allowed until now: the bucket started full
		// (slow start finds a quota within a fraction of a second, so
		// this is close to the rate; later it is a floor).
		return n / (1 + w)
	}
	// Throttled before: the bucket held anything from nothing to a
	// second's worth at from.
	return n / (0.5 + w)
}

// countBetween counts the times in w (in order) in [from, to).
func countBetween(w []time.Time, from, to time.Time) float64 {
	n := 0
	for i := len(w) - 1; i >= 0 && !w[i].Before(from); i-- {
		if w[i].Before(to) {
			n++
		}
	}
	return float64(n)
}

// grownRate is the send rate sinceCut successes after the last cut: from
// rateFactor of the estimate linearly back to it, then above it by
// probeShare·x², x counting the probe's scale of successes. The successes
// come faster as the rate grows, so the probe accelerates.
//
// The scales are in seconds at the estimated rate (so that a quota is
// found again within a minute or two whatever its size), but at least
// backRequests and probeRequests successes unless that takes more than
// slowestSeconds: each probe past the quota costs a 429 or two, which at
// a low quota would otherwise be a large share of the requests. Call with
// mu held.
func (c *controller) grownRate() float64 {
	f := c.found
	n := float64(c.sinceCut)
	scale := func(seconds, requests float64) float64 {
		return max(f*seconds, min(requests, f*slowestSeconds))
	}
	r := f
	if back := scale(backSeconds, backRequests); n < back {
		r = f * (rateFactor + (1-rateFactor)*n/back)
	} else {
		x := (n - back) / scale(probeSeconds, probeRequests)
		r = f * (1 + probeShare*x*x)
	}
	if c.fixedRPS > 0 {
		r = math.Min(r, c.fixedRPS)
	}
	return math.Max(minRate, r)
}

// pauseUntil stops all sending until t (or later, if already paused
// longer). Call with mu held.
func (c *controller) pauseUntil(t time.Time) {
	if t.After(c.pause) {
		c.pause = t
	}
}

// probing reports whether the rate is above the estimate of the quota,
// looking for more. Call with mu held.
func (c *controller) probing() bool {
	return c.found > 0 && c.pacer != nil && c.pacer.rate >= c.found
}

// overloaded reports whether recent 429s, the latest for a request sent
// at sent, mean that the run is over its quota, and so should be cut. It
// looks at the requests sent lately, whose 429s have all come back (a
// 429 comes back at once) while many of their answers have not. Call
// with mu held.
func (c *controller) overloaded(sent time.Time) bool {
	span := time.Second
	if c.pacer != nil && c.pacer.rate > 0 {
		span = min(max(span, time.Duration(20/c.pacer.rate*float64(time.Second))), succWindow)
	}
	from, to := sent.Add(-span), sent.Add(1)
	thr := countBetween(c.thr, from, to)
	share := thr / countBetween(c.sends, from, to)
	switch {
	case c.probing():
		// A 429 is what the probe was looking for, unless 429s come
		// at random anyway.
		if c.noise < noiseFloor || thr >= 2 && share >= c.noise+cutShare {
			c.lastShare = 0
			return true
		}
		return false
	case c.found > 0:
		// Under an estimate that held until now: the quota shrank, and
		// most requests over it are refused.
		if thr < 2 || share < c.noise+dropShare {
			return false
		}
		if c.lastShare > 0 && share >= 0.8*c.lastShare && share <= maxNoise {
			// The last cut (in effect: the rate is still under the
			// estimate it set) did not make 429s rarer, so they do not
			// come from the rate: a service that refuses some
			// requests at random. Undo the cuts; only more 429s than
			// that will mean a quota.
			c.noise = share
			c.found, c.lastShare = 0, 0
			c.limit = float64(c.maxLimit)
			c.pacer = nil
			if c.fixedRPS > 0 {
				c.pacer = &pacer{rate: c.fixedRPS}
			}
			return false
		}
		c.lastShare = share
		return true
	}
	if thr < 3 {
		return false
	}
	if share >= c.noise+cutShare {
		return true
	}
	if c.noise >= noiseFloor {
		return false
	}
	// A quota refuses every request once its bucket is empty, so its
	// 429s come in runs; 429s at random are scattered among answers.
	first := sent
	for _, t := range c.thr[len(c.thr)-3:] {
		if t.Before(first) {
			first = t
		}
	}
	return 3 >= clusterShare*countBetween(c.sends, first, to)
}

// pacer spaces sends evenly at rate per second, with no bursts: the
// service's per-second buckets throttle bursts even under the per-minute
// quota. Unlike a token-bucket limiter with reservations, a rate change
// applies at once to every waiter, because nobody holds a reservation:
// waiters look at next again when they wake.
type pacer struct {
	rate float64   // requests per second
	next time.Time // no send before this
}

// sent records a send at now (now ≥ next). A send up to half an interval
// late keeps the cadence (timers fire late, and the rate should hold);
// after a longer gap the next send is a whole interval away, so that
// there is never a burst of two.
func (p *pacer) sent(now time.Time) {
	interval := time.Duration(float64(time.Second) / p.rate)
	if now.Sub(p.next) <= interval/2 {
		p.next = p.next.Add(interval)
	} else {
		p.next = now.Add(interval)
	}
}

// appendWindow records t in a window of recent times (in order, as far
// as answers come back in order). It keeps at least the last succWindow
// and at most maxWindow entries of it; it trims only when the window has
// grown to twice that, so that a send costs the same however fast they
// come.
func appendWindow(w []time.Time, t time.Time) []time.Time {
	w = append(w, t)
	if len(w) < 2*maxWindow && t.Sub(w[0]) <= 2*succWindow {
		return w
	}
	i := max(0, len(w)-maxWindow)
	for i < len(w) && t.Sub(w[i]) > succWindow {
		i++
	}
	return append(w[:0], w[i:]...)
}

// limitSnapshot reports the current adaptive concurrency and rate (0: not
// paced), for tests and diagnostics.
func (c *controller) limitSnapshot() (concurrency int, rps float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pacer != nil {
		rps = c.pacer.rate
	}
	return c.currentLimit(), rps
}

// tokenPacer paces estimated tokens per minute (--tpm). DashScope counts
// input plus output against TPM, and enforces TPM/60 per second as well.
type tokenPacer struct {
	lim *rate.Limiter
}

func newTokenPacer(tpm float64) *tokenPacer {
	if tpm <= 0 {
		return nil
	}
	perSec := tpm / 60
	return &tokenPacer{lim: rate.NewLimiter(rate.Limit(perSec), max(1, int(perSec)))}
}

func (p *tokenPacer) wait(ctx context.Context, tokens int64) error {
	if p == nil {
		return nil
	}
	n := int(min(tokens, int64(p.lim.Burst())))
	return p.lim.WaitN(ctx, max(1, n))
}
