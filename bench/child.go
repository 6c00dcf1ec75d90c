package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"bulkgen/model/modeltest"
)

// keyEnv is the variable that hands the simulator's key to bulkgen, the
// way a user hands DASHSCOPE_API_KEY (--api-key-env names it).
const (
	keyEnv = "BULKGEN_BENCH_KEY"
	simKey = "sk-bench-0123456789"
)

// childRun is one finished bulkgen process.
type childRun struct {
	argv   []string // as run, the binary first
	env    []string // the variables set on top of the inherited environment
	wall   time.Duration
	user   time.Duration
	sys    time.Duration
	maxRSS int64 // bytes
	stderr string
	// benchCPU is the CPU the bench process used meanwhile: the
	// simulator, since the bench itself only waits.
	benchCPU time.Duration
}

func (r childRun) cpu() time.Duration { return r.user + r.sys }

// summary is bulkgen's summary line.
func (r childRun) summary() string { return lastLine(r.stderr) }

// elapsed is the run's duration as bulkgen's summary reports it (from
// the first row read to the last written), or the wall time when the
// summary has none.
func (r childRun) elapsed() time.Duration {
	m := elapsedRE.FindStringSubmatch(r.summary())
	if m == nil {
		return r.wall
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		return r.wall
	}
	return d
}

var elapsedRE = regexp.MustCompile(`; ([0-9.]+(?:ms|s)|[0-9]+m[0-9.]+s) \([0-9.]+ rows/s\)$`)

// selfCPU is the CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleHWM polls the peak resident set size (VmHWM in /proc/PID/status,
// which only grows) of a running process until stop is closed, and
// returns the last value read, in bytes: at most the growth of its last
// hwmPoll is missed. 0 where /proc is not there.
func sampleHWM(pid int, stop <-chan struct{}) int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	var peak int64
	t := time.NewTicker(hwmPoll)
	defer t.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
						peak = max(peak, kb*1024)
					}
				}
			}
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

const hwmPoll = 10 * time.Millisecond

// command is the run as a shell command line, with the temporary
// directory shown as $BENCH and the simulator's address as $SIM.
func (r childRun) command(tmp, simURL string) string {
	var parts []string
	for _, e := range r.env {
		parts = append(parts, shellQuote(e))
	}
	for i, a := range r.argv {
		if i == 0 {
			a = "bulkgen"
		}
		parts = append(parts, shellQuote(a))
	}
	s := strings.Join(parts, " ")
	if simURL != "" {
		s = strings.ReplaceAll(s, simURL, "$SIM")
	}
	return strings.ReplaceAll(s, tmp, "$BENCH")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%$", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runBulkgen runs `bulkgen run args...` against sim and waits for it. The
// run store, when the args leave it on, goes to a fresh XDG_CACHE_HOME
// under the bench's temporary directory: the default location of a fresh
// install, never the user's own store. Any exit code but 0 is an error.
func (b *bench) runBulkgen(ctx context.Context, sim *modeltest.Server, args ...string) (childRun, error) {
	n := b.seq.Add(1)
	cache := filepath.Join(b.tmp, fmt.Sprintf("cache-%d", n))
	argv := append([]string{b.binary, "run"}, args...)
	argv = append(argv, "--base-url", sim.CompatibleBaseURL(), "--api-key-env", keyEnv, "-q")
	r := childRun{argv: argv, env: []string{keyEnv + "=" + simKey, "XDG_CACHE_HOME=" + cache}}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), r.env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	b.logf("  $ %s", r.command(b.tmp, sim.CompatibleBaseURL()))
	cpu0 := selfCPU()
	start := time.Now()
	err := cmd.Start()
	var hwm int64
	if err == nil {
		stop := make(chan struct{})
		sampled := make(chan int64)
		go func() { sampled <- sampleHWM(cmd.Process.Pid, stop) }()
		err = cmd.Wait()
		close(stop)
		hwm = <-sampled
	}
	r.wall = time.Since(start)
	r.benchCPU = selfCPU() - cpu0
	r.stderr = stderr.String()
	// Kept with the inputs (-keep) for a closer look.
	_ = os.WriteFile(filepath.Join(b.tmp, fmt.Sprintf("run-%d.log", n)), stderr.Bytes(), 0o644)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.user = time.Duration(ru.Utime.Nano())
			r.sys = time.Duration(ru.Stime.Nano())
			r.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if hwm > 0 {
		// wait4's ru_maxrss is no good here: Go starts children with
		// vfork, and Linux counts the parent's (this bench's) peak RSS
		// into the child's at exec.
		r.maxRSS = hwm
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return r, fmt.Errorf("bulkgen exited %d after %v:\n%s", ee.ExitCode(), r.wall.Round(time.Millisecond), tail(r.stderr, 2000))
		}
		return r, fmt.Errorf("run bulkgen: %w", err)
	}
	b.logf("    %v wall, %v cpu, %.0f MB max RSS; %s", r.wall.Round(time.Millisecond), r.cpu().Round(time.Millisecond),
		float64(r.maxRSS)/(1<<20), lastLine(r.stderr))
	return r, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// lastLine is bulkgen's summary line ("N rows: ..."), or its last line.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], " rows: ") {
			return strings.TrimPrefix(lines[i], "bulkgen: ")
		}
	}
	return lines[len(lines)-1]
}
