// Command bulkgen runs a prompt template over every row of a CSV, JSONL or
// Excel file through a chat model, and writes the answers next to the
// original columns with token usage.
//
// This file only wires the command line (urfave/cli/v2) to the packages
// that do the work: readers, prompts, model, pipeline, writers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"bulkgen/model"
	"bulkgen/model/modeltest"
	"bulkgen/pipeline"
	"bulkgen/prompts"
	"bulkgen/readers"
	"bulkgen/store"
	"bulkgen/writers"
)

// Exit codes (documented in the README; kept stable).
const (
	exitOK    = pipeline.ExitOK
	exitError = pipeline.ExitError
	exitUsage = pipeline.ExitUsage
)

// exitError carries an exit code through urfave/cli's error return.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, args)
	return exitCode(err, stderr)
}

// notProcessed says what a stopped run left undone: the rows it read and
// did not finish, and the input it never read.
func notProcessed(s pipeline.Snapshot) string {
	if s.ReadAll {
		return fmt.Sprintf("%d were not processed", s.Unfinished)
	}
	return fmt.Sprintf("%d read and not processed, and the rest of the input not read", s.Unfinished)
}

// exitCode is the one place that turns an error into a message and a code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err != nil && ce.err.Error() != "" {
			fmt.Fprintln(stderr, "bulkgen: "+strings.TrimPrefix(ce.err.Error(), "bulkgen: "))
		}
		return ce.code
	}
	fmt.Fprintln(stderr, "bulkgen: "+err.Error())
	return exitError
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	var profile *os.File // --cpuprofile's file while profiling
	return &cli.App{
		Name:  "bulkgen",
		Usage: "bulk text generation over files with Qwen (DashScope) or any OpenAI-compatible model",
		Description: `bulkgen reads rows from a CSV, JSONL or Excel file, fills a prompt template for each
row, calls a chat model with bounded concurrency and rate limits, and writes each answer
next to the row's original columns, with token-usage columns.

Try it without a key or network (replies are simulated):
   bulkgen run -i samples/reviews.csv -j samples/sentiment.yaml -o out/reviews.csv --sim`,
		Writer:          stdout,
		ErrWriter:       stderr,
		Reader:          stdin,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // exitCode handles errors
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return &codeError{exitUsage, fmt.Errorf("%w (see bulkgen %s --help)", err, c.Command.Name)}
		},
		Commands: []*cli.Command{runCommand(stdin, stdout, stderr), estimateCommand(stdin, stdout, stderr), runsCommand(stdout), pricesCommand(stdout), labelCommand(stdin, stdout, stderr), translateCommand(stdin, stdout, stderr), batchCommand(stdin, stdout, stderr)},
		// --cpuprofile is for whoever profiles bulkgen (see bench/ and
		// BENCHMARKS.md), not for users: hidden from --help.
		Flags: []cli.Flag{&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile to `FILE`"}},
		Before: func(c *cli.Context) error {
			path := c.String("cpuprofile")
			if path == "" {
				return nil
			}
			f, err := os.Create(path)
			if err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return fmt.Errorf("--cpuprofile: %w", err)
			}
			profile = f
			return nil
		},
		After: func(*cli.Context) error {
			if profile == nil {
				return nil
			}
			pprof.StopCPUProfile()
			return profile.Close()
		},
	}
}

const (
	catInput  = "Input"
	catPrompt = "Prompt and model parameters"
	catOutput = "Output"
	catSvc    = "Service"
	catLimits = "Concurrency, limits and retries"
	catSim    = "Simulator (offline)"
	catRun    = "Run"
	catStore  = "Run store (resume, dedupe)"
	catBatch  = "Batch API (--mode batch)"
)

func runCommand(stdin io.Reader, stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "fill the prompt for every row, call the model, write the results",
		UsageText: "bulkgen run -i INPUT -o OUTPUT (-j JOB.yaml | --prompt TEMPLATE) [flags]",
		Description: `Reads INPUT (CSV/TSV, JSONL or XLSX; "-" is stdin), fills the prompt template for each
row ({{column}} placeholders name input columns, e.g. {{商品名称}} or {{ product name }}),
sends one chat request per row and writes OUTPUT with every input column, then the output
column, prompt_tokens, completion_tokens, total_tokens, finish_reason and error.
Every column the template uses is checked before any request is sent.

Examples:
   # translate a spreadsheet with a job file, 16 requests at a time, at most 600 a minute
   bulkgen run -i samples/catalog.xlsx -j samples/translate.yaml -o out/catalog_en.xlsx -c 16 --rpm 600

   # label a CSV with an inline prompt
   bulkgen run -i reviews.csv --prompt 'Classify the sentiment of: {{评论内容}}' -o labeled.csv

   # a pipe: JSONL in on stdin, JSONL out on stdout
   cat data.jsonl | bulkgen run -i - --format jsonl --prompt 'Summarize: {{text}}' -o - --output-format jsonl

   # see the first requests without sending anything
   bulkgen run -i reviews.csv -j samples/sentiment.yaml -o x.csv --dry-run

   # the whole thing offline against the built-in simulator
   bulkgen run -i samples/reviews.csv -j samples/sentiment.yaml -o out/reviews.csv --sim

The API key is read from DASHSCOPE_API_KEY (OPENAI_API_KEY when --base-url is not a
DashScope host), or from the variable named by --api-key-env. It is never printed.`,
		Flags: runFlags(),
		Action: func(c *cli.Context) error {
			return runAction(c, stdin, stdout, stderr)
		},
	}
}

func runFlags() []cli.Flag {
	return []cli.Flag{
		// Input
		&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Category: catInput, Required: true,
			Usage: "input file: .csv, .tsv, .jsonl or .xlsx; `-` reads stdin (then give --format)"},
		&cli.StringFlag{Name: "format", Category: catInput,
			Usage: "input format `csv|tsv|jsonl|xlsx` (default: from the file extension)"},
		&cli.StringFlag{Name: "delimiter", Category: catInput,
			Usage: "CSV field `separator`, e.g. ';' or '\\t' (default: sniffed from the first lines)"},
		&cli.StringFlag{Name: "encoding", Category: catInput,
			Usage: "CSV text encoding `utf-8|gb18030|gbk` (default: detected; Chinese Excel saves GB18030/GBK)"},
		&cli.StringFlag{Name: "sheet", Category: catInput,
			Usage: "XLSX sheet `name or number` (1 = first; default: the first sheet)"},
		&cli.StringFlag{Name: "glob", Category: catInput,
			Usage: "folder input: only documents whose file name matches `PATTERN`, e.g. '*.pdf'"},
		&cli.BoolFlag{Name: "hidden", Category: catInput, Usage: "folder input: also read files and folders whose names start with a dot"},
		&cli.IntFlag{Name: "max-doc-mb", Category: catInput, Value: int(readers.DefaultMaxDocBytes >> 20),
			Usage: "folder input: a larger document is a row error"},
		&cli.StringFlag{Name: "chunk-column", Category: catPrompt,
			Usage: "split a too-long text in this `column` into chunks and combine their answers (default: text, for a folder input)"},
		&cli.Int64Flag{Name: "chunk-tokens", Category: catPrompt,
			Usage: "largest prompt per request when chunking, in tokens (default: the model's input limit)"},
		&cli.StringFlag{Name: "one-file-per-doc", Category: catOutput,
			Usage: "folder input: also write each document's answer to `DIR`/<relative path>.md"},
		&cli.BoolFlag{Name: "allow-ragged", Category: catInput,
			Usage: "pad CSV rows that have fewer fields than the header instead of failing them"},

		// Prompt
		&cli.StringFlag{Name: "job", Aliases: []string{"j"}, Category: catPrompt,
			Usage: "job `file` (YAML): model, system, prompt, output_column, temperature, ...; flags override it"},
		&cli.StringFlag{Name: "prompt", Aliases: []string{"p"}, Category: catPrompt,
			Usage: "user prompt `template`, e.g. 'Translate to English: {{商品名称}}'"},
		&cli.StringFlag{Name: "system", Category: catPrompt,
			Usage: "system prompt (default \"You are a helpful assistant.\"; \"\" sends none)"},
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Category: catPrompt, EnvVars: []string{"BULKGEN_MODEL"},
			Usage: "model `name` (default qwen-plus)"},
		&cli.StringFlag{Name: "output-column", Category: catPrompt,
			Usage: "`name` of the added result column (default \"output\")"},
		&cli.Float64Flag{Name: "temperature", Category: catPrompt, Usage: "sampling temperature, [0, 2)"},
		&cli.Float64Flag{Name: "top-p", Category: catPrompt, Usage: "nucleus sampling, (0, 1]"},
		&cli.Int64Flag{Name: "max-tokens", Category: catPrompt, Usage: "cap on answer tokens per row"},
		&cli.Int64Flag{Name: "seed", Category: catPrompt, Usage: "sampling seed, 0..2147483647 (best effort)"},
		&cli.StringSliceFlag{Name: "stop", Category: catPrompt, Usage: "stop `string` (repeat for several)"},
		&cli.BoolFlag{Name: "enable-thinking", Category: catPrompt,
			Usage: "let hybrid Qwen3 models think first (adds a reasoning_tokens column); --enable-thinking=false turns it off"},
		&cli.StringFlag{Name: "response-format", Category: catPrompt,
			Usage: "`text|json_object` (json_object needs the word \"json\" in the prompt)"},

		// Output
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Category: catOutput, Required: true,
			Usage: "output file: .csv, .tsv, .jsonl or .xlsx (written to a temporary file, renamed at the end); `-` is stdout"},
		&cli.StringFlag{Name: "omit-columns", Category: catOutput,
			Usage: "leave the input columns `A,B` out of the output (the prompt can still use them), e.g. text for a folder input, whose text column holds each document whole"},
		&cli.BoolFlag{Name: "keep-reasoning", Category: catOutput,
			Usage: "write thinking models' reasoning text into a \"reasoning\" column (reasoning tokens are always counted and priced)"},
		&cli.StringFlag{Name: "output-format", Category: catOutput,
			Usage: "output format `csv|tsv|jsonl|xlsx` (default: from the extension; required with -o -)"},
		&cli.BoolFlag{Name: "bom", Category: catOutput,
			Usage: "start CSV output with a UTF-8 BOM so Excel shows Chinese text correctly"},

		// Service
		&cli.StringFlag{Name: "api", Category: catSvc, Value: "openai", EnvVars: []string{"BULKGEN_API"},
			Usage: "wire protocol: `openai` (OpenAI-compatible chat/completions) or dashscope (native text-generation)"},
		&cli.StringFlag{Name: "base-url", Category: catSvc, EnvVars: []string{"BULKGEN_BASE_URL"},
			Usage: "service `URL` (default: DashScope for --region; e.g. http://localhost:8000/v1 for vLLM)"},
		&cli.StringFlag{Name: "region", Category: catSvc, Value: "cn", EnvVars: []string{"DASHSCOPE_REGION"},
			Usage: "DashScope region `cn|intl|us|hk` (Beijing, Singapore, Virginia, Hong Kong); keys are per region"},
		&cli.StringFlag{Name: "api-key-env", Category: catSvc,
			Usage: "environment `variable` holding the API key (default DASHSCOPE_API_KEY, or OPENAI_API_KEY for non-DashScope URLs)"},
		&cli.DurationFlag{Name: "timeout", Category: catSvc, Value: 5 * time.Minute,
			Usage: "time limit for one request (then it is retried)"},
		&cli.BoolFlag{Name: "stream", Category: catSvc,
			Usage: "always use streaming responses (thinking requests always stream)"},

		// Limits
		&cli.IntFlag{Name: "concurrency", Aliases: []string{"c"}, Category: catLimits, Value: pipeline.DefaultConcurrency,
			EnvVars: []string{"BULKGEN_CONCURRENCY"}, Usage: "requests in flight at most"},
		&cli.Float64Flag{Name: "rpm", Category: catLimits, EnvVars: []string{"BULKGEN_RPM"},
			Usage: "requests started per minute at most, paced evenly (0 = no cap); match your model's quota"},
		&cli.IntFlag{Name: "retries", Category: catLimits, Value: pipeline.DefaultRetries,
			Usage: "retries of a throttled or failed request (exponential backoff with jitter)"},
		&cli.DurationFlag{Name: "retry-base", Category: catLimits, Value: pipeline.DefaultRetryBase,
			Usage: "first backoff `wait`; it doubles per retry"},
		&cli.DurationFlag{Name: "retry-max", Category: catLimits, Value: pipeline.DefaultRetryMax,
			Usage: "longest backoff `wait`"},
		&cli.DurationFlag{Name: "grace", Category: catLimits, Value: pipeline.DefaultGrace,
			Usage: "on Ctrl-C or a fatal error, how long requests in flight may finish"},
		&cli.Float64Flag{Name: "tpm", Category: catLimits, EnvVars: []string{"BULKGEN_TPM"},
			Usage: "estimated tokens (prompt + max_tokens or expected output) per minute at most (0 = no cap); match your quota"},
		&cli.BoolFlag{Name: "fixed-concurrency", Category: catLimits,
			Usage: "keep -c and --rpm as given; by default a 429 cuts concurrency and rate, which then grow back while requests succeed"},
		&cli.Int64Flag{Name: "max-tokens-total", Category: catLimits,
			Usage: "token budget for this run: stop before a request could cross it (requests in flight counted); rerun to go on"},
		&cli.Float64Flag{Name: "max-cost", Category: catLimits,
			Usage: "money budget for this run in the price table's currency (CNY for --region cn, USD otherwise): stop before a request could cross it"},
		&cli.StringFlag{Name: "prices", Category: catSvc, EnvVars: []string{"BULKGEN_PRICES"},
			Usage: "YAML `file` of prices that override or add to the built-in table (see bulkgen prices)"},
		&cli.Int64Flag{Name: "expect-output-tokens", Category: catLimits, Value: pipeline.DefaultExpectedOutputTokens,
			Usage: "answer size assumed for --tpm and the budget when the job sets no max_tokens"},

		// Store
		&cli.StringFlag{Name: "store", Category: catStore, EnvVars: []string{"BULKGEN_STORE"},
			Usage: "run store `file` (SQLite; default $XDG_CACHE_HOME/bulkgen/store.db): every answer is saved, so a rerun sends only the rows that have none"},
		&cli.BoolFlag{Name: "no-store", Category: catStore,
			Usage: "no run store: nothing is saved or resumed (identical requests are still sent once per run)"},
		&cli.BoolFlag{Name: "refresh", Category: catStore,
			Usage: "ignore answers stored by earlier runs and overwrite them (pays again)"},
		&cli.BoolFlag{Name: "keep-errors", Category: catStore,
			Usage: "reuse row errors stored by earlier runs (e.g. content refusals) instead of retrying them"},

		// Run
		&cli.StringFlag{Name: "mode", Category: catRun, Value: "realtime",
			Usage: "realtime (one request per row, now) or batch (the provider's Batch API: half price, results within --batch-window; see bulkgen batch --help)"},
		&cli.StringFlag{Name: "batch-window", Category: catBatch, Value: pipeline.DefaultBatchWindow,
			Usage: "completion window of each batch: 24h to 336h, or 1d to 14d"},
		&cli.IntFlag{Name: "batch-max-lines", Category: catBatch, Value: pipeline.MaxBatchLines,
			Usage: "requests per batch file (the service allows 50,000)"},
		&cli.IntFlag{Name: "batch-max-mb", Category: catBatch, Value: pipeline.DefaultBatchBytes >> 20,
			Usage: "size of one batch file in MB (the service allows 500)"},
		&cli.DurationFlag{Name: "batch-poll", Category: catBatch,
			Usage: "how often to check the batches (default 30s; 200ms with --sim)"},
		&cli.IntFlag{Name: "batch-repairs", Category: catBatch, Value: 1,
			Usage: "label/extract jobs: rounds of new batches that ask again, with the check's error, the replies that failed their check (0: none; the row then gets the error and the reply)"},
		&cli.BoolFlag{Name: "no-wait", Category: catBatch,
			Usage: "submit the batches and return; collect them later with bulkgen batch wait, then rerun the command to write the output"},
		&cli.IntFlag{Name: "limit", Category: catRun, Usage: "process only the first `N` rows"},
		&cli.BoolFlag{Name: "dry-run", Category: catRun,
			Usage: "check columns, print the first requests (3, or --limit) and send nothing"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Category: catRun,
			Usage: "no progress bar (the final summary is still printed)"},

		// Simulator
		&cli.BoolFlag{Name: "sim", Category: catSim,
			Usage: "answer from the built-in simulator on loopback instead of the service: no key, no network, no cost; replies are fake"},
		&cli.DurationFlag{Name: "sim-latency", Category: catSim, Usage: "simulated latency per request"},
		&cli.Float64Flag{Name: "sim-fault-rate", Category: catSim,
			Usage: "fraction of simulated requests that fail with a retryable error (429, 500, 503, reset)"},
		&cli.IntFlag{Name: "sim-rpm", Category: catSim, Usage: "simulated requests-per-minute quota (429 above it)"},
	}
}

// jobInputs are what run and estimate both take from the flags.
type jobInputs struct {
	job    prompts.Job
	ropts  readers.Options
	prices *model.Prices
}

func jobInputsFromFlags(c *cli.Context) (jobInputs, error) {
	var in jobInputs
	if c.NArg() > 0 && c.Command.Name != "import" {
		return in, &codeError{exitUsage, fmt.Errorf("unexpected argument %q: give the input with -i (see bulkgen %s --help)", c.Args().First(), c.Command.Name)}
	}
	var err error
	if in.job, err = jobFromFlags(c); err != nil {
		return in, &codeError{exitUsage, err}
	}
	if in.ropts, err = readerOptions(c); err != nil {
		return in, &codeError{exitUsage, err}
	}
	if in.prices, err = priceTable(c); err != nil {
		return in, &codeError{exitUsage, err}
	}
	return in, nil
}

// runAction maps flags to pipeline.Options and runs.
func runAction(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	in, err := jobInputsFromFlags(c)
	if err != nil {
		return err
	}
	job, ropts, prices := in.job, in.ropts, in.prices
	wopts := writers.Options{Format: c.String("output-format"), BOM: c.Bool("bom")}
	if c.String("output") == "-" && wopts.Format == "" {
		return &codeError{exitUsage, errors.New("writing to stdout (-o -) needs --output-format csv|tsv|jsonl|xlsx")}
	}
	if c.String("output") != "-" && wopts.Format == "" {
		if _, err := writers.FormatFromPath(c.String("output")); err != nil {
			return &codeError{exitUsage, err}
		}
	}
	engine := pipeline.Config{
		Concurrency: c.Int("concurrency"),
		RPM:         c.Float64("rpm"),
		Retries:     c.Int("retries"),
		RetryBase:   c.Duration("retry-base"),
		RetryMax:    c.Duration("retry-max"),
		Grace:       c.Duration("grace"),
		Limit:       c.Int("limit"),

		TPM:                  c.Float64("tpm"),
		FixedConcurrency:     c.Bool("fixed-concurrency"),
		MaxTokensTotal:       c.Int64("max-tokens-total"),
		ExpectedOutputTokens: c.Int64("expect-output-tokens"),
		Refresh:              c.Bool("refresh"),
		KeepErrors:           c.Bool("keep-errors"),
		MaxCost:              c.Float64("max-cost"),
	}
	if engine.TPM < 0 || engine.MaxTokensTotal < 0 || engine.MaxCost < 0 {
		return &codeError{exitUsage, errors.New("--tpm, --max-tokens-total and --max-cost cannot be negative")}
	}
	if engine.Concurrency < 1 {
		return &codeError{exitUsage, fmt.Errorf("-c %d: concurrency must be at least 1", engine.Concurrency)}
	}
	if engine.RPM < 0 || engine.Limit < 0 || engine.Retries < 0 {
		return &codeError{exitUsage, errors.New("--rpm, --limit and --retries cannot be negative")}
	}
	opts := pipeline.Options{
		Input: c.String("input"), ReaderOptions: ropts,
		Output: c.String("output"), WriterOptions: wopts,
		Job: job, Engine: engine,
		DryRun: c.Bool("dry-run"), DryRunRows: c.Int("limit"),
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Progress:  !c.Bool("quiet") && isTerminal(stderr),
		Simulated: c.Bool("sim"),
		Command:   os.Args,
		Prices:    prices,

		KeepReasoning: c.Bool("keep-reasoning"),
		OmitColumns:   splitList(c.String("omit-columns")),
		ChunkColumn:   c.String("chunk-column"),
		ChunkTokens:   c.Int64("chunk-tokens"),
		DocFilesDir:   c.String("one-file-per-doc"),
	}
	if fi, err := os.Stat(opts.Input); err == nil && fi.IsDir() && !c.IsSet("chunk-column") {
		opts.ChunkColumn = "text"
	}
	if opts.ChunkTokens < 0 || c.Int("max-doc-mb") < 1 {
		return &codeError{exitUsage, errors.New("--chunk-tokens cannot be negative and --max-doc-mb must be at least 1")}
	}
	if !c.Bool("no-store") && !opts.DryRun {
		opts.StorePath = c.String("store")
		if opts.StorePath == "" {
			p, err := store.DefaultPath()
			if err != nil {
				return &codeError{exitUsage, fmt.Errorf("no place for the run store (%w): pass --store FILE or --no-store", err)}
			}
			opts.StorePath = p
		}
	} else if c.Bool("refresh") || c.Bool("keep-errors") {
		if c.Bool("no-store") {
			return &codeError{exitUsage, errors.New("--refresh and --keep-errors need the run store: drop --no-store")}
		}
	}
	if job.Task == prompts.TaskTranslate {
		if opts.Translate, err = translateOptions(job); err != nil {
			return &codeError{exitUsage, err}
		}
		opts.Job.Prompt = "" // not used: the translation prompts are built in
	}
	batchMode, err := runMode(c)
	if err != nil {
		return &codeError{exitUsage, err}
	}
	if !opts.DryRun {
		svc, err := newService(c, stderr, batchMode)
		if err != nil {
			return &codeError{exitUsage, err}
		}
		defer svc.close()
		opts.Client = svc.client
		opts.Engine.Endpoint = svc.endpoint
		if batchMode {
			bo, err := batchOptions(c, svc)
			if err != nil {
				return &codeError{exitUsage, err}
			}
			opts.Batch = &bo
		}
	}
	rep, err := pipeline.Execute(c.Context, opts)
	if opts.DryRun {
		if err != nil {
			return &codeError{exitError, err}
		}
		return nil
	}
	return report(rep, err, opts, stderr)
}

// report prints the summary and picks the exit code.
func report(rep pipeline.Report, err error, opts pipeline.Options, stderr io.Writer) error {
	sim := ""
	if opts.Simulated {
		sim = " [SIMULATED replies from the built-in simulator, not a real model]"
	}
	if rep.Stats.Written > 0 || err == nil {
		fmt.Fprintf(stderr, "bulkgen: %s%s\n", pipeline.Summary(rep.Stats, rep.Currency), sim)
	}
	if rep.Distribution != nil && rep.Stats.Written > 0 {
		fmt.Fprintf(stderr, "bulkgen: labels:\n%s\n", indent(rep.Distribution.Summary(), "  "))
	}
	if rep.Translate != nil {
		fmt.Fprintf(stderr, "bulkgen: %s\n", rep.Translate.Summary())
	}
	if rep.PriceNote != "" {
		fmt.Fprintln(stderr, "bulkgen: note: "+rep.PriceNote)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "bulkgen: warning: "+w)
	}
	if rep.Output != "" && rep.Output != "-" {
		fmt.Fprintf(stderr, "bulkgen: wrote %s\n", rep.Output)
	}
	resume := "run the same command again to go on: rows already answered come from the run store"
	if opts.StorePath == "" {
		resume = "without a run store (--no-store) a rerun sends every row again"
	}
	_, code := pipeline.Outcome(err, rep.Stats)
	switch code {
	case pipeline.ExitFatal:
		return &codeError{code, fmt.Errorf("%w\nthe service refused the run; nothing more was sent. Fix the cause, then %s", err, resume)}
	case pipeline.ExitInterrupted:
		if opts.Batch != nil {
			return &codeError{code, err} // says which batches keep running and how to collect them
		}
		return &codeError{code, fmt.Errorf("interrupted: %d finished rows were written, %s; %s", rep.Stats.Written, notProcessed(rep.Stats), resume)}
	case pipeline.ExitBudget:
		return &codeError{code, fmt.Errorf("stopped before the budget (--max-tokens-total / --max-cost) would be crossed: %d rows written, %s; %s (with a larger budget)", rep.Stats.Written, notProcessed(rep.Stats), resume)}
	case pipeline.ExitRowsFailed:
		return &codeError{code, fmt.Errorf("%d row(s) failed; their error is in the error column (first: %s)", rep.Stats.Failed, rep.Stats.FirstError)}
	case exitOK:
		return nil
	}
	return &codeError{code, err}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// splitList reads a comma-separated list (columns, labels); spaces
// around an item are dropped, empty items skipped.
func splitList(list string) []string {
	var cols []string
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}

// priceTable is the built-in table for --region (DashScope hosts and the
// simulator) or an empty one for other services, plus --prices.
func priceTable(c *cli.Context) (*model.Prices, error) {
	region := strings.ToLower(c.String("region"))
	var t *model.Prices
	if c.Bool("sim") || c.String("base-url") == "" || model.IsDashScopeURL(c.String("base-url")) {
		t = model.DefaultPrices(region)
	} else {
		t = model.NoPrices(region, "--base-url is not a Model Studio (DashScope) endpoint")
	}
	if f := c.String("prices"); f != "" {
		if err := t.LoadFile(f); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// jobFromFlags layers: job file, then flags, then defaults.
func jobFromFlags(c *cli.Context) (prompts.Job, error) {
	var job prompts.Job
	if c.Command.Name == "label" {
		var opts []prompts.LabelOption
		if c.Bool("reason") {
			opts = append(opts, prompts.WithReason())
		}
		j, err := prompts.LabelJob(splitList(c.String("labels")), c.String("text"), opts...)
		if err != nil {
			return job, err
		}
		job = j
	} else if p := c.String("job"); p != "" {
		j, err := prompts.LoadJob(p)
		if err != nil {
			return job, err
		}
		job = j
	}
	if c.IsSet("prompt") {
		job.Prompt = c.String("prompt")
	}
	if c.IsSet("system") {
		job.SetSystem(c.String("system"))
	}
	if c.IsSet("model") {
		job.Model = c.String("model")
	}
	if c.IsSet("output-column") {
		job.OutputColumn = c.String("output-column")
	}
	if c.IsSet("temperature") {
		v := c.Float64("temperature")
		job.Temperature = &v
	}
	if c.IsSet("top-p") {
		v := c.Float64("top-p")
		job.TopP = &v
	}
	if c.IsSet("max-tokens") {
		v := c.Int64("max-tokens")
		job.MaxTokens = &v
	}
	if c.IsSet("seed") {
		v := c.Int64("seed")
		job.Seed = &v
	}
	if c.IsSet("stop") {
		job.Stop = c.StringSlice("stop")
	}
	if c.IsSet("enable-thinking") {
		v := c.Bool("enable-thinking")
		job.EnableThinking = &v
	}
	if c.IsSet("response-format") {
		job.ResponseFormat = c.String("response-format")
	}
	if c.Command.Name == "translate" {
		job.Task = prompts.TaskTranslate
		applyTranslateFlags(c, &job.Translate)
	}
	if job.Prompt == "" && job.Task != prompts.TaskTranslate {
		return job, errors.New("no prompt: give a job file with -j (see samples/*.yaml) or --prompt 'template with {{column}}'")
	}
	job = job.WithDefaults()
	return job, job.Validate()
}

func readerOptions(c *cli.Context) (readers.Options, error) {
	o := readers.Options{
		Format:      strings.ToLower(c.String("format")),
		Encoding:    strings.ToLower(c.String("encoding")),
		Sheet:       c.String("sheet"),
		AllowRagged: c.Bool("allow-ragged"),
		Glob:        c.String("glob"),
		Hidden:      c.Bool("hidden"),
	}
	if c.IsSet("max-doc-mb") {
		o.MaxDocBytes = int64(c.Int("max-doc-mb")) << 20
	}
	if d := c.String("delimiter"); d != "" {
		switch d {
		case `\t`, "tab", "\t":
			o.Delimiter = '\t'
		default:
			r := []rune(d)
			if len(r) != 1 {
				return o, fmt.Errorf("--delimiter %q: give one character, e.g. ';' or '\\t'", d)
			}
			o.Delimiter = r[0]
		}
	}
	if c.String("input") == "-" && o.Format == "" {
		return o, errors.New("reading stdin (-i -) needs --format csv|tsv|jsonl|xlsx")
	}
	return o, nil
}

// newClient builds the model client from --api, --base-url, --region and the
// key's environment variable, or starts the simulator for --sim.
//
// endpoint names the service for the run store: answers are only reused for
// the same protocol and service (the simulator's answers never stand in for
// a real model's).
func newClient(c *cli.Context, stderr io.Writer) (client model.Client, endpoint string, closeSim func(), err error) {
	svc, err := newService(c, stderr, false)
	if err != nil {
		return nil, "", func() {}, err
	}
	return svc.client, svc.endpoint, svc.close, nil
}

// service is the model service a command talks to.
type service struct {
	client   model.Client
	batch    *model.BatchClient // only when asked for
	endpoint string
	close    func()
	sim      bool
}

// simBatchOptions makes the simulator's batches finish in moments: a
// demo or test of batch mode should not take the service's hours.
var simBatchOptions = modeltest.BatchOptions{ValidateTime: 100 * time.Millisecond, FinalizeTime: 100 * time.Millisecond, LinesPerSecond: 10000}

func newService(c *cli.Context, stderr io.Writer, withBatch bool) (service, error) {
	svc := service{close: func() {}}
	api := strings.ToLower(c.String("api"))
	if api != "openai" && api != "dashscope" {
		return svc, fmt.Errorf("--api %q: use openai or dashscope", api)
	}
	if withBatch && api != "openai" {
		return svc, errors.New("the Batch API is OpenAI-compatible: drop --api dashscope (the same key works)")
	}
	cfg := model.Config{API: api, Timeout: c.Duration("timeout"), Stream: c.Bool("stream")}
	if c.Bool("sim") {
		sim, err := modeltest.Listen("", modeltest.Options{
			Latency:   c.Duration("sim-latency"),
			FaultRate: c.Float64("sim-fault-rate"),
			RPM:       c.Int("sim-rpm"),
			Seed:      1,
			Batch:     simBatchOptions,
		})
		if err != nil {
			return svc, fmt.Errorf("--sim: start the simulator: %w", err)
		}
		cfg.BaseURL = sim.CompatibleBaseURL()
		if api == "dashscope" {
			cfg.BaseURL = sim.NativeBaseURL()
		}
		cfg.APIKey = "sim-key"
		fmt.Fprintf(stderr, "bulkgen: --sim: replies come from the built-in simulator at %s (simulated, not a real model; no key, no cost)\n", sim.URL())
		client, err := model.New(cfg)
		if err != nil {
			sim.Close()
			return svc, err
		}
		svc.client, svc.endpoint, svc.close, svc.sim = client, "sim "+api, sim.Close, true
	} else {
		cfg.BaseURL = c.String("base-url")
		if cfg.BaseURL == "" {
			u, err := model.DefaultBaseURL(api, strings.ToLower(c.String("region")))
			if err != nil {
				return svc, err
			}
			cfg.BaseURL = u
		}
		keyEnv := c.String("api-key-env")
		if keyEnv == "" {
			keyEnv = "DASHSCOPE_API_KEY"
			if !model.IsDashScopeURL(cfg.BaseURL) {
				keyEnv = "OPENAI_API_KEY"
			}
		}
		cfg.APIKey = os.Getenv(keyEnv)
		if cfg.APIKey == "" {
			if keyEnv == "DASHSCOPE_API_KEY" {
				return svc, errors.New("no API key: set DASHSCOPE_API_KEY (Model Studio console → API keys; keys are per region), or try --sim to run offline")
			}
			return svc, fmt.Errorf("no API key: set %s (or name another variable with --api-key-env; local servers such as vLLM accept any non-empty key)", keyEnv)
		}
		client, err := model.New(cfg)
		if err != nil {
			return svc, err
		}
		svc.client, svc.endpoint = client, api+" "+strings.TrimRight(cfg.BaseURL, "/")
	}
	if withBatch {
		bc, err := model.NewBatchClient(model.OpenAIConfig{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey})
		if err != nil {
			svc.close()
			return svc, err
		}
		svc.batch = bc
	}
	return svc, nil
}

// serviceEndpoint names the service for request keys the way newService
// does, without needing a key (batch export and import send nothing).
func serviceEndpoint(c *cli.Context) (string, error) {
	api := strings.ToLower(c.String("api"))
	if api != "openai" && api != "dashscope" {
		return "", fmt.Errorf("--api %q: use openai or dashscope", api)
	}
	if c.Bool("sim") {
		return "sim " + api, nil
	}
	base := c.String("base-url")
	if base == "" {
		u, err := model.DefaultBaseURL(api, strings.ToLower(c.String("region")))
		if err != nil {
			return "", err
		}
		base = u
	}
	return api + " " + strings.TrimRight(base, "/"), nil
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n")
}

// labelCommand is `bulkgen label`: run with a built-in labeling job.
func labelCommand(stdin io.Reader, stdout, stderr io.Writer) *cli.Command {
	var flags []cli.Flag
	for _, f := range runFlags() {
		switch f.Names()[0] {
		case "job", "prompt", "output-column", "response-format":
			continue // the built-in job sets these
		}
		flags = append(flags, f)
	}
	flags = append(flags,
		&cli.StringFlag{Name: "labels", Category: catPrompt, Required: true, Usage: "the labels, comma-separated: `positive,negative,neutral`"},
		&cli.StringFlag{Name: "text", Category: catPrompt, Required: true, Usage: "the input `column` to label"},
		&cli.BoolFlag{Name: "reason", Category: catPrompt, Usage: "also ask for a one-sentence reason (a \"reason\" column)"})
	return &cli.Command{
		Name:      "label",
		Usage:     "label every row with one of a set of labels (a built-in label job)",
		UsageText: "bulkgen label -i INPUT --labels a,b,c --text COLUMN -o OUTPUT [flags]",
		Description: `A shortcut for a label job: the model reads the column --text and answers in JSON mode
with one of --labels; the answer is checked (a label outside the set is asked again, up to
--retries times, with the problem explained) and written to the "label" column. The run
ends with the label distribution. Everything else works as in bulkgen run.

Examples:
   bulkgen label -i samples/reviews.csv --labels positive,negative,neutral --text 评论内容 -o out/labeled.csv --sim
   bulkgen label -i tickets.jsonl --labels billing,bug,feature,other --text body --reason -o labeled.jsonl`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			return runAction(c, stdin, stdout, stderr)
		},
	}
}
