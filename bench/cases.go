package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"bulkgen/model/modeltest"
)

func cases() []benchCase {
	return []benchCase{
		{"overhead", "1. Overhead at zero latency", caseOverhead},
		{"latency", "2. Latency-bound run", caseLatency},
		{"quota", "3. Quota-bound runs (RPM and TPM quotas, no --rpm/--tpm)", caseQuota},
		{"memory", "4. Memory", caseMemory},
		{"store", "5. Cost of the run store", caseStore},
		{"tokenizer", "6. Tokenizer speed", caseTokenizer},
	}
}

// Sizes and settings of the cases, named so that the notes can quote them.
const (
	overheadRows = 20000
	overheadConc = 64

	latencyRows    = 2000
	latencyConc    = 100
	latencyLatency = 200 * time.Millisecond

	quotaRows    = 600
	quotaRPS     = 20 // the quota, requests per second: 600 rows take 30 s
	quotaConc    = 200
	quotaLatency = 200 * time.Millisecond
	quotaJitter  = 100 * time.Millisecond

	// The memory sizes (-full). By default the CSV pair is 3/10
	// of them: the same tenfold growth, in the five minutes the whole
	// bench has on two cores (1,000,000 rows alone take two and a half
	// minutes there, five with the run store on).
	memSmallFull = 100000
	memLargeFull = 1000000
	memXLSXRows  = 200000
	memConc      = overheadConc
)

// memRows is the pair of CSV sizes the memory case compares.
func (b *bench) memRows() (small, large int) {
	if b.full {
		return memSmallFull, memLargeFull
	}
	return memSmallFull * 3 / 10, memLargeFull * 3 / 10
}

func reproduce(id string) string { return "go run ./bench -run '^" + id + "$'" }

// newSim starts a simulator that accepts only the bench's key.
func newSim(opts modeltest.Options) (*modeltest.Server, error) {
	opts.APIKey = simKey
	return modeltest.Listen("", opts)
}

// job writes the job file once and returns its path.
func (b *bench) job() (string, error) {
	p := filepath.Join(b.tmp, "job.yaml")
	if _, ok := b.inputs["job"]; ok {
		return p, nil
	}
	if err := os.WriteFile(p, []byte(jobYAML), 0o644); err != nil {
		return "", fmt.Errorf("write job file: %w", err)
	}
	b.inputs["job"] = p
	return p, nil
}

// input generates a CSV or XLSX input of rows rows once and returns its
// path.
func (b *bench) input(ctx context.Context, rows int, ext string) (string, error) {
	name := fmt.Sprintf("in-%d.%s", rows, ext)
	if p, ok := b.inputs[name]; ok {
		return p, nil
	}
	p := filepath.Join(b.tmp, name)
	t0 := time.Now()
	var err error
	if ext == "xlsx" {
		err = writeXLSX(ctx, p, rows)
	} else {
		err = writeCSV(ctx, p, rows)
	}
	if err != nil {
		return "", err
	}
	st, _ := os.Stat(p)
	b.logf("  generated %s (%d rows, %.1f MB) in %v", name, rows, float64(st.Size())/1e6, time.Since(t0).Round(100*time.Millisecond))
	b.inputs[name] = p
	return p, nil
}

// checkAnswered verifies that the simulator answered every row once and
// nothing else: a run that lost rows or retried must not pass as fast.
func checkAnswered(sim *modeltest.Server, rows int) error {
	st := sim.Stats()
	if st.OK != int64(rows) || st.Requests != int64(rows) {
		return fmt.Errorf("the simulator answered %d of %d requests for %d rows: the run did not send each row once", st.OK, st.Requests, rows)
	}
	return nil
}

// inputAndJob is a generated input of rows rows and the bench's job file.
func (b *bench) inputAndJob(ctx context.Context, rows int, ext string) (in, job string, err error) {
	if in, err = b.input(ctx, rows, ext); err != nil {
		return "", "", err
	}
	job, err = b.job()
	return in, job, err
}

// zeroLatencyRuns runs bulkgen over a generated input against a fresh
// zero-latency simulator, reps times (each with a fresh default run store
// unless extra turns it off), and remembers the runs under key, so that
// cases that share runs (overhead and store) run them once.
func (b *bench) zeroLatencyRuns(ctx context.Context, key string, rows int, ext string, reps int, extra ...string) ([]memoRun, error) {
	if m := b.memo[key]; len(m) >= reps {
		return m, nil
	}
	in, job, err := b.inputAndJob(ctx, rows, ext)
	if err != nil {
		return nil, err
	}
	for len(b.memo[key]) < reps {
		sim, err := newSim(modeltest.Options{})
		if err != nil {
			return nil, err
		}
		out := filepath.Join(b.tmp, "out-"+key+"."+ext)
		args := append([]string{"-i", in, "-j", job, "-o", out, "-c", strconv.Itoa(memConc)}, extra...)
		r, err := b.runBulkgen(ctx, sim, args...)
		os.Remove(out)
		if err == nil {
			err = checkAnswered(sim, rows)
		}
		cmd := r.command(b.tmp, sim.CompatibleBaseURL())
		sim.Close()
		if err != nil {
			return nil, err
		}
		b.memo[key] = append(b.memo[key], memoRun{r, cmd})
	}
	return b.memo[key], nil
}

// fastest is the run with the shortest wall time: on shared cores, the
// one least disturbed by other work.
func fastest(runs []memoRun) memoRun {
	best := runs[0]
	for _, r := range runs[1:] {
		if r.run.wall < best.run.wall {
			best = r
		}
	}
	return best
}

func walls(runs []memoRun) string {
	var s []string
	for _, r := range runs {
		s = append(s, r.run.wall.Round(time.Millisecond).String())
	}
	return strings.Join(s, ", ")
}

func caseOverhead(ctx context.Context, b *bench, rep *caseReport) error {
	in, job, err := b.inputAndJob(ctx, overheadRows, "csv")
	if err != nil {
		return err
	}
	bodies, err := renderBodies(ctx, in, job)
	if err != nil {
		return err
	}
	// The ideal client and bulkgen take turns, reps times each, each
	// against a fresh simulator; the fastest of each is compared, so
	// that a burst of other work on the machine hurts neither side.
	var ideals []idealResult
	var idealCPU []time.Duration
	for range b.reps {
		sim, err := newSim(modeltest.Options{})
		if err != nil {
			return err
		}
		cpu0 := selfCPU()
		ideal, err := idealClient(ctx, sim.CompatibleBaseURL(), simKey, bodies, overheadConc)
		cpu := selfCPU() - cpu0
		if err == nil {
			err = checkAnswered(sim, overheadRows)
		}
		sim.Close()
		if err != nil {
			return err
		}
		b.logf("  ideal client: %v for %d requests (%.0f/s), %v CPU with the simulator", ideal.wall.Round(time.Millisecond), ideal.requests, float64(ideal.requests)/ideal.wall.Seconds(), cpu.Round(time.Millisecond))
		ideals = append(ideals, ideal)
		idealCPU = append(idealCPU, cpu)
		if _, err := b.zeroLatencyRuns(ctx, "store-on", overheadRows, "csv", len(ideals)); err != nil {
			return err
		}
	}
	runs := b.memo["store-on"]
	best := fastest(runs)
	bestIdeal := ideals[0]
	var idealWalls []string
	for _, r := range ideals {
		idealWalls = append(idealWalls, r.wall.Round(time.Millisecond).String())
		if r.wall < bestIdeal.wall {
			bestIdeal = r
		}
	}
	minCPU := best.run.cpu()
	var simCPU time.Duration
	for _, r := range runs {
		minCPU = min(minCPU, r.run.cpu())
		simCPU += r.run.benchCPU
	}
	simCPU /= time.Duration(len(runs))
	ratio := best.run.wall.Seconds() / bestIdeal.wall.Seconds()
	rep.figures = append(rep.figures,
		figure{name: fmt.Sprintf("Overhead: wall of bulkgen -c %d ÷ wall of the ideal client, %s CSV rows, zero latency, store on (fastest of %d each)", overheadConc, thousands(overheadRows), b.reps),
			value: ratio, format: "%.2f×", target: atMost(1.25, "×"), command: reproduce("overhead")},
		figure{name: "bulkgen CPU (user+sys of the process) per row, same runs (least of them)", value: float64(minCPU.Microseconds()) / overheadRows, format: "%.0f µs", command: reproduce("overhead")},
	)
	rep.notes = append(rep.notes,
		fmt.Sprintf("- bulkgen, default configuration (run store on, in a fresh default location each time): `%s`", best.cmd),
		fmt.Sprintf("  - wall %s; fastest %.0f rows/s; CPU %v user + %v sys in the fastest, max RSS %.0f MB",
			walls(runs), overheadRows/best.run.wall.Seconds(), best.run.user.Round(time.Millisecond), best.run.sys.Round(time.Millisecond), mb(best.run.maxRSS)),
		fmt.Sprintf("  - the simulator (the bench process) used %v CPU per run, %.0f µs per request", simCPU.Round(time.Millisecond), float64(simCPU.Microseconds())/overheadRows),
		fmt.Sprintf("- ideal client (`bench/ideal.go`): %d goroutines posting the same %s bodies (rendered beforehand with bulkgen's reader and template: same model, messages and parameters) over a keep-alive pool and decoding each answer; nothing read, rendered, stored or written while timed",
			overheadConc, thousands(overheadRows)),
		fmt.Sprintf("  - wall %s; fastest %.0f requests/s; client and simulator together %v CPU, %.0f µs per request",
			strings.Join(idealWalls, ", "), float64(bestIdeal.requests)/bestIdeal.wall.Seconds(), idealCPU[0].Round(time.Millisecond), float64(idealCPU[0].Microseconds())/overheadRows),
		"- Both against a zero-latency simulator in the bench process, which shares the two cores with the client under test: the ratio is bounded by the simulator's share as much as by either client.",
	)
	return nil
}

func caseLatency(ctx context.Context, b *bench, rep *caseReport) error {
	in, job, err := b.inputAndJob(ctx, latencyRows, "csv")
	if err != nil {
		return err
	}
	sim, err := newSim(modeltest.Options{Latency: latencyLatency})
	if err != nil {
		return err
	}
	defer sim.Close()
	out := filepath.Join(b.tmp, "out-latency.csv")
	r, err := b.runBulkgen(ctx, sim, "-i", in, "-j", job, "-o", out, "-c", strconv.Itoa(latencyConc))
	if err != nil {
		return err
	}
	if err := checkAnswered(sim, latencyRows); err != nil {
		return err
	}
	// The same requests from the ideal client, for what this machine
	// allows at the moment.
	bodies, err := renderBodies(ctx, in, job)
	if err != nil {
		return err
	}
	sim2, err := newSim(modeltest.Options{Latency: latencyLatency})
	if err != nil {
		return err
	}
	defer sim2.Close()
	ir, err := idealClient(ctx, sim2.CompatibleBaseURL(), simKey, bodies, latencyConc)
	if err != nil {
		return err
	}
	ideal := time.Duration(latencyRows / latencyConc * int64(latencyLatency))
	rep.figures = append(rep.figures,
		figure{name: fmt.Sprintf("Latency-bound: wall ÷ (%s rows × %v ÷ %d), -c %d, %v latency", thousands(latencyRows), latencyLatency, latencyConc, latencyConc, latencyLatency),
			value: r.wall.Seconds() / ideal.Seconds(), format: "%.3f×", target: atMost(1.05, "×"), command: reproduce("latency")},
		figure{name: "… the ideal client on the same requests, for comparison", value: ir.wall.Seconds() / ideal.Seconds(), format: "%.3f×", command: reproduce("latency")},
	)
	rep.notes = append(rep.notes,
		fmt.Sprintf("- `%s` against a simulator answering every request after %v (store on)", r.command(b.tmp, sim.CompatibleBaseURL()), latencyLatency),
		fmt.Sprintf("  - %v wall; the ideal is %v: %d waves of %d requests; the ideal client took %v", r.wall.Round(time.Millisecond), ideal, latencyRows/latencyConc, latencyConc, ir.wall.Round(time.Millisecond)),
		fmt.Sprintf("  - of bulkgen's wall, %s was spent outside the run itself (process start, opening the store and the input, committing the output): bulkgen's own summary says the run took %s",
			(r.wall-r.elapsed()).Round(time.Millisecond), r.elapsed().Round(time.Millisecond)),
	)
	return nil
}

// quotaResult is one quota-bound run.
type quotaResult struct {
	kind    string // "RPM" or "TPM"
	quota   string // as configured, e.g. "RPM 1200"
	rps     float64
	run     childRun
	cmd     string
	stats   modeltest.Stats
	tokens  float64 // mean tokens per request (TPM)
	elapsed time.Duration
}

func caseQuota(ctx context.Context, b *bench, rep *caseReport) error {
	in, job, err := b.inputAndJob(ctx, quotaRows, "csv")
	if err != nil {
		return err
	}
	// The TPM quota is set from the tokens these very requests cost, as
	// the simulator bills them, so that it too allows quotaRPS requests a
	// second.
	bodies, err := renderBodies(ctx, in, job)
	if err != nil {
		return err
	}
	probe, err := newSim(modeltest.Options{})
	if err != nil {
		return err
	}
	pr, err := idealClient(ctx, probe.CompatibleBaseURL(), simKey, bodies, 8)
	probe.Close()
	if err != nil {
		return err
	}
	perReq := float64(pr.totalTokens) / float64(pr.requests)
	tpm := int(math.Round(quotaRPS * 60 * perReq))

	runs := []*quotaResult{
		{kind: "RPM", quota: fmt.Sprintf("RPM %d", quotaRPS*60), rps: quotaRPS},
		{kind: "TPM", quota: fmt.Sprintf("TPM %d (%.1f tokens per request)", tpm, perReq), rps: float64(tpm) / 60 / perReq, tokens: perReq},
	}
	// One after the other: at once, each would slow the other's start,
	// when a 429 that comes back late costs the most.
	errs := make([]error, len(runs))
	for i, q := range runs {
		opts := modeltest.Options{Latency: quotaLatency, Jitter: quotaJitter, Seed: int64(i + 1)}
		if q.kind == "RPM" {
			opts.RPM = quotaRPS * 60
		} else {
			opts.TPM = tpm
		}
		sim, err := newSim(opts)
		if err != nil {
			return err
		}
		out := filepath.Join(b.tmp, "out-quota-"+q.kind+".csv")
		q.run, errs[i] = b.runBulkgen(ctx, sim, "-i", in, "-j", job, "-o", out, "-c", strconv.Itoa(quotaConc))
		q.cmd = q.run.command(b.tmp, sim.CompatibleBaseURL())
		q.stats = sim.Stats()
		sim.Close()
	}
	for i, q := range runs {
		if errs[i] != nil {
			return fmt.Errorf("%s quota: %w", q.kind, errs[i])
		}
		if q.stats.OK != quotaRows {
			return fmt.Errorf("%s quota: the simulator answered %d of %d rows", q.kind, q.stats.OK, quotaRows)
		}
		got := float64(q.stats.OK) / q.run.wall.Seconds()
		share := float64(q.stats.Throttled) / float64(q.stats.Requests)
		rep.figures = append(rep.figures,
			figure{name: fmt.Sprintf("%s quota, -c %d: rows/s ÷ the quota's %.1f requests/s", q.kind, quotaConc, q.rps),
				value: 100 * got / q.rps, format: "%.1f%%", target: atLeast(95, "%"), command: reproduce("quota")},
			figure{name: fmt.Sprintf("%s quota: 429s ÷ requests (simulator's count)", q.kind),
				value: 100 * share, format: "%.1f%%", target: atMost(3, "%"), command: reproduce("quota")},
		)
		rep.notes = append(rep.notes,
			fmt.Sprintf("- %s: simulator with %s, latency %v + up to %v jitter, no Retry-After (as DashScope): `%s`", q.kind, q.quota, quotaLatency, quotaJitter, q.cmd),
			fmt.Sprintf("  - %d rows in %v (%.2f rows/s); %d requests, %d throttled (429), max %d in flight at the simulator",
				q.stats.OK, q.run.wall.Round(time.Millisecond), got, q.stats.Requests, q.stats.Throttled, q.stats.MaxInFlight),
		)
	}
	rep.notes = append(rep.notes,
		fmt.Sprintf("- The quota allows %d requests a second with one second's worth as a burst (the simulator's bucket, like the service's per-second enforcement), so %d rows cannot take less than %.0f s. The TPM quota is set from the mean billed tokens of these same requests, measured first on a simulator without quota. The two runs go one after the other, each with its own simulator.",
			quotaRPS, quotaRows, float64(quotaRows-quotaRPS)/quotaRPS),
	)
	return nil
}

func caseMemory(ctx context.Context, b *bench, rep *caseReport) error {
	smallRows, largeRows := b.memRows()
	small, err := b.zeroLatencyRuns(ctx, fmt.Sprintf("mem-%d", smallRows), smallRows, "csv", 1, "--no-store")
	if err != nil {
		return err
	}
	large, err := b.zeroLatencyRuns(ctx, fmt.Sprintf("mem-%d", largeRows), largeRows, "csv", 1, "--no-store")
	if err != nil {
		return err
	}
	xl, err := b.zeroLatencyRuns(ctx, "mem-xlsx", memXLSXRows, "xlsx", 1, "--no-store")
	if err != nil {
		return err
	}
	s, l, x := small[0].run, large[0].run, xl[0].run
	rep.figures = append(rep.figures,
		figure{name: fmt.Sprintf("Peak RSS, %s CSV rows → CSV, --no-store", thousands(smallRows)), value: mb(s.maxRSS), format: "%.0f MB", target: atMost(150, " MB"), command: reproduce("memory")},
		figure{name: fmt.Sprintf("Peak RSS, %s CSV rows → CSV, --no-store", thousands(largeRows)), value: mb(l.maxRSS), format: "%.0f MB", target: atMost(150, " MB"), command: reproduce("memory")},
		figure{name: fmt.Sprintf("Peak RSS ratio, %s ÷ %s rows", thousands(largeRows), thousands(smallRows)), value: float64(l.maxRSS) / float64(s.maxRSS), format: "%.2f×", target: atMost(1.3, "×"), command: reproduce("memory")},
		figure{name: fmt.Sprintf("Peak RSS, %s XLSX rows → XLSX, --no-store", thousands(memXLSXRows)), value: mb(x.maxRSS), format: "%.0f MB", target: atMost(150, " MB"), command: reproduce("memory")},
	)
	for _, m := range []memoRun{small[0], large[0], xl[0]} {
		rep.notes = append(rep.notes,
			fmt.Sprintf("- `%s`", m.cmd),
			fmt.Sprintf("  - %v wall, max RSS %.0f MB, CPU %v; %s", m.run.wall.Round(time.Millisecond), mb(m.run.maxRSS), m.run.cpu().Round(time.Millisecond), m.run.summary()),
		)
	}
	sizes := "the issue's 100,000 and 1,000,000 rows (`-full`)"
	if !b.full {
		sizes = fmt.Sprintf("%s and %s rows, the same tenfold growth as the issue's 100,000 and 1,000,000 rows, which `go run ./bench -run memory -full` measures: 1,000,000 rows alone take about two and a half minutes against the simulator on two cores, more than this bench's five-minute budget leaves",
			thousands(smallRows), thousands(largeRows))
	}
	rep.notes = append(rep.notes,
		"- Max RSS is the child's `ru_maxrss` from wait4. Zero-latency simulator, -c "+strconv.Itoa(memConc)+".",
		"- Sizes: "+sizes+".",
		"- `--no-store`: with the run store on (the default) bulkgen does about half as many rows a second (case 5), so these runs would not fit in the time; the store's memory is SQLite's page cache, which is bounded (case 1 reports the max RSS of store-on runs).",
	)
	return nil
}

func caseStore(ctx context.Context, b *bench, rep *caseReport) error {
	on, err := b.zeroLatencyRuns(ctx, "store-on", overheadRows, "csv", b.reps)
	if err != nil {
		return err
	}
	off, err := b.zeroLatencyRuns(ctx, "store-off", overheadRows, "csv", b.reps, "--no-store")
	if err != nil {
		return err
	}
	bon, boff := fastest(on), fastest(off)
	rep.figures = append(rep.figures,
		figure{name: fmt.Sprintf("Run store: rows/s with --no-store ÷ rows/s with the store (the default), %s CSV rows, zero latency, -c %d (fastest of %d each)", thousands(overheadRows), memConc, b.reps),
			value: bon.run.wall.Seconds() / boff.run.wall.Seconds(), format: "%.2f×", target: atMost(1.10, "×"), command: reproduce("store")},
		figure{name: "… CPU per row with the store ÷ without", value: bon.run.cpu().Seconds() / boff.run.cpu().Seconds(), format: "%.2f×", command: reproduce("store")},
	)
	rep.notes = append(rep.notes,
		fmt.Sprintf("- store on: `%s`: wall %s, CPU %v in the fastest", bon.cmd, walls(on), bon.run.cpu().Round(time.Millisecond)),
		fmt.Sprintf("- store off: `%s`: wall %s, CPU %v in the fastest", boff.cmd, walls(off), boff.run.cpu().Round(time.Millisecond)),
	)
	return nil
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// thousands prints n with comma separators: 20000 → "20,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
