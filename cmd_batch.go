package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"bulkgen/pipeline"
	"bulkgen/prompts"
	"bulkgen/store"
	"bulkgen/writers"
)

// runMode reads --mode: false for realtime, true for batch.
func runMode(c *cli.Context) (bool, error) {
	switch m := strings.ToLower(c.String("mode")); m {
	case "", "realtime":
		return false, nil
	case "batch":
		if c.Bool("dry-run") {
			return false, errors.New("--dry-run shows requests without sending: use bulkgen batch export to see the batch request file instead")
		}
		return true, nil
	default:
		return false, fmt.Errorf("--mode %q: use realtime or batch", m)
	}
}

// batchOptions maps the --batch-* flags.
func batchOptions(c *cli.Context, svc service) (pipeline.BatchOptions, error) {
	bo := pipeline.BatchOptions{
		Service:  svc.batch,
		Window:   c.String("batch-window"),
		MaxLines: c.Int("batch-max-lines"),
		MaxBytes: int64(c.Int("batch-max-mb")) << 20,
		Poll:     c.Duration("batch-poll"),
		NoWait:   c.Bool("no-wait"),
		Repairs:  c.Int("batch-repairs"),
	}
	if bo.Repairs < 0 {
		return bo, errors.New("--batch-repairs cannot be negative")
	}
	if bo.Poll == 0 && svc.sim {
		bo.Poll = 200 * time.Millisecond
	}
	if err := checkWindow(bo.Window); err != nil {
		return bo, err
	}
	if bo.MaxLines < 1 || bo.MaxLines > pipeline.MaxBatchLines {
		return bo, fmt.Errorf("--batch-max-lines %d: use 1 to %d", bo.MaxLines, pipeline.MaxBatchLines)
	}
	if mb := c.Int("batch-max-mb"); mb < 1 || mb > pipeline.MaxBatchBytes>>20 {
		return bo, fmt.Errorf("--batch-max-mb %d: use 1 to %d", mb, pipeline.MaxBatchBytes>>20)
	}
	if bo.Poll < 0 {
		return bo, errors.New("--batch-poll cannot be negative")
	}
	if svc.sim && bo.NoWait {
		return bo, errors.New("--no-wait with --sim: the simulator ends with this process, so its batches could never be collected; drop --no-wait")
	}
	return bo, nil
}

// checkWindow accepts what the service documents: 24h to 336h, 1d to 14d.
func checkWindow(w string) error {
	var n int
	var unit string
	if _, err := fmt.Sscanf(w, "%d%s", &n, &unit); err == nil {
		switch {
		case unit == "h" && n >= 24 && n <= 336, unit == "d" && n >= 1 && n <= 14:
			return nil
		}
	}
	return fmt.Errorf("--batch-window %q: use 24h to 336h, or 1d to 14d", w)
}

// serviceFlagNames are the flags of `batch wait|fetch|cancel`, taken from
// run's so that they read the same.
var serviceFlagNames = []string{"api", "base-url", "region", "api-key-env", "timeout", "store"}

func pickFlags(names ...string) []cli.Flag {
	var out []cli.Flag
	for _, f := range runFlags() {
		if slices.Contains(names, f.Names()[0]) {
			out = append(out, f)
		}
	}
	return out
}

func batchCommand(stdin io.Reader, stdout, stderr io.Writer) *cli.Command {
	pollFlag := &cli.DurationFlag{Name: "batch-poll", Value: pipeline.DefaultBatchPoll, Usage: "how often to check the batches"}
	return &cli.Command{
		Name:  "batch",
		Usage: "Batch API runs: status, wait, fetch, cancel, export, import",
		UsageText: `bulkgen run --mode batch -i INPUT -j JOB.yaml -o OUTPUT     submit, wait, write (rerun to resume)
   bulkgen batch status [--json]
   bulkgen batch wait | fetch
   bulkgen batch cancel [BATCH_ID | SHARD ...]
   bulkgen batch export -i INPUT -j JOB.yaml -o requests.jsonl
   bulkgen batch import results.jsonl -i INPUT -j JOB.yaml -o OUTPUT`,
		Description: `Batch mode sends the job through the provider's Batch API (OpenAI-compatible file
batches; on Model Studio at half the realtime price, finished within the completion window).
bulkgen writes the rows into request files of at most 50,000 lines, uploads them, creates one
batch per file, waits, downloads the output and error files, and writes OUTPUT in input order
with the usual usage and cost columns (priced at the batch price).

Every step is recorded in the run store before the next one, so nothing submitted is lost:
after Ctrl-C or a crash, rerun the same command, or collect with "bulkgen batch wait" and
then rerun the command to write the output. Rows already answered (by any run) are not
submitted again; lines that failed or expired are errors in OUTPUT and are submitted again
by the next run.`,
		Subcommands: []*cli.Command{
			{
				Name:  "status",
				Usage: "list the batches in the run store (as last seen; wait or fetch asks the service)",
				Flags: []cli.Flag{pickFlags("store")[0], &cli.BoolFlag{Name: "json", Usage: "print JSON"},
					&cli.IntFlag{Name: "limit", Value: 20, Usage: "finished batches to show besides the active ones"}},
				Action: func(c *cli.Context) error {
					path, err := storePath(c)
					if err != nil {
						return err
					}
					shards, err := pipeline.BatchStatus(c.Context, path, c.Int("limit"))
					if err != nil {
						return err
					}
					if c.Bool("json") {
						return printJSON(stdout, shards)
					}
					if len(shards) == 0 {
						fmt.Fprintf(stdout, "no batches recorded in %s\n", path)
						return nil
					}
					tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "SHARD\tRUN\tSTATE\tBATCH\tSTATUS\tDONE/TOTAL\tFAILED\tMODEL\tUPDATED\tNOTE")
					for _, sh := range shards {
						fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\t%s\n", sh.ID, sh.RunID, sh.State, dashIfEmpty(sh.BatchID),
							dashIfEmpty(sh.Status), sh.Completed, max(sh.Total, sh.Lines), sh.Failed, sh.Model,
							sh.Updated.Local().Format("2006-01-02 15:04:05"), sh.Message)
					}
					return tw.Flush()
				},
			},
			{
				Name:  "wait",
				Usage: "submit what a crash left, wait for every active batch and take the results into the run store",
				Flags: append(pickFlags(serviceFlagNames...), pollFlag),
				Action: func(c *cli.Context) error {
					return batchWaitAction(c, stderr, false)
				},
			},
			{
				Name:  "fetch",
				Usage: "check every active batch once and take the results of finished ones into the run store",
				Flags: pickFlags(serviceFlagNames...),
				Action: func(c *cli.Context) error {
					return batchWaitAction(c, stderr, true)
				},
			},
			{
				Name:      "cancel",
				Usage:     "cancel active batches (all, or the given batch ids or shard numbers)",
				ArgsUsage: "[BATCH_ID | SHARD ...]",
				Flags:     pickFlags(serviceFlagNames...),
				Action: func(c *cli.Context) error {
					a, closeSvc, err := batchAdmin(c, stderr)
					if err != nil {
						return err
					}
					defer closeSvc()
					n, err := pipeline.BatchCancel(c.Context, a, c.Args().Slice())
					fmt.Fprintf(stderr, "bulkgen: %d batch(es) cancelled; lines already done are kept: collect them with bulkgen batch wait\n", n)
					return err
				},
			},
			{
				Name:  "export",
				Usage: "write the Batch API request file for a job without submitting it (for vLLM run-batch or a manual upload)",
				Flags: append(runFlags(), &cli.BoolFlag{Name: "all", Usage: "also export rows that already have a result in the run store"}),
				Action: func(c *cli.Context) error {
					return batchExportAction(c, stdin, stdout, stderr)
				},
			},
			{
				Name:      "import",
				Usage:     "take a Batch API results file produced elsewhere into the run store and write the job's output from it",
				ArgsUsage: "RESULTS.jsonl",
				Flags:     runFlags(),
				Action: func(c *cli.Context) error {
					return batchImportAction(c, stdin, stdout, stderr)
				},
			},
		},
	}
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func storePath(c *cli.Context) (string, error) {
	if p := c.String("store"); p != "" {
		return p, nil
	}
	p, err := store.DefaultPath()
	if err != nil {
		return "", &codeError{exitUsage, err}
	}
	return p, nil
}

func batchAdmin(c *cli.Context, stderr io.Writer) (pipeline.BatchAdmin, func(), error) {
	path, err := storePath(c)
	if err != nil {
		return pipeline.BatchAdmin{}, nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return pipeline.BatchAdmin{}, nil, fmt.Errorf("run store %s: %w (batches are recorded in the store of the run that submitted them; pass --store)", path, err)
	}
	svc, err := newService(c, stderr, true)
	if err != nil {
		return pipeline.BatchAdmin{}, nil, &codeError{exitUsage, err}
	}
	a := pipeline.BatchAdmin{StorePath: path, Service: svc.batch, Endpoint: svc.endpoint, Command: os.Args, Stderr: stderr,
		Batch: pipeline.BatchOptions{Poll: c.Duration("batch-poll")}}
	return a, svc.close, nil
}

func batchWaitAction(c *cli.Context, stderr io.Writer, once bool) error {
	a, closeSvc, err := batchAdmin(c, stderr)
	if err != nil {
		return err
	}
	defer closeSvc()
	running, err := pipeline.BatchWait(c.Context, a, once)
	if err != nil {
		var fatal *pipeline.FatalError
		switch {
		case errors.Is(err, pipeline.ErrInterrupted):
			return &codeError{pipeline.ExitInterrupted, err}
		case errors.As(err, &fatal):
			return &codeError{pipeline.ExitFatal, err}
		}
		return err
	}
	if running > 0 {
		fmt.Fprintf(stderr, "bulkgen: %d batch(es) still running; check again later\n", running)
		return nil
	}
	fmt.Fprintln(stderr, "bulkgen: every batch is collected; rerun the run command to write its output (nothing is sent again)")
	return nil
}

// batchJobOptions builds pipeline.Options for export and import from the
// run flags, without needing an API key.
func batchJobOptions(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer) (pipeline.Options, error) {
	in, err := jobInputsFromFlags(c)
	if err != nil {
		return pipeline.Options{}, err
	}
	endpoint, err := serviceEndpoint(c)
	if err != nil {
		return pipeline.Options{}, &codeError{exitUsage, err}
	}
	opts := pipeline.Options{
		Input: c.String("input"), ReaderOptions: in.ropts, Output: c.String("output"),
		WriterOptions: writers.Options{Format: c.String("output-format"), BOM: c.Bool("bom")},
		Job:           in.job, Engine: pipeline.Config{Endpoint: endpoint, Limit: c.Int("limit"), Refresh: c.Bool("refresh")},
		Stdin: stdin, Stdout: stdout, Stderr: stderr, Command: os.Args, Prices: in.prices,
		Progress: !c.Bool("quiet") && isTerminal(stderr), Simulated: c.Bool("sim"),
	}
	if !c.Bool("no-store") {
		if opts.StorePath, err = storePath(c); err != nil {
			return opts, err
		}
	}
	if in.job.Task == prompts.TaskTranslate {
		if opts.Translate, err = translateOptions(in.job); err != nil {
			return opts, &codeError{exitUsage, err}
		}
	}
	return opts, nil
}

func batchExportAction(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	opts, err := batchJobOptions(c, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	var w io.Writer = stdout
	var commit func() error = func() error { return nil }
	if opts.Output != "-" {
		f, err := writers.CreateAtomic(opts.Output)
		if err != nil {
			return err
		}
		defer f.Abort()
		w, commit = f, f.Commit
	}
	n, err := pipeline.ExportBatch(c.Context, opts, w, c.Bool("all"))
	if err != nil {
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bulkgen: wrote %d request line(s) to %s (nothing was sent); custom_id is row<N>-<request hash>: bulkgen batch import matches results by it\n", n, displayPath(opts.Output))
	return nil
}

func displayPath(p string) string {
	if p == "-" {
		return "stdout"
	}
	return p
}

func batchImportAction(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	if c.NArg() != 1 {
		return &codeError{exitUsage, errors.New("give the results file: bulkgen batch import RESULTS.jsonl -i INPUT -j JOB.yaml -o OUTPUT")}
	}
	opts, err := batchJobOptions(c, stdin, stdout, stderr)
	if err != nil {
		return err
	}
	results := c.Args().First()
	rep, err := pipeline.ImportBatch(c.Context, opts, results)
	return report(rep, err, opts, stderr)
}
