package e2e

// End-to-end tests of the run store and of the failure behaviour of issue 3
// ("never pay twice, never lose a row"): kill -9 and resume, Ctrl-C and
// resume, fault storms, a simulator quota, dedupe, budgets, broken stores,
// a full disk and the runs ledger. Each drives the built binary against
// model/modeltest and counts, per row, the requests the simulator received.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"bulkgen/model/modeltest"
)

// rowCounter counts the requests that reached the simulator, per row. Rows
// are told apart by their user message (the rendered prompt), which the
// tests keep unique per row unless they test dedupe. Its hook method is a
// modeltest.Options.Fault.
type rowCounter struct {
	mu     sync.Mutex
	byRow  map[string]int
	total  int
	bad    int                           // bodies the hook could not parse
	inject func(n int64) modeltest.Fault // optional; called with mu held
	faults map[modeltest.Fault]int       // injected, by kind
}

func newRowCounter() *rowCounter {
	return &rowCounter{byRow: map[string]int{}, faults: map[modeltest.Fault]int{}}
}

func (c *rowCounter) hook(n int64, body []byte) modeltest.Fault {
	var req struct {
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	user, ok := "", json.Unmarshal(body, &req) == nil
	for _, m := range req.Messages {
		if m.Role == "user" {
			user = m.Content
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok || user == "" {
		c.bad++
	}
	c.byRow[user]++
	c.total++
	f := modeltest.FaultNone
	if c.inject != nil {
		f = c.inject(n)
	}
	if f != modeltest.FaultNone {
		c.faults[f]++
	}
	return f
}

// snapshot returns a copy of the per-row counts and the total. It fails the
// test if a request body could not be attributed to a row.
func (c *rowCounter) snapshot(t *testing.T) (map[string]int, int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bad > 0 {
		t.Fatalf("%d request bodies had no user message the test could read", c.bad)
	}
	m := make(map[string]int, len(c.byRow))
	for k, v := range c.byRow {
		m[k] = v
	}
	return m, c.total
}

// productName is the prompt value of row i: unique per row.
func productName(i int) string { return fmt.Sprintf("商品 %d 号", i) }

// writeRowsCSV writes n rows "id,商品名称,note" where 商品名称 is value(i)
// and note is pad (a column no prompt uses).
func writeRowsCSV(t *testing.T, dir, name string, n int, value func(i int) string, pad string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,商品名称,note\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d,%s,%s\n", i, value(i), pad)
	}
	return writeFile(t, dir, name, b.String())
}

// exitOf turns cmd.Wait's error into an exit code (-1: killed by a signal).
func exitOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatal(err)
	return 0
}

// setFlag gives every occurrence of flag in cmd's arguments the value v. The
// harness appends its own fast --retry-base and --retry-max after the test's
// arguments, and the last occurrence wins, so a test that needs a slower
// backoff overrides them here.
func setFlag(cmd *exec.Cmd, flag, v string) {
	for i := 1; i+1 < len(cmd.Args); i++ {
		if cmd.Args[i] == flag {
			cmd.Args[i+1] = v
		}
	}
}

// runCmd runs a prepared command and collects its output.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := exitOf(t, cmd.Run())
	if strings.Contains(out.String()+errb.String(), "panic:") {
		t.Fatalf("bulkgen panicked:\n%s", errb.String())
	}
	return result{code, out.String(), errb.String()}
}

var fromStoreRe = regexp.MustCompile(`\((\d[\d,]*) from the store, (\d[\d,]*) duplicates answered once`)

// summaryCounts reads "(N from the store, M duplicates answered once" from a
// run's summary; both are 0 when the summary has no such part.
func summaryCounts(t *testing.T, stderr string) (fromStore, dups int) {
	t.Helper()
	m := fromStoreRe.FindStringSubmatch(stderr)
	if m == nil {
		return 0, 0
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		if err != nil {
			t.Fatalf("summary number %q: %v", s, err)
		}
		return n
	}
	return atoi(m[1]), atoi(m[2])
}

// checkComplete asserts that tb holds rows 1..n in order, each answered
// without error and with an answer that belongs to it.
func checkComplete(t *testing.T, tb table, n int, value func(int) string) {
	t.Helper()
	if len(tb.rows) != n {
		t.Fatalf("%d rows in the output, want %d", len(tb.rows), n)
	}
	for i := range tb.rows {
		if got := tb.get(i, "id"); got != strconv.Itoa(i+1) {
			t.Fatalf("output row %d has id %s: a row is missing, repeated or out of order", i+1, got)
		}
		if tb.get(i, "error") != "" || tb.get(i, "finish_reason") != "stop" {
			t.Fatalf("row %d: %q", i+1, tb.rows[i])
		}
		if !strings.Contains(tb.get(i, "output"), value(i+1)) {
			t.Fatalf("row %d answer %q does not belong to it", i+1, tb.get(i, "output"))
		}
	}
}

// ids returns the id column of tb.
func ids(tb table) []int {
	var out []int
	for i := range tb.rows {
		n, _ := strconv.Atoi(tb.get(i, "id"))
		out = append(out, n)
	}
	return out
}

// killAfter starts cmd and kills it with SIGKILL once the simulator has
// answered `answered` more requests. It returns how many it had answered.
func killAfter(t *testing.T, sim *modeltest.Server, cmd *exec.Cmd, answered int64) int64 {
	t.Helper()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	base := sim.Stats().OK
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for sim.Stats().OK-base < answered {
		select {
		case err := <-exited:
			t.Fatalf("bulkgen ended (%v) before the kill after %d answers; make the run longer\n%s", err, answered, errb.String())
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			t.Fatalf("the simulator answered only %d requests in 30s\n%s", sim.Stats().OK-base, errb.String())
		case <-tick.C:
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("bulkgen was not killed by SIGKILL: %v\n%s", err, errb.String())
	}
	return sim.Stats().OK - base
}

// TestKill9ThenResume kills a 3,000-row run with SIGKILL at random moments,
// restarts the same command each time, and checks that the final output is
// byte for byte the output of an uninterrupted run, and that only requests
// in flight at a kill, or answered and not yet committed to the store (at
// most one per worker), were ever sent twice.
func TestKill9ThenResume(t *testing.T) {
	const rows, conc = 3000, 32
	simOpts := modeltest.Options{Latency: 10 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: 5}
	counter := newRowCounter()
	opts := simOpts
	opts.Fault = counter.hook
	sim := newSim(t, opts)
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "unused")
	out := filepath.Join(dir, "out.csv")
	args := []string{"run", "-i", in, "-o", out, "-c", strconv.Itoa(conc), "--prompt", "Translate: {{商品名称}}"}

	rng := rand.New(rand.NewPCG(20240603, 3))
	kills := 2 + rng.IntN(2)
	for k := 1; k <= kills; k++ {
		start := time.Now()
		n := killAfter(t, sim, prepare(t, sim, args...), int64(100+rng.IntN(800)))
		t.Logf("kill %d: SIGKILL after %d answers (%v)", k, n, time.Since(start).Round(time.Millisecond))
	}
	_, beforeFinal := counter.snapshot(t)

	start := time.Now()
	final := bulkgen(t, sim, "", args...)
	if final.code != 0 {
		t.Fatalf("final run: exit %d\n%s", final.code, final.stderr)
	}
	t.Logf("final run: %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(final.stderr))
	checkComplete(t, readTable(t, out), rows, productName)

	perRow, total := counter.snapshot(t)
	fromStore, _ := summaryCounts(t, final.stderr)
	if fromStore == 0 {
		t.Errorf("the final run's summary does not say that rows came from the store:\n%s", final.stderr)
	}
	// Each row the final run did not take from the store was sent once by
	// it, and no other: a row with a stored result is never asked again.
	if sentByFinal := total - beforeFinal; sentByFinal != rows-fromStore {
		t.Errorf("final run sent %d requests; %d rows came from the store, so want %d", sentByFinal, fromStore, rows-fromStore)
	}
	repeated := 0
	for i := 1; i <= rows; i++ {
		switch c := perRow["Translate: "+productName(i)]; {
		case c == 0:
			t.Fatalf("row %d was never requested", i)
		case c > 1:
			repeated++
		}
	}
	t.Logf("%d kills; %d requests for %d rows; %d rows requested more than once; %d from the store in the final run",
		kills, total, rows, repeated, fromStore)
	// At a kill, up to conc requests are in flight and up to conc
	// answers are waiting for their commit (the store batches commits).
	lost := 2 * conc
	if total > rows+kills*lost {
		t.Errorf("%d requests in all, want ≤ %d rows + %d kills × %d in flight or committing", total, rows, kills, lost)
	}
	if repeated > kills*lost {
		t.Errorf("%d rows were requested more than once; only the ≤ %d in flight or committing at the kills may be", repeated, kills*lost)
	}

	// The same command, uninterrupted, against a fresh store.
	ref := newSim(t, simOpts)
	refOut := filepath.Join(t.TempDir(), "out.csv")
	refArgs := slices.Clone(args)
	refArgs[4] = refOut
	refArgs = append(refArgs, "--store", filepath.Join(t.TempDir(), "ref.db"))
	if r := bulkgen(t, ref, "", refArgs...); r.code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s", r.code, r.stderr)
	}
	// A kill -9 cannot clean up: each killed run leaves its hidden
	// temporary output behind (the final name only ever holds a whole
	// file). The run that completes the output removes them.
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left after the final run: %v", left)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(refOut)
	if !bytes.Equal(got, want) {
		t.Errorf("the resumed output (%d bytes) differs from an uninterrupted run's (%d bytes)", len(got), len(want))
	}
}

// TestFaultStormCompletes injects the fault mix of issue 3 (5% 500, 5% 429
// with Retry-After, 1% hang, 1% connection reset, 1% truncated body) and
// checks that every row still gets its result, in a time the faults
// justify.
//
// The simulator's injected 429s carry "Retry-After: 1", and bulkgen pauses
// all sending for it, so every 429 costs up to a second of wall time
// whatever the client does: 500 rows (≈ 35 429s) could not run in well
// under a minute, hence 150 rows. The time allowed is a second per 429 and
// per hang (--timeout 1s), plus 5s: the rest of the run is milliseconds.
func TestFaultStormCompletes(t *testing.T) {
	const rows = 150
	counter := newRowCounter()
	rng := rand.New(rand.NewPCG(13, 13))
	counter.inject = func(int64) modeltest.Fault {
		switch x := rng.Float64(); {
		case x < 0.05:
			return modeltest.Fault500
		case x < 0.10:
			return modeltest.Fault429
		case x < 0.11:
			return modeltest.FaultHang
		case x < 0.12:
			return modeltest.FaultReset
		case x < 0.13:
			return modeltest.FaultTruncated
		}
		return modeltest.FaultNone
	}
	sim := newSim(t, modeltest.Options{RetryAfter: true, Fault: counter.hook, Latency: time.Millisecond})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	out := filepath.Join(dir, "out.jsonl")
	cmd := prepare(t, sim, "run", "-i", in, "-o", out, "-c", "16", "--timeout", "1s", "--retries", "10",
		"--prompt", "{{商品名称}}")
	allowed := func() time.Duration {
		counter.mu.Lock()
		defer counter.mu.Unlock()
		return time.Duration(counter.faults[modeltest.Fault429]+counter.faults[modeltest.FaultHang])*time.Second + 5*time.Second
	}
	// A run that crawls is stopped as soon as it is over the time its
	// faults so far justify, rather than holding up the suite.
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var overdue atomic.Bool
	watchdog := time.NewTicker(100 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-watchdog.C:
				if time.Since(start) > allowed() && !overdue.Swap(true) {
					cmd.Process.Kill()
				}
			}
		}
	}()
	code := exitOf(t, cmd.Wait())
	elapsed := time.Since(start)
	watchdog.Stop()
	close(done)
	r := result{code: code, stderr: stderr.String()}
	counter.mu.Lock()
	faults := faultNames(counter.faults)
	counter.mu.Unlock()
	_, total := counter.snapshot(t)
	t.Logf("%v; %d requests, faults injected %v; %s", elapsed.Round(time.Millisecond), total, faults, strings.TrimSpace(r.stderr))
	if overdue.Load() || elapsed > allowed() {
		t.Fatalf("killed or finished after %v; %d 429s (Retry-After: 1) and %d hangs (--timeout 1s) justify at most %v: the send rate collapsed",
			elapsed.Round(time.Millisecond), faults["429"], faults["hang"], allowed())
	}
	if r.code != 0 {
		t.Fatalf("exit %d after %v\n%s", r.code, elapsed.Round(time.Millisecond), r.stderr)
	}
	checkComplete(t, readTable(t, out), rows, productName)
	for _, f := range []modeltest.Fault{modeltest.Fault500, modeltest.Fault429, modeltest.FaultHang, modeltest.FaultReset, modeltest.FaultTruncated} {
		if faults[f.String()] == 0 {
			t.Errorf("no %s fault was injected; the test proves nothing about it", f)
		}
	}
}

// faultNames keys fault counts by the fault's name, for logs.
func faultNames(m map[modeltest.Fault]int) map[string]int {
	out := map[string]int{}
	for f, n := range m {
		out[f.String()] = n
	}
	return out
}

// TestQuotaSettlesUnderRPM runs against a simulator with a requests-per-
// minute quota and no --rpm: the adaptive limit must find the quota, so
// that the run takes close to the ideal time with few 429s. DashScope sends
// no Retry-After; other servers do, and the run must settle either way.
func TestQuotaSettlesUnderRPM(t *testing.T) {
	const rows, rpm = 300, 2400 // 40 requests/s: ideal 7.5s
	for _, tc := range []struct {
		name       string
		retryAfter bool
	}{
		{"no Retry-After (DashScope)", false},
		{"Retry-After (OpenAI, vLLM)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each has its own simulator and quota; mostly waiting, they
			// barely compete for the CPU.
			t.Parallel()
			sim := newSim(t, modeltest.Options{RPM: rpm, RetryAfter: tc.retryAfter, Latency: 3 * time.Millisecond, Jitter: 2 * time.Millisecond, Seed: 1})
			dir := t.TempDir()
			in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
			out := filepath.Join(dir, "out.csv")
			cmd := prepare(t, sim, "run", "-i", in, "-o", out, "-c", "32", "--prompt", "{{商品名称}}")
			setFlag(cmd, "--retry-base", "300ms")
			setFlag(cmd, "--retry-max", "60s") // the default; the harness's 50ms would cap the 300ms base
			start := time.Now()
			r := runCmd(t, cmd)
			elapsed := time.Since(start)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			checkComplete(t, readTable(t, out), rows, productName)
			st := sim.Stats()
			ideal := time.Duration(float64(rows) / (rpm / 60.0) * float64(time.Second))
			share := float64(st.Throttled) / float64(st.Requests)
			t.Logf("%d rows at %d RPM: %v (ideal %v, ×%.2f); %d requests, %d throttled (%.1f%%)",
				rows, rpm, elapsed.Round(time.Millisecond), ideal, elapsed.Seconds()/ideal.Seconds(), st.Requests, st.Throttled, 100*share)
			if elapsed > ideal*14/10 {
				t.Errorf("took %v, more than 1.4 × the ideal %v", elapsed.Round(time.Millisecond), ideal)
			}
			if share > 0.25 {
				t.Errorf("%d of %d requests were throttled (%.0f%%), want ≤ 25%%", st.Throttled, st.Requests, 100*share)
			}
			if !strings.Contains(r.stderr, fmt.Sprintf("%d throttled (429)", st.Throttled)) {
				t.Errorf("the summary does not report the %d 429s:\n%s", st.Throttled, r.stderr)
			}
		})
	}
}

// TestDedupeSendsIdenticalRequestsOnce repeats 20 prompt values over 200
// rows: identical requests, also those in flight together, are sent once,
// with and without a run store.
func TestDedupeSendsIdenticalRequestsOnce(t *testing.T) {
	for _, tc := range []struct {
		name           string
		rows, distinct int
		value          func(i int) string
		latency        time.Duration
		conc           string
		extra          []string
	}{
		// 20 values spread over 200 rows, slow answers: the twins of a
		// value are in flight together and wait for the first.
		{"store", 200, 20, func(i int) string { return productName(i % 20) }, 50 * time.Millisecond, "16", nil},
		{"no-store", 200, 20, func(i int) string { return productName(i % 20) }, 50 * time.Millisecond, "16", []string{"--no-store"}},
		// Each value three times in a row, instant answers: a twin often
		// looks for a stored answer just as the first one is being saved.
		{"store, back-to-back twins", 6000, 2000, func(i int) string { return productName((i - 1) / 3) }, 0, "32", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, distinct, value := tc.rows, tc.distinct, tc.value
			counter := newRowCounter()
			sim := newSim(t, modeltest.Options{Latency: tc.latency, Fault: counter.hook})
			dir := t.TempDir()
			in := writeRowsCSV(t, dir, "in.csv", rows, value, "x")
			out := filepath.Join(dir, "out.csv")
			args := append([]string{"run", "-i", in, "-o", out, "-c", tc.conc, "--prompt", "{{商品名称}}"}, tc.extra...)
			r := bulkgen(t, sim, "", args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			tb := readTable(t, out)
			checkComplete(t, tb, rows, value)
			perRow, total := counter.snapshot(t)
			t.Logf("%d requests for %d rows (max in flight %d); %s", total, rows, sim.Stats().MaxInFlight, strings.TrimSpace(r.stderr))
			if total != distinct || sim.Stats().Requests != int64(distinct) {
				t.Errorf("%d requests reached the simulator (hook %d), want %d: one per distinct prompt", sim.Stats().Requests, total, distinct)
			}
			var twice []string
			for v, n := range perRow {
				if n != 1 {
					twice = append(twice, fmt.Sprintf("%s ×%d", v, n))
				}
			}
			if len(twice) > 0 {
				slices.Sort(twice)
				t.Errorf("%d prompts were sent more than once: %s", len(twice), strings.Join(twice[:min(len(twice), 5)], ", "))
			}
			// Every row has its twin's answer, usage included.
			first := map[string][]string{}
			for i := range tb.rows {
				v := tb.get(i, "商品名称")
				got := []string{tb.get(i, "output"), tb.get(i, "prompt_tokens"), tb.get(i, "completion_tokens"), tb.get(i, "total_tokens")}
				if prev, ok := first[v]; ok && !slices.Equal(prev, got) {
					t.Fatalf("row %d (%s) answered %q, its twin %q", i+1, v, got, prev)
				}
				first[v] = got
			}
			if _, dups := summaryCounts(t, r.stderr); dups != rows-distinct {
				t.Errorf("summary reports %d duplicates, want %d:\n%s", dups, rows-distinct, r.stderr)
			}
		})
	}
}

// TestResumeAfterSIGINT interrupts a run and runs the same command again:
// no row with a stored result is requested again and the output is
// complete.
func TestResumeAfterSIGINT(t *testing.T) {
	const rows = 1000
	counter := newRowCounter()
	sim := newSim(t, modeltest.Options{Latency: 10 * time.Millisecond, Fault: counter.hook})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	out := filepath.Join(dir, "out.csv")
	args := []string{"run", "-i", in, "-o", out, "-c", "8", "--grace", "5s", "--prompt", "{{商品名称}}"}

	cmd := prepare(t, sim, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for sim.Stats().OK < 100 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitOf(t, cmd.Wait()); code != 130 {
		t.Fatalf("interrupted run: exit %d, want 130\n%s", code, errb.String())
	}
	first := readTable(t, out)
	_, sentFirst := counter.snapshot(t)
	t.Logf("interrupted: %d rows written, %d requests", len(first.rows), sentFirst)
	if len(first.rows) < 100 || len(first.rows) >= rows {
		t.Fatalf("%d rows written by the interrupted run", len(first.rows))
	}
	if !strings.Contains(errb.String(), "run the same command again") {
		t.Errorf("the interrupted run does not say how to resume:\n%s", errb.String())
	}

	r := bulkgen(t, sim, "", args...)
	if r.code != 0 {
		t.Fatalf("rerun: exit %d\n%s", r.code, r.stderr)
	}
	checkComplete(t, readTable(t, out), rows, productName)
	perRow, total := counter.snapshot(t)
	// Requests in flight at Ctrl-C finished within --grace and were
	// stored, so no row at all was sent twice.
	for _, id := range ids(first) {
		if n := perRow[productName(id)]; n != 1 {
			t.Errorf("row %d, finished before Ctrl-C, was requested %d times", id, n)
		}
	}
	if total != rows {
		t.Errorf("%d requests over both runs for %d rows, want each row once", total, rows)
	}
	if fromStore, _ := summaryCounts(t, r.stderr); fromStore != len(first.rows) {
		t.Errorf("rerun took %d rows from the store, want the %d finished before Ctrl-C:\n%s", fromStore, len(first.rows), r.stderr)
	}
}

// TestRefreshSendsEveryRowAgain: a rerun takes every row from the store;
// --refresh sends every row again and overwrites the stored answers.
func TestRefreshSendsEveryRowAgain(t *testing.T) {
	const rows = 100
	counter := newRowCounter()
	sim := newSim(t, modeltest.Options{Fault: counter.hook})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	out := filepath.Join(dir, "out.csv")
	var firstOut []byte
	for i, step := range []struct {
		flags     []string
		perRow    int // requests per row so far
		fromStore int
	}{
		{nil, 1, 0},
		{nil, 1, rows},
		{[]string{"--refresh"}, 2, 0},
		{nil, 2, rows},
	} {
		args := append([]string{"run", "-i", in, "-o", out, "-c", "8", "--prompt", "{{商品名称}}"}, step.flags...)
		r := bulkgen(t, sim, "", args...)
		if r.code != 0 {
			t.Fatalf("step %d %v: exit %d\n%s", i+1, step.flags, r.code, r.stderr)
		}
		checkComplete(t, readTable(t, out), rows, productName)
		data, _ := os.ReadFile(out)
		if firstOut == nil {
			firstOut = data
		} else if !bytes.Equal(data, firstOut) {
			t.Errorf("step %d %v: output differs from the first run's", i+1, step.flags)
		}
		perRow, total := counter.snapshot(t)
		for id := 1; id <= rows; id++ {
			if n := perRow[productName(id)]; n != step.perRow {
				t.Fatalf("step %d %v: row %d requested %d times in all, want %d", i+1, step.flags, id, n, step.perRow)
			}
		}
		fromStore, _ := summaryCounts(t, r.stderr)
		if fromStore != step.fromStore {
			t.Errorf("step %d %v: %d rows from the store, want %d:\n%s", i+1, step.flags, fromStore, step.fromStore, r.stderr)
		}
		t.Logf("step %d %v: %d requests in all; %s", i+1, step.flags, total, strings.TrimSpace(r.stderr))
	}
}

// TestKeepErrors: a row refused by content inspection is asked again on
// the next run, unless --keep-errors, which reuses its stored error.
//
// The simulator does not call the Fault hook for a request that carries a
// fault marker, so the refused row's requests are the simulator's total
// less what the hook counted.
func TestKeepErrors(t *testing.T) {
	const rows, bad = 20, 7
	counter := newRowCounter()
	sim := newSim(t, modeltest.Options{Fault: counter.hook})
	dir := t.TempDir()
	value := func(i int) string {
		if i == bad {
			return "[[sim:inspect]] " + productName(i)
		}
		return productName(i)
	}
	in := writeRowsCSV(t, dir, "in.csv", rows, value, "x")
	out := filepath.Join(dir, "out.csv")
	for i, step := range []struct {
		flags      []string
		badAsked   int // requests for the refused row so far
		total      int // requests in all so far
		errorWants []string
	}{
		{nil, 1, rows, []string{"data_inspection_failed"}},
		{nil, 2, rows + 1, []string{"data_inspection_failed"}},
		{[]string{"--keep-errors"}, 2, rows + 1, []string{"data_inspection_failed", "stored by an earlier run"}},
		{nil, 3, rows + 2, []string{"data_inspection_failed"}},
	} {
		args := append([]string{"run", "-i", in, "-o", out, "--prompt", "{{商品名称}}"}, step.flags...)
		r := bulkgen(t, sim, "", args...)
		if r.code != 3 {
			t.Fatalf("step %d %v: exit %d, want 3 (a row failed)\n%s", i+1, step.flags, r.code, r.stderr)
		}
		perRow, hooked := counter.snapshot(t)
		total := int(sim.Stats().Requests)
		if badAsked := total - hooked; badAsked != step.badAsked || total != step.total {
			t.Errorf("step %d %v: refused row asked %d times, %d requests in all; want %d and %d",
				i+1, step.flags, badAsked, total, step.badAsked, step.total)
		}
		for id := 1; id <= rows; id++ {
			if n := perRow[value(id)]; id != bad && n != 1 {
				t.Errorf("step %d %v: row %d requested %d times in all; it has a stored answer since the first run", i+1, step.flags, id, n)
			}
		}
		tb := readTable(t, out)
		if len(tb.rows) != rows {
			t.Fatalf("step %d: %d rows", i+1, len(tb.rows))
		}
		for j := range tb.rows {
			e := tb.get(j, "error")
			if j+1 != bad {
				if e != "" || tb.get(j, "output") == "" {
					t.Errorf("step %d row %d: %q", i+1, j+1, tb.rows[j])
				}
				continue
			}
			for _, w := range step.errorWants {
				if !strings.Contains(e, w) {
					t.Errorf("step %d %v: refused row's error %q lacks %q", i+1, step.flags, e, w)
				}
			}
			if !slices.Contains(step.flags, "--keep-errors") && strings.Contains(e, "stored by an earlier run") {
				t.Errorf("step %d: a fresh refusal is reported as stored: %q", i+1, e)
			}
		}
		t.Logf("step %d %v: %s", i+1, step.flags, strings.TrimSpace(r.stderr))
	}
}

// TestBudgetStopsAndResumes stops a run at a token budget of about half of
// what the job needs, then finishes it with a budget of twice what it
// needs. bulkgen holds back each request's worst case (its prompt estimate
// plus --expect-output-tokens, 1024 by default) until it is answered; the
// job's real answers are about 10 tokens, so both a realistic and the
// default expectation are tried.
func TestBudgetStopsAndResumes(t *testing.T) {
	const rows = 200
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	args := func(out string, extra ...string) []string {
		return append([]string{"run", "-i", in, "-o", out, "-c", "8", "--prompt", "Translate to English: {{商品名称}}"}, extra...)
	}

	// What the whole job costs, measured on a separate simulator, no store.
	ref := newSim(t, modeltest.Options{})
	refOut := filepath.Join(dir, "ref.csv")
	if r := bulkgen(t, ref, "", args(refOut, "--no-store")...); r.code != 0 {
		t.Fatalf("reference run: exit %d\n%s", r.code, r.stderr)
	}
	refTable := readTable(t, refOut)
	need := sumTokens(t, refTable)

	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"expected output given", []string{"--expect-output-tokens", "16"}},
		{"default expected output", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			budget := need / 2
			counter := newRowCounter()
			sim := newSim(t, modeltest.Options{Latency: 5 * time.Millisecond, Fault: counter.hook})
			out := filepath.Join(t.TempDir(), "out.csv")
			r := bulkgen(t, sim, "", args(out, append(slices.Clone(tc.extra), "--max-tokens-total", strconv.FormatInt(budget, 10))...)...)
			if r.code != 5 {
				t.Fatalf("budget run: exit %d, want 5\n%s", r.code, r.stderr)
			}
			for _, w := range []string{"--max-tokens-total", "run the same command"} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("budget message lacks %q:\n%s", w, r.stderr)
				}
			}
			first := readTable(t, out)
			spent := sumTokens(t, first)
			t.Logf("job needs %d tokens; budget %d; stopped with %d rows, %d tokens; %s", need, budget, len(first.rows), spent, strings.TrimSpace(r.stderr))
			if len(first.rows) == 0 || len(first.rows) >= rows {
				t.Fatalf("%d rows written under a budget of half the job", len(first.rows))
			}
			if spent > budget {
				t.Errorf("the output holds %d tokens, over the budget of %d", spent, budget)
			}
			if spent < budget/4 {
				t.Errorf("stopped after spending %d tokens of a budget of %d: the run stops as soon as the worst case of the requests in flight does not fit, instead of waiting for them to be answered", spent, budget)
			}
			if _, sent := counter.snapshot(t); sent != len(first.rows) {
				t.Errorf("%d requests sent for %d finished rows: the stopped run paid for rows it did not write", sent, len(first.rows))
			}
			prev := 0
			for i, id := range ids(first) {
				if id <= prev {
					t.Fatalf("row ids out of order: %v", ids(first))
				}
				prev = id
				if first.get(i, "error") != "" || first.get(i, "output") != refTable.get(id-1, "output") {
					t.Fatalf("row %d is not a finished answer: %q", id, first.rows[i])
				}
			}

			r = bulkgen(t, sim, "", args(out, append(slices.Clone(tc.extra), "--max-tokens-total", strconv.FormatInt(2*need, 10))...)...)
			if r.code != 0 {
				t.Fatalf("rerun with a budget of twice what the job needs: exit %d\n%s", r.code, r.stderr)
			}
			checkComplete(t, readTable(t, out), rows, productName)
			perRow, total := counter.snapshot(t)
			for _, id := range ids(first) {
				if n := perRow["Translate to English: "+productName(id)]; n != 1 {
					t.Errorf("row %d, finished under the first budget, was requested %d times", id, n)
				}
			}
			if total != rows {
				t.Errorf("%d requests over both runs, want %d (each row once)", total, rows)
			}
			if fromStore, _ := summaryCounts(t, r.stderr); fromStore != len(first.rows) {
				t.Errorf("rerun took %d rows from the store, want %d:\n%s", fromStore, len(first.rows), r.stderr)
			}
		})
	}
}

func sumTokens(t *testing.T, tb table) int64 {
	t.Helper()
	var sum int64
	for i := range tb.rows {
		n, err := strconv.ParseInt(tb.get(i, "total_tokens"), 10, 64)
		if err != nil {
			t.Fatalf("row %d total_tokens %q", i+1, tb.get(i, "total_tokens"))
		}
		sum += n
	}
	return sum
}

// TestStoreProblems: a store that cannot be used and an output that cannot
// be written fail before any request with a message that says what to do;
// a full disk fails the run without a store that claims the rows.
func TestStoreProblems(t *testing.T) {
	t.Run("bad store", func(t *testing.T) {
		dir := t.TempDir()
		in := writeRowsCSV(t, dir, "in.csv", 5, productName, "x")
		garbage := bytes.Repeat([]byte("not a database \x00\xff\x13"), 300)
		aFile := writeFile(t, dir, "plain.txt", "x")
		for _, tc := range []struct {
			name  string
			store string
			setup func(path string)
			wants []string // besides the path
		}{
			{"garbage bytes", filepath.Join(dir, "garbage.db"), func(p string) { os.WriteFile(p, garbage, 0o600) }, []string{"damaged", "--no-store"}},
			{"a directory", filepath.Join(dir, "adir.db"), func(p string) { os.Mkdir(p, 0o700) }, []string{"directory", "--store"}},
			{"parent is a file", filepath.Join(aFile, "store.db"), func(string) {}, []string{"--no-store"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.setup(tc.store)
				sim := newSim(t, modeltest.Options{})
				out := filepath.Join(dir, "out.csv")
				args := []string{"run", "-i", in, "-o", out, "--store", tc.store, "--prompt", "{{商品名称}}"}
				r := bulkgen(t, sim, "", args...)
				if r.code == 0 {
					t.Fatalf("exit 0 with an unusable store\n%s", r.stderr)
				}
				for _, w := range append([]string{tc.store}, tc.wants...) {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("message lacks %q:\n%s", w, r.stderr)
					}
				}
				t.Logf("exit %d: %s", r.code, strings.TrimSpace(r.stderr))
				if n := sim.Stats().Requests; n != 0 {
					t.Errorf("%d requests sent with an unusable store", n)
				}
				if _, err := os.Stat(out); err == nil {
					t.Error("an output file was written")
				}
				checkNoTemp(t, dir)
				if tc.name == "garbage bytes" {
					if b, _ := os.ReadFile(tc.store); !bytes.Equal(b, garbage) {
						t.Error("the file given as --store was changed")
					}
				}
				r = bulkgen(t, sim, "", append(args, "--no-store")...)
				if r.code != 0 {
					t.Fatalf("with --no-store: exit %d\n%s", r.code, r.stderr)
				}
				checkComplete(t, readTable(t, out), 5, productName)
				os.Remove(out)
			})
		}
	})

	t.Run("unwritable output", func(t *testing.T) {
		sim := newSim(t, modeltest.Options{})
		dir := t.TempDir()
		in := writeRowsCSV(t, dir, "in.csv", 5, productName, "x")
		aFile := writeFile(t, dir, "report.txt", "x")
		out := filepath.Join(aFile, "out.csv")
		r := bulkgen(t, sim, "", "run", "-i", in, "-o", out, "--prompt", "{{商品名称}}")
		if r.code == 0 {
			t.Fatalf("exit 0 with output under a regular file\n%s", r.stderr)
		}
		if !strings.Contains(r.stderr, out) {
			t.Errorf("message does not name the output %s:\n%s", out, r.stderr)
		}
		t.Logf("exit %d: %s", r.code, strings.TrimSpace(r.stderr))
		if n := sim.Stats().Requests; n != 0 {
			t.Errorf("%d requests sent before the output was found unwritable", n)
		}
	})

	t.Run("disk full", testDiskFull)
}

// checkNoTemp fails if a temporary output file is left in dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// ulimitBlock returns the unit of sh's `ulimit -f` in bytes (POSIX says 512;
// bash uses 1024), by writing more than one block under a limit of one.
func ulimitBlock(t *testing.T) int64 {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	// head may die of SIGXFSZ; what it managed to write is the limit.
	exec.Command("sh", "-c", `ulimit -f 1 && exec head -c 8192 /dev/zero > "$0"`, p).Run()
	fi, err := os.Stat(p)
	if err != nil || (fi.Size() != 512 && fi.Size() != 1024) {
		t.Fatalf("cannot find the unit of ulimit -f: %v, size %v", err, fi)
	}
	return fi.Size()
}

// testDiskFull runs bulkgen under a file-size limit (ulimit -f) that the
// output outgrows but the run store does not: every row carries a long
// column the prompt does not use. The run must fail cleanly and must not
// claim rows in the ledger; a rerun without the limit must finish from the
// store.
func testDiskFull(t *testing.T) {
	const rows, conc = 300, 8
	const padLen = 40 << 10
	counter := newRowCounter()
	sim := newSim(t, modeltest.Options{Latency: time.Millisecond, Fault: counter.hook})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, strings.Repeat("p", padLen))
	out := filepath.Join(dir, "out.csv")
	args := []string{"run", "-i", in, "-o", out, "-c", strconv.Itoa(conc), "--prompt", "{{商品名称}}"}
	// The output needs about rows × padLen bytes (12 MB); the limit lets
	// 90% of it through, which is far more than the store needs (its WAL
	// stays under SQLite's 4 MB checkpoint threshold), so only the output
	// hits the limit, late in the run.
	limit := int64(rows) * padLen * 9 / 10
	block := ulimitBlock(t)

	cmd := prepare(t, sim, args...)
	cmd.Args = append([]string{"sh", "-c", fmt.Sprintf(`ulimit -f %d && exec "$0" "$@"`, limit/block)}, cmd.Args...)
	cmd.Path, _ = exec.LookPath("sh")
	r := runCmd(t, cmd)
	perRow, sent := counter.snapshot(t)
	t.Logf("under ulimit -f %d (%d bytes): exit %d, %d requests; %s", limit/block, limit, r.code, sent, strings.TrimSpace(r.stderr))
	if r.code == 0 {
		t.Fatalf("exit 0 although the output could not be written\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "out.csv") || !strings.Contains(r.stderr, "file too large") {
		t.Errorf("the message should name the output and the cause:\n%s", r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an output file exists under the final name after the write failed")
	}
	checkNoTemp(t, dir)
	store := filepath.Join(cacheDir(t), "bulkgen", "store.db")
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(store + suffix); err == nil {
			t.Logf("store%s: %d bytes", suffix, fi.Size())
		}
	}

	runs := listRuns(t)
	if len(runs) != 1 {
		t.Fatalf("%d runs in the ledger, want 1", len(runs))
	}
	if run := runs[0]; run.Rows != 0 || !strings.Contains(run.Output, "not written") || run.ExitCode != r.code || run.Status == "ok" {
		t.Errorf("the ledger claims the failed run's output: %+v", run)
	}

	r = bulkgen(t, sim, "", args...)
	if r.code != 0 {
		t.Fatalf("rerun without the limit: exit %d\n%s", r.code, r.stderr)
	}
	checkComplete(t, readTable(t, out), rows, productName)
	after, total := counter.snapshot(t)
	fromStore, _ := summaryCounts(t, r.stderr)
	t.Logf("rerun: %d new requests, %d rows from the store", total-sent, fromStore)
	// Every row answered before the failure came from the store; only
	// those in flight when the run stopped may have been asked again.
	if fromStore < len(perRow)-conc {
		t.Errorf("rerun took %d rows from the store; %d rows were answered before the failure", fromStore, len(perRow))
	}
	if total-sent > rows/5 {
		t.Errorf("rerun sent %d requests; after a failure this late almost every row should come from the store", total-sent)
	}
	repeated := 0
	for _, n := range after {
		if n > 1 {
			repeated++
		}
	}
	if repeated > conc {
		t.Errorf("%d rows requested twice; at most the %d in flight at the failure may be", repeated, conc)
	}
}

// runView is the part of `bulkgen runs --json` the tests read.
type runView struct {
	ID               int64    `json:"id"`
	Command          []string `json:"command"`
	Output           string   `json:"output"`
	Status           string   `json:"status"`
	ExitCode         int      `json:"exit_code"`
	Rows             int64    `json:"rows"`
	Sent             int64    `json:"sent"`
	FromStore        int64    `json:"from_store"`
	Deduped          int64    `json:"deduped"`
	Failed           int64    `json:"failed"`
	Requests         int64    `json:"requests"`
	PromptTokens     int64    `json:"prompt_tokens"`
	CompletionTokens int64    `json:"completion_tokens"`
	Ended            *string  `json:"ended"`
}

// listRuns runs `bulkgen runs --json` on the test's default store.
func listRuns(t *testing.T) []runView {
	t.Helper()
	r := bulkgen(t, nil, "", "runs", "--json")
	if r.code != 0 {
		t.Fatalf("runs --json: exit %d\n%s", r.code, r.stderr)
	}
	var runs []runView
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		t.Fatalf("runs --json: %v\n%s", err, r.stdout)
	}
	return runs
}

// TestRunsLedger checks `bulkgen runs` and `bulkgen runs show` after two
// runs, and that the API key is nowhere in the store or the listings.
func TestRunsLedger(t *testing.T) {
	const rows = 20
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	out := filepath.Join(dir, "out.csv")
	args := []string{"run", "-i", in, "-o", out, "--prompt", "{{商品名称}}"}
	for i := 0; i < 2; i++ {
		if r := bulkgen(t, sim, "", args...); r.code != 0 {
			t.Fatalf("run %d: exit %d\n%s", i+1, r.code, r.stderr)
		}
	}
	tb := readTable(t, out)
	var prompt, completion int64
	for i := range tb.rows {
		p, _ := strconv.ParseInt(tb.get(i, "prompt_tokens"), 10, 64)
		c, _ := strconv.ParseInt(tb.get(i, "completion_tokens"), 10, 64)
		prompt, completion = prompt+p, completion+c
	}

	runs := listRuns(t)
	if len(runs) != 2 {
		t.Fatalf("%d runs listed, want 2", len(runs))
	}
	newer, older := runs[0], runs[1]
	if newer.ID <= older.ID {
		t.Errorf("runs not newest first: ids %d, %d", newer.ID, older.ID)
	}
	for _, c := range []struct {
		name string
		run  runView
		want runView
	}{
		{"first run", older, runView{Status: "ok", ExitCode: 0, Rows: rows, Sent: rows, FromStore: 0, Requests: rows, PromptTokens: prompt, CompletionTokens: completion}},
		{"second run", newer, runView{Status: "ok", ExitCode: 0, Rows: rows, Sent: 0, FromStore: rows, Requests: 0, PromptTokens: 0, CompletionTokens: 0}},
	} {
		got := c.run
		if got.Status != c.want.Status || got.ExitCode != c.want.ExitCode || got.Rows != c.want.Rows || got.Sent != c.want.Sent ||
			got.FromStore != c.want.FromStore || got.Requests != c.want.Requests || got.PromptTokens != c.want.PromptTokens ||
			got.CompletionTokens != c.want.CompletionTokens {
			t.Errorf("%s: status %q exit %d rows %d sent %d from_store %d requests %d tokens %d/%d; want %q %d %d %d %d %d %d/%d",
				c.name, got.Status, got.ExitCode, got.Rows, got.Sent, got.FromStore, got.Requests, got.PromptTokens, got.CompletionTokens,
				c.want.Status, c.want.ExitCode, c.want.Rows, c.want.Sent, c.want.FromStore, c.want.Requests, c.want.PromptTokens, c.want.CompletionTokens)
		}
		if got.Ended == nil || got.Output != out || !slices.Contains(got.Command, "{{商品名称}}") {
			t.Errorf("%s: ended %v output %q command %q", c.name, got.Ended, got.Output, got.Command)
		}
	}

	id := strconv.FormatInt(older.ID, 10)
	var listings []string
	var codes []int
	for _, a := range [][]string{
		{"runs"},
		{"runs", "--json"},
		{"runs", "show", id},
		{"runs", "show", "--json", id},
		{"runs", "show", id, "--json"}, // as `bulkgen runs show --help` and the issue spell it
	} {
		r := bulkgen(t, nil, "", a...)
		if r.code != 0 {
			t.Errorf("bulkgen %s: exit %d\n%s", strings.Join(a, " "), r.code, r.stderr)
		}
		listings, codes = append(listings, r.stdout+r.stderr), append(codes, r.code)
	}
	table, show, showJSON := listings[0], listings[2], listings[3]
	if codes[3] == 0 && codes[4] == 0 && listings[4] != showJSON {
		t.Errorf("`runs show %s --json` and `runs show --json %s` differ:\n%s\n%s", id, id, listings[4], showJSON)
	}
	for _, w := range []string{"STATUS", strconv.FormatInt(newer.ID, 10), strconv.FormatInt(older.ID, 10), "ok", fmt.Sprintf("%d stored answers", rows)} {
		if !strings.Contains(table, w) {
			t.Errorf("`bulkgen runs` lacks %q:\n%s", w, table)
		}
	}
	for _, w := range []string{"ok (exit 0)", fmt.Sprintf("%d written: %d sent, 0 from the store", rows, rows), fmt.Sprintf("%d in / %d out", prompt, completion), out} {
		if !strings.Contains(show, w) {
			t.Errorf("`bulkgen runs show` lacks %q:\n%s", w, show)
		}
	}
	var one runView
	if err := json.Unmarshal([]byte(showJSON), &one); err != nil {
		t.Fatalf("runs show --json: %v\n%s", err, showJSON)
	}
	if one.ID != older.ID || one.Sent != older.Sent || one.PromptTokens != older.PromptTokens || one.Status != older.Status {
		t.Errorf("runs show --json %+v differs from the listing %+v", one, older)
	}
	r := bulkgen(t, nil, "", "runs", "show", "999")
	if r.code == 0 || !strings.Contains(r.stderr, "999") {
		t.Errorf("runs show of an unknown id: exit %d %s", r.code, r.stderr)
	}

	// The key is in the environment of every run; it must not reach the
	// store (database, WAL, shared memory) or any listing.
	files, _ := filepath.Glob(filepath.Join(cacheDir(t), "bulkgen", "*"))
	if len(files) == 0 {
		t.Fatal("no store files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", filepath.Base(f), len(b))
		if bytes.Contains(b, []byte(simKey)) {
			t.Errorf("the API key is in %s", f)
		}
	}
	for i, l := range listings {
		if strings.Contains(l, simKey) {
			t.Errorf("the API key is in listing %d", i)
		}
	}
}
