// Command bench measures bulkgen the way the issue tracker states its
// performance targets (issue #8) and writes BENCHMARKS.md: a table of
// figures, their targets, pass or fail, and the command that reproduces
// each.
//
// It builds the bulkgen binary into a temporary directory and runs it
// against the simulator (model/modeltest), started in this process so that
// its counters (requests, 429s) can be read. Inputs are generated into the
// same temporary directory. Every ratio compares figures measured in the
// same run, on the same machine, never against a number written down
// elsewhere.
//
//	go run ./bench                      # every case, writes ./BENCHMARKS.md
//	go run ./bench -run quota           # one case (a regular expression over case ids)
//	go run ./bench -gobench -o BENCH.md # also the Go benchmarks of the hot paths
//
// The whole run takes under five minutes on two cores; -gobench adds about
// a minute.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// bench is one run of the benchmarks.
type bench struct {
	root   string // module root, where go build and go test run
	tmp    string // temporary directory: binary, inputs, outputs, stores
	binary string // the bulkgen binary under test
	reps   int    // runs of each side of a comparison
	full   bool   // the memory sizes
	logMu  sync.Mutex
	log    io.Writer
	seq    atomic.Int64         // numbers the runs' cache directories
	memo   map[string][]memoRun // runs that several cases share
	inputs map[string]string    // generated inputs by name
}

func (b *bench) logf(format string, args ...any) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	fmt.Fprintf(b.log, format+"\n", args...)
}

// memoRun is a finished run and its command line.
type memoRun struct {
	run childRun
	cmd string
}

// benchCase is one measured case; run fills rep.
type benchCase struct {
	id, title string
	run       func(ctx context.Context, b *bench, rep *caseReport) error
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "BENCHMARKS.md", "write the report to `file`")
	only := fs.String("run", "", "run only the cases whose id matches this `regexp` (ids: "+caseIDs()+")")
	gobench := fs.Bool("gobench", false, "also run the Go benchmarks of the hot paths (go test -bench) and append them")
	keep := fs.Bool("keep", false, "keep the temporary directory (inputs, outputs, stores) and print its path")
	reps := fs.Int("reps", 2, "`runs` of each side of a comparison (overhead, store); the fastest counts")
	full := fs.Bool("full", false, "memory at the issue's sizes, 100,000 and 1,000,000 CSV rows (about 2½ minutes more)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [-o BENCHMARKS.md] [-run REGEXP] [-gobench] [-full] [-reps N] [-keep]\n\n"+
			"Builds bulkgen, runs it against the in-process simulator and writes a table of\n"+
			"figures, targets and results (issue #8).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *reps < 1 {
		fmt.Fprintf(stderr, "bench: -reps %d: at least 1\n", *reps)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	}
	sel, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintf(stderr, "bench: -run %q: %v\n", *only, err)
		return 2
	}
	var chosen []benchCase
	for _, c := range cases() {
		if sel.MatchString(c.id) {
			chosen = append(chosen, c)
		}
	}
	if len(chosen) == 0 {
		fmt.Fprintf(stderr, "bench: -run %q matches no case (ids: %s)\n", *only, caseIDs())
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	loadStart := loadAvg()
	b := &bench{log: stderr, reps: *reps, full: *full, memo: map[string][]memoRun{}, inputs: map[string]string{}}
	if err := b.setup(ctx); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if *keep {
		b.logf("bench: keeping %s", b.tmp)
	} else {
		defer os.RemoveAll(b.tmp)
	}

	var reports []caseReport
	failed := 0
	for _, c := range chosen {
		b.logf("== %s (%s)", c.title, c.id)
		t0 := time.Now()
		rep := caseReport{id: c.id, title: c.title}
		rep.err = c.run(ctx, b, &rep)
		if rep.err != nil {
			b.logf("  error: %v", rep.err)
		}
		for _, f := range rep.figures {
			b.logf("  %-70s %12s  %-10s %s", f.name, f.shown(), targetString(f.target), f.verdict())
			if f.verdict() == "**FAIL**" {
				failed++
			}
		}
		if rep.err != nil {
			failed++
		}
		b.logf("  (%v)", time.Since(t0).Round(100*time.Millisecond))
		reports = append(reports, rep)
		if ctx.Err() != nil {
			break
		}
	}
	var gb string
	if *gobench && ctx.Err() == nil {
		b.logf("== Go benchmarks")
		gb, err = b.goBenchmarks(ctx)
		if err != nil {
			b.logf("  error: %v", err)
			gb += fmt.Sprintf("\nError: %v\n", err)
			failed++
		}
	}
	cmdline := "go run ./bench"
	if len(args) > 0 {
		cmdline += " " + strings.Join(args, " ")
	}
	h := header{
		date: time.Now().Format("2006-01-02 15:04 MST"), goVersion: runtime.Version(),
		platform: runtime.GOOS + "/" + runtime.GOARCH, cores: runtime.NumCPU(), cpu: cpuModel(),
		bench: cmdline, elapsed: time.Since(start).Round(time.Second).String(),
		loadStart: loadStart, loadEnd: loadAvg(),
	}
	f, err := os.Create(*out)
	if err == nil {
		err = writeMarkdown(f, h, reports, gb, b.findings())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: write %s: %v\n", *out, err)
		return 1
	}
	b.logf("bench: wrote %s in %s; %d figure(s) or case(s) failed", *out, h.elapsed, failed)
	if ctx.Err() != nil {
		return 130
	}
	if failed > 0 {
		return 3
	}
	return 0
}

func targetString(t *target) string {
	if t == nil {
		return ""
	}
	return t.String()
}

// setup finds the module, makes the temporary directory and builds bulkgen
// into it.
func (b *bench) setup(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return errors.New("not inside the bulkgen module: run it from the repository, e.g. go run ./bench")
	}
	b.root = filepath.Dir(gomod)
	if b.tmp, err = os.MkdirTemp("", "bulkgen-bench-"); err != nil {
		return err
	}
	b.binary = filepath.Join(b.tmp, "bulkgen")
	t0 := time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-o", b.binary, ".")
	build.Dir = b.root
	if msg, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(b.tmp)
		return fmt.Errorf("go build -o %s . failed: %v\n%s", b.binary, err, msg)
	}
	b.logf("bench: built %s in %v", b.binary, time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// findings is bench/findings.md, the profiling notes the report ends
// with; "" if it cannot be read.
func (b *bench) findings() string {
	data, err := os.ReadFile(filepath.Join(b.root, "bench", "findings.md"))
	if err != nil {
		b.logf("bench: no profiling notes: %v", err)
		return ""
	}
	return string(data)
}

// loadAvg is the first three fields of /proc/loadavg: how busy the
// machine was with other work, which the figures depend on.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// cpuModel names the processor, for the report header.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func caseIDs() string {
	var ids []string
	for _, c := range cases() {
		ids = append(ids, c.id)
	}
	return strings.Join(ids, ", ")
}
