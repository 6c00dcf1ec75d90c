package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// target is a bound a figure must meet.
type target struct {
	op    string // "<=" or ">="
	limit float64
	unit  string // appended when shown, e.g. "×", " MB"
}

func atMost(v float64, unit string) *target  { return &target{"<=", v, unit} }
func atLeast(v float64, unit string) *target { return &target{">=", v, unit} }

func (t *target) met(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if t.op == "<=" {
		return v <= t.limit
	}
	return v >= t.limit
}

func (t *target) String() string {
	sym := "≤"
	if t.op == ">=" {
		sym = "≥"
	}
	return sym + " " + trimFloat(t.limit) + t.unit
}

// trimFloat prints v with at most three decimals and no trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// figure is one measured number: a row of the table.
type figure struct {
	name    string
	value   float64
	format  string  // fmt verb for value, e.g. "%.2f×"
	target  *target // nil: reported, not judged
	command string  // what reproduces it
}

func (f figure) shown() string { return fmt.Sprintf(f.format, f.value) }

func (f figure) verdict() string {
	switch {
	case f.target == nil:
		return "—"
	case f.target.met(f.value):
		return "pass"
	}
	return "**FAIL**"
}

// caseReport is what one case produced: its figures, how they were
// measured, and an error when the case could not run.
type caseReport struct {
	id      string
	title   string
	figures []figure
	notes   []string // markdown lines: commands, raw numbers, caveats
	err     error
}

// header describes the machine and the run, for the top of the file.
type header struct {
	date, goVersion, platform, cpu, bench string
	cores                                 int
	elapsed                               string
	loadStart, loadEnd                    string // /proc/loadavg: other work on the machine
}

// writeMarkdown renders the report.
func writeMarkdown(w io.Writer, h header, cases []caseReport, gobench, findings string) error {
	var b strings.Builder
	b.WriteString("# bulkgen benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `%s` on %s in %s. Machine: %s, %d cores (%s), %s.", h.bench, h.date, h.elapsed, h.platform, h.cores, h.cpu, h.goVersion)
	if h.loadStart != "" {
		fmt.Fprintf(&b, " Load average (1, 5, 15 min) before: %s, after: %s.", h.loadStart, h.loadEnd)
	}
	b.WriteString("\n\n")
	b.WriteString("Every run is the real `bulkgen` binary (built by the bench) against the simulator " +
		"(`model/modeltest`) started in the bench process on loopback; ratios compare figures measured in this same run. " +
		"`$BENCH` is the bench's temporary directory, `$SIM` the simulator's OpenAI-compatible base URL. " +
		"Each figure's command reruns its case alone.\n\n")
	b.WriteString("| Figure | Measured | Target | Result | Reproduce |\n|---|---|---|---|---|\n")
	for _, c := range cases {
		if c.err != nil {
			fmt.Fprintf(&b, "| %s | not measured: %s | | **FAIL** | `%s` |\n", mdCell(c.title), mdCell(firstLine(c.err.Error())), reproduce(c.id))
			continue
		}
		for _, f := range c.figures {
			t := ""
			if f.target != nil {
				t = f.target.String()
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` |\n", mdCell(f.name), f.shown(), t, f.verdict(), f.command)
		}
	}
	b.WriteString("\n## How each figure was measured\n")
	for _, c := range cases {
		fmt.Fprintf(&b, "\n### %s (`-run %s`)\n\n", c.title, c.id)
		for _, n := range c.notes {
			b.WriteString(n + "\n")
		}
		if c.err != nil {
			fmt.Fprintf(&b, "\nError:\n\n```\n%s\n```\n", c.err)
		}
	}
	if findings != "" {
		// Written by hand (bench/findings.md): what profiling found and
		// what was done about it, which no run can measure by itself.
		b.WriteString("\n" + strings.TrimSpace(findings) + "\n")
	}
	if gobench != "" {
		b.WriteString("\n## Go benchmarks of the hot paths\n\n")
		b.WriteString(gobench)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell keeps a value inside one table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
