package model

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestConnTimer(t *testing.T) {
	now := time.Unix(100, 0)
	ct := &connTimer{now: func() time.Time { return now }}
	if h := ct.RoundTripHint(); h != 0 {
		t.Fatalf("hint %v before any connect, want 0", h)
	}
	connect := func(took time.Duration, fail bool) func(context.Context, string, string) (net.Conn, error) {
		return func(context.Context, string, string) (net.Conn, error) {
			// While the first connect is under way, the hint is how
			// long it has taken so far.
			first := ct.firstTry.Equal(now)
			now = now.Add(took / 2)
			if h := ct.RoundTripHint(); first && h != took/2 {
				t.Errorf("hint %v halfway through the first connect, want %v", h, took/2)
			}
			now = now.Add(took / 2)
			if fail {
				return nil, errors.New("refused")
			}
			a, b := net.Pipe()
			b.Close()
			return a, nil
		}
	}
	for _, step := range []struct {
		took time.Duration
		fail bool
		want time.Duration
	}{
		{80 * time.Millisecond, true, 80 * time.Millisecond}, // a failed connect: still the time tried
		{60 * time.Millisecond, false, 60 * time.Millisecond},
		{90 * time.Millisecond, false, 60 * time.Millisecond}, // the shortest counts
		{40 * time.Millisecond, false, 40 * time.Millisecond},
	} {
		if conn, err := ct.wrap(connect(step.took, step.fail))(context.Background(), "tcp", "x:1"); err == nil {
			conn.Close()
		}
		if h := ct.RoundTripHint(); h != step.want {
			t.Errorf("after a connect of %v (failed %v): hint %v, want %v", step.took, step.fail, h, step.want)
		}
	}
	var none *connTimer
	if none.RoundTripHint() != 0 {
		t.Error("a nil timer has a hint")
	}
}
