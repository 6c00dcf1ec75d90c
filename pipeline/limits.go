package pipeline

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// controller is the adaptive limit in front of every request: at most
// limit requests in flight, started at no more than rate per second.
//
// It is AIMD, as in TCP congestion control. DashScope enforces its quotas
// per minute and per second and says nothing about them (no Retry-After,
// no rate-limit headers), so the only signal is a 429. On a 429 both the
// concurrency and the send rate are cut multiplicatively (the rate to just
// under what actually succeeded recently); while requests succeed they grow
// back additively. A run therefore settles just under the real quota
// instead of hammering it. A Retry-After, when a server sends one, pauses
// all sending until it has passed.
//
// A 429 for a request that was sent before the last cut does not cut
// again: it is the same overload, already answered.
type controller struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a waiter may proceed
	maxLimit int
	limit    float64 // concurrency, 1..maxLimit
	inFlight int
	lastCut  time.Time
	pause    time.Time // no sends before this (Retry-After)

	adaptive  bool
	pacer     *rate.Limiter // nil until the first 429 (or a fixed --rpm)
	fixedRPS  float64       // --rpm / 60; the adaptive rate never exceeds it
	firstSend time.Time
	succ      []time.Time       // recent successes, to measure achieved rate
	sends     []time.Time       // recent sends, for when nothing succeeded yet
	recent    [outcomeRing]bool // last outcomes: true = throttled
	nRecent   int               // outcomes recorded (saturates at len(recent))
	iRecent   int
	now       func() time.Time
}

const (
	cutFactor   = 0.5 // concurrency after a 429
	rateFactor  = 0.9 // send rate after a 429, of the recently achieved rate
	succWindow  = 10 * time.Second
	growthShare = 0.05 // requests/s added to the rate per success
	minRate     = 0.2  // requests/s; the adaptive rate never goes below it
	minSamples  = 5    // successes needed before the achieved rate is trusted
	cutCooldown = time.Second
	// A 429 cuts only when at least cutShare of the last outcomes were
	// 429s: a quota overrun throttles most requests, while a stray 429
	// (a burst somewhere else on the account, a hiccup) should not slow
	// a whole run down.
	cutShare    = 0.05
	outcomeRing = 100
	minOutcomes = 20
)

func newController(maxLimit int, rpm float64, adaptive bool) *controller {
	c := &controller{
		changed: make(chan struct{}), maxLimit: maxLimit, limit: float64(maxLimit),
		adaptive: adaptive, now: time.Now,
	}
	if rpm > 0 {
		c.fixedRPS = rpm / 60
		c.pacer = rate.NewLimiter(rate.Limit(c.fixedRPS), 1)
	}
	return c
}

// acquire waits for a free slot and the pacer. It returns the time the
// request is sent, to be given back to release.
func (c *controller) acquire(ctx context.Context) (time.Time, error) {
	for {
		c.mu.Lock()
		wait := c.pause.Sub(c.now())
		if wait <= 0 && c.inFlight < c.currentLimit() {
			c.inFlight++
			pacer := c.pacer
			c.mu.Unlock()
			if pacer != nil {
				if err := pacer.Wait(ctx); err != nil {
					c.releaseSlot()
					return time.Time{}, err
				}
			}
			c.mu.Lock()
			now := c.now()
			if c.firstSend.IsZero() {
				c.firstSend = now
			}
			c.sends = appendWindow(c.sends, now)
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

func (c *controller) currentLimit() int {
	return max(1, int(c.limit))
}

func (c *controller) releaseSlot() {
	c.mu.Lock()
	c.inFlight--
	c.wake()
	c.mu.Unlock()
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
		if until := now.Add(retryAfter); until.After(c.pause) {
			c.pause = until
		}
	}
	if !c.adaptive {
		return
	}
	if o != outcomeFailed {
		c.recent[c.iRecent] = o == outcomeThrottled
		c.iRecent = (c.iRecent + 1) % outcomeRing
		c.nRecent = min(c.nRecent+1, outcomeRing)
	}
	switch o {
	case outcomeOK:
		c.succ = appendWindow(c.succ, now)
		c.limit = math.Min(float64(c.maxLimit), c.limit+1/c.limit)
		if c.pacer != nil {
			// growthShare per success is growthShare of the rate per
			// second: the rate creeps up by that share each second
			// until the next 429 says where the quota is.
			r := float64(c.pacer.Limit())
			grown := r + growthShare
			if c.fixedRPS > 0 {
				grown = math.Min(grown, c.fixedRPS)
			}
			c.pacer.SetLimitAt(now, rate.Limit(grown))
		}
	case outcomeThrottled:
		if c.pacer != nil && (sent.Before(c.lastCut) || now.Sub(c.lastCut) < cutCooldown) {
			return // the same overload, already answered
		}
		if c.pacer == nil && c.nRecent < minOutcomes && sent.Before(c.lastCut) {
			return
		}
		if !c.overloaded() {
			return
		}
		if retryAfter > 0 {
			// The server said how long to wait, and all sending is
			// paused for that long; successes measured across the
			// pause would understate the quota, so only pause.
			return
		}
		c.lastCut = now
		c.limit = math.Max(1, c.limit*cutFactor)
		if c.nRecent < minOutcomes {
			// Too early to measure a rate; fewer requests in flight
			// is the whole answer for now.
			return
		}
		// Quotas are enforced per second as well as per minute, so
		// what succeeded in the last second is the best measure of
		// where the quota is.
		var target float64
		if n := lastSecond(c.succ, now); n >= minSamples {
			target = c.perSecond(n, now) * rateFactor
		} else {
			// Hardly anything succeeded: half of what was tried.
			target = c.perSecond(lastSecond(c.sends, now), now) * cutFactor
		}
		if c.pacer != nil {
			target = math.Min(target, float64(c.pacer.Limit())*rateFactor)
		}
		target = math.Max(minRate, target)
		if c.fixedRPS > 0 {
			target = math.Min(target, c.fixedRPS)
		}
		if c.pacer == nil {
			c.pacer = rate.NewLimiter(rate.Limit(target), 1)
		} else {
			c.pacer.SetLimitAt(now, rate.Limit(target))
		}
	}
}

// overloaded reports whether recent 429s are frequent enough to mean the
// run is over its quota. Call with mu held.
func (c *controller) overloaded() bool {
	if c.nRecent < minOutcomes {
		return true // too early to tell: trust the 429 (only concurrency is cut)
	}
	n := 0
	for i := 0; i < c.nRecent; i++ {
		if c.recent[i] {
			n++
		}
	}
	return float64(n) >= cutShare*float64(c.nRecent)
}

// appendWindow records t in a window of recent times, dropping what is
// older than succWindow and keeping at most 2048 entries.
func appendWindow(w []time.Time, t time.Time) []time.Time {
	w = append(w, t)
	if len(w) < 2048 && t.Sub(w[0]) <= succWindow {
		return w
	}
	i := 0
	for i < len(w) && t.Sub(w[i]) > succWindow {
		i++
	}
	if len(w)-i > 2048 {
		i = len(w) - 2048
	}
	return append(w[:0], w[i:]...)
}

// perSecond turns a count over the last second into a rate, allowing for
// a run younger than a second.
func (c *controller) perSecond(n float64, now time.Time) float64 {
	if len(c.sends) == 0 {
		return n
	}
	// A young run is credited with at least half a second: a quota's
	// burst allowance, spent in the first moments, is not its rate.
	age := now.Sub(c.firstSend).Seconds()
	return n / math.Min(1, math.Max(0.5, age))
}

// lastSecond counts the times in w within the second before now.
func lastSecond(w []time.Time, now time.Time) float64 {
	n := 0
	for i := len(w) - 1; i >= 0 && now.Sub(w[i]) <= time.Second; i-- {
		n++
	}
	return float64(n)
}

// limitSnapshot reports the current adaptive concurrency and rate (0: not
// paced), for tests and diagnostics.
func (c *controller) limitSnapshot() (concurrency int, rps float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pacer != nil {
		rps = float64(c.pacer.Limit())
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
