package model

import (
	"context"
	"net"
	"sync"
	"time"
)

var (
	_ RoundTripHinter = (*OpenAIClient)(nil)
	_ RoundTripHinter = (*DashScopeClient)(nil)
)

// RoundTripHinter is a Client that knows roughly how long a round trip to
// its service takes. The pipeline's slow start paces itself by it: a 429
// cannot come back sooner than a round trip, so a ramp that doubles
// faster than that sends blind.
type RoundTripHinter interface {
	// RoundTripHint is the shortest TCP connect seen so far (about one
	// network round trip); while the first connection is still being
	// set up, how long that has taken so far (a lower bound); 0 before
	// any connection was tried.
	RoundTripHint() time.Duration
}

// connTimer times the TCP connects of the default HTTP client.
type connTimer struct {
	mu       sync.Mutex
	best     time.Duration // shortest connect that completed (0: none yet)
	firstTry time.Time     // when the first connect began
	now      func() time.Time
}

func newConnTimer() *connTimer { return &connTimer{now: time.Now} }

// wrap times every connect made through dial (a nil timer times none).
func (t *connTimer) wrap(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if t == nil {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		start := t.now()
		t.mu.Lock()
		if t.firstTry.IsZero() {
			t.firstTry = start
		}
		t.mu.Unlock()
		conn, err := dial(ctx, network, addr)
		if err == nil {
			d := max(t.now().Sub(start), time.Microsecond)
			t.mu.Lock()
			if t.best == 0 || d < t.best {
				t.best = d
			}
			t.mu.Unlock()
		}
		return conn, err
	}
}

func (t *connTimer) RoundTripHint() time.Duration {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.best > 0:
		return t.best
	case !t.firstTry.IsZero():
		return t.now().Sub(t.firstTry)
	}
	return 0
}
