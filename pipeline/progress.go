package pipeline

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress drives a progress bar from Stats on a ticker, so the hot path
// only bumps atomic counters.
type progress struct {
	bar  *progressbar.ProgressBar
	quit chan struct{}
	done chan struct{}
}

// money prints an amount with enough decimals to be useful for small runs.
func money(v float64, currency string) string {
	switch {
	case v == 0:
		return "0 " + currency
	case v < 0.01:
		return fmt.Sprintf("%.6f %s", v, currency)
	case v < 100:
		return fmt.Sprintf("%.4f %s", v, currency)
	}
	return fmt.Sprintf("%.2f %s", v, currency)
}

func startProgress(w io.Writer, stats *Stats, total int, currency string) *progress {
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("rows"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(28),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
	)
	p := &progress{bar: bar, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s := stats.Snapshot()
				desc := fmt.Sprintf("tokens %s in / %s out", human(s.PromptTokens), human(s.CompletionTokens))
				if s.Priced {
					desc += ", " + money(s.Cost, currency)
				}
				bar.Describe(desc + failedNote(s))
				_ = bar.Set64(s.Written)
			case <-p.quit:
				return
			}
		}
	}()
	return p
}

func failedNote(s Snapshot) string {
	var parts []string
	if s.FromStore+s.Deduped > 0 {
		parts = append(parts, fmt.Sprintf("%s from store", human(s.FromStore+s.Deduped)))
	}
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
	}
	if s.Throttled > 0 {
		parts = append(parts, fmt.Sprintf("%d×429", s.Throttled))
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// setTotal gives the bar its total once it is known.
func (p *progress) setTotal(n int) {
	select {
	case <-p.quit:
	default:
		p.bar.ChangeMax64(int64(n))
	}
}

func (p *progress) stop() {
	close(p.quit)
	<-p.done
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}

// human prints a count with thousands separators.
func human(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Summary is the one line printed at the end of every run.
func Summary(s Snapshot, currency string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s rows: %s ok, %s failed", human(s.Written), human(s.OK), human(s.Failed))
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %s skipped (empty)", human(s.Skipped))
	}
	if s.Unfinished > 0 {
		fmt.Fprintf(&b, ", %s not finished", human(s.Unfinished))
	}
	if s.FromStore > 0 || s.Deduped > 0 {
		fmt.Fprintf(&b, " (%s from the store, %s duplicates answered once; %s tokens saved)", human(s.FromStore), human(s.Deduped), human(s.SavedTokens))
	}
	fmt.Fprintf(&b, "; tokens %s in / %s out", human(s.PromptTokens), human(s.CompletionTokens))
	if s.ReasoningTokens > 0 {
		fmt.Fprintf(&b, " (%s reasoning)", human(s.ReasoningTokens))
	}
	if s.Priced {
		fmt.Fprintf(&b, "; cost %s", money(s.Cost, currency))
		if s.SavedCost > 0 {
			fmt.Fprintf(&b, " (%s saved)", money(s.SavedCost, currency))
		}
	}
	fmt.Fprintf(&b, "; %s requests", human(s.Requests))
	if s.Retries > 0 {
		fmt.Fprintf(&b, ", %s retries", human(s.Retries))
	}
	if s.Throttled > 0 {
		fmt.Fprintf(&b, ", %s throttled (429)", human(s.Throttled))
	}
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(&b, "; %s", roundDuration(s.Elapsed))
	if secs > 0 && s.Written > 0 {
		fmt.Fprintf(&b, " (%.1f rows/s)", float64(s.Written)/secs)
	}
	return b.String()
}

// roundDuration keeps two or three significant digits: 12ms, 1.23s, 2m3s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Second)
}
