package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"bulkgen/store"
)

// runsCommand lists and shows the runs ledger kept in the run store.
func runsCommand(stdout io.Writer) *cli.Command {
	storeFlag := &cli.StringFlag{Name: "store", EnvVars: []string{"BULKGEN_STORE"},
		Usage: "run store `file` (default $XDG_CACHE_HOME/bulkgen/store.db)"}
	jsonFlag := &cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"}
	return &cli.Command{
		Name:      "runs",
		Usage:     "list recent runs from the run store (rows sent / from store / failed, tokens, status)",
		UsageText: "bulkgen runs [--limit N] [--json]\n   bulkgen runs show ID [--json]",
		Description: `Every bulkgen run with a run store is recorded: its command, input, output, model,
rows (sent, from the store, deduplicated, failed), tokens, start, end and exit status.
A run that shows "running" long after it started was killed.

Examples:
   bulkgen runs
   bulkgen runs --limit 50 --json
   bulkgen runs show 12`,
		Flags: []cli.Flag{storeFlag, jsonFlag,
			&cli.IntFlag{Name: "limit", Value: 20, Usage: "how many runs, newest first (0 = all)"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return &codeError{exitUsage, fmt.Errorf("unexpected argument %q (did you mean: bulkgen runs show ID?)", c.Args().First())}
			}
			s, err := openStoreForReading(c)
			if err != nil {
				return err
			}
			defer s.Close()
			runs, err := s.Runs(c.Context, c.Int("limit"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(stdout, runsJSON(runs))
			}
			if len(runs) == 0 {
				fmt.Fprintf(stdout, "no runs recorded in %s\n", s.Path())
				return nil
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTARTED\tDURATION\tSTATUS\tROWS\tSENT\tSTORE\tDEDUP\tFAILED\tTOKENS IN/OUT\tMODEL\tINPUT → OUTPUT")
			for _, r := range runs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%s\t%s → %s\n",
					r.ID, r.Started.Local().Format("2006-01-02 15:04:05"), duration(r), r.Status,
					r.Rows, r.Sent, r.FromStore, r.Deduped, r.Failed, r.PromptTokens, r.CompletionTokens,
					r.Model, r.Input, r.Output)
			}
			tw.Flush()
			if results, rowErrors, err := s.Stats(c.Context); err == nil {
				fmt.Fprintf(stdout, "\nstore %s: %d stored answers, %d stored row errors\n", s.Path(), results, rowErrors)
			}
			return nil
		},
		Subcommands: []*cli.Command{{
			Name:      "show",
			Usage:     "show one run in detail",
			UsageText: "bulkgen runs show ID [--json]",
			Flags:     []cli.Flag{storeFlag, jsonFlag},
			Action: func(c *cli.Context) error {
				// urfave/cli stops reading flags at the first argument, so
				// "show 12 --json" (the documented order) arrives as two
				// arguments; accept the flag there too.
				asJSON := c.Bool("json")
				var ids []string
				for _, a := range c.Args().Slice() {
					if a == "--json" || a == "-json" {
						asJSON = true
					} else {
						ids = append(ids, a)
					}
				}
				if len(ids) != 1 {
					return &codeError{exitUsage, errors.New("give one run ID, as listed by bulkgen runs")}
				}
				id, err := strconv.ParseInt(ids[0], 10, 64)
				if err != nil {
					return &codeError{exitUsage, fmt.Errorf("run ID %q: give the number bulkgen runs lists", ids[0])}
				}
				s, err := openStoreForReading(c)
				if err != nil {
					return err
				}
				defer s.Close()
				r, err := s.Run(c.Context, id)
				if errors.Is(err, store.ErrNoRun) {
					return fmt.Errorf("no run %d in %s (bulkgen runs lists them)", id, s.Path())
				}
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(stdout, runJSON(r))
				}
				tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
				row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
				row("run", r.ID)
				row("command", strings.Join(r.Command, " "))
				row("input", r.Input)
				row("output", r.Output)
				row("model", r.Model)
				row("endpoint", r.Endpoint)
				row("started", r.Started.Local().Format(time.RFC3339))
				if !r.Ended.IsZero() {
					row("ended", r.Ended.Local().Format(time.RFC3339))
				}
				row("duration", duration(r))
				row("status", fmt.Sprintf("%s (exit %d)", r.Status, r.ExitCode))
				row("rows", fmt.Sprintf("%d written: %d sent, %d from the store, %d duplicates, %d skipped, %d failed", r.Rows, r.Sent, r.FromStore, r.Deduped, r.Skipped, r.Failed))
				row("requests", fmt.Sprintf("%d (%d throttled)", r.Requests, r.Throttled))
				row("tokens", fmt.Sprintf("%d in / %d out (%d reasoning)", r.PromptTokens, r.CompletionTokens, r.ReasoningTokens))
				if r.Cost != nil {
					row("cost", fmt.Sprintf("%.4f %s", *r.Cost, r.Currency))
				}
				if r.Error != "" {
					row("error", r.Error)
				}
				return tw.Flush()
			},
		}},
	}
}

func openStoreForReading(c *cli.Context) (*store.Store, error) {
	p := c.String("store")
	if p == "" {
		var err error
		if p, err = store.DefaultPath(); err != nil {
			return nil, err
		}
	}
	return store.Open(c.Context, p)
}

func duration(r store.Run) string {
	if r.Ended.IsZero() {
		return "-"
	}
	return r.Ended.Sub(r.Started).Round(time.Millisecond).String()
}

// runJSONView is the stable JSON shape of a run.
type runJSONView struct {
	ID               int64      `json:"id"`
	Command          []string   `json:"command"`
	Input            string     `json:"input"`
	Output           string     `json:"output"`
	Model            string     `json:"model"`
	Endpoint         string     `json:"endpoint"`
	Started          time.Time  `json:"started"`
	Ended            *time.Time `json:"ended"`
	Status           string     `json:"status"`
	ExitCode         int        `json:"exit_code"`
	Rows             int64      `json:"rows"`
	Sent             int64      `json:"sent"`
	FromStore        int64      `json:"from_store"`
	Deduped          int64      `json:"deduped"`
	Skipped          int64      `json:"skipped"`
	Failed           int64      `json:"failed"`
	Requests         int64      `json:"requests"`
	Throttled        int64      `json:"throttled"`
	PromptTokens     int64      `json:"prompt_tokens"`
	CompletionTokens int64      `json:"completion_tokens"`
	ReasoningTokens  int64      `json:"reasoning_tokens"`
	Cost             *float64   `json:"cost"`
	Currency         string     `json:"currency,omitempty"`
	Error            string     `json:"error,omitempty"`
}

func runJSON(r store.Run) runJSONView {
	v := runJSONView{ID: r.ID, Command: r.Command, Input: r.Input, Output: r.Output, Model: r.Model,
		Endpoint: r.Endpoint, Started: r.Started, Status: r.Status, ExitCode: r.ExitCode, Rows: r.Rows,
		Sent: r.Sent, FromStore: r.FromStore, Deduped: r.Deduped, Skipped: r.Skipped, Failed: r.Failed,
		Requests: r.Requests, Throttled: r.Throttled, PromptTokens: r.PromptTokens,
		CompletionTokens: r.CompletionTokens, ReasoningTokens: r.ReasoningTokens, Cost: r.Cost,
		Currency: r.Currency, Error: r.Error}
	if !r.Ended.IsZero() {
		e := r.Ended
		v.Ended = &e
	}
	return v
}

func runsJSON(rs []store.Run) []runJSONView {
	out := make([]runJSONView, 0, len(rs))
	for _, r := range rs {
		out = append(out, runJSON(r))
	}
	return out
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
