package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"bulkgen/model"
	"bulkgen/prompts"
	"bulkgen/readers"
	"bulkgen/writers"
)

// Options is everything one `bulkgen run` needs, already resolved from
// flags, job file and environment.
type Options struct {
	Input         string // path or "-"
	ReaderOptions readers.Options
	Output        string // path or "-"
	WriterOptions writers.Options
	Job           prompts.Job // with defaults applied
	Engine        Config
	Client        model.Client

	// DryRun renders and prints the first DryRunRows requests and sends
	// nothing.
	DryRun     bool
	DryRunRows int

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Progress shows a live progress bar on Stderr (a terminal).
	Progress bool
	// Simulated marks the run as answered by the built-in simulator, so
	// the summary says plainly that the replies are not real.
	Simulated bool

	// StorePath is the run store (see package store); "" runs without
	// one (--no-store): nothing is resumed and dedupe is in-run only.
	StorePath string
	// Command is the command line, for the runs ledger.
	Command []string
	// Prices is the price table in effect (nil: costs unknown).
	Prices *model.Prices
	// Batch, when set, runs the job through the Batch API (--mode batch).
	Batch *BatchOptions
	// KeepReasoning writes the thinking text of thinking models into a
	// "reasoning" column.
	KeepReasoning bool
	// OmitColumns are input columns left out of the output.
	OmitColumns []string
	// Translate, when set, makes the run a translation of some columns.
	Translate *TranslateOptions

	// ChunkColumn names the column holding a document's text ("text" for
	// a folder input); with it, a document whose prompt would not fit the
	// model's input limit (or ChunkTokens) is split into chunks that are
	// answered one by one and then combined (map-reduce). "" turns
	// chunking off.
	ChunkColumn string
	// ChunkTokens caps one request's prompt when splitting (0: the
	// model's input limit).
	ChunkTokens int64
	// DocFilesDir, when set, also writes each document's answer to
	// DIR/<relative path>.md (folder input).
	DocFilesDir string
}

// Report is what a finished (or stopped) run tells the caller.
type Report struct {
	RunID    int64 // in the runs ledger; 0 without a store
	Currency string
	// PriceNote says why there is no cost, or which price was used for
	// a snapshot model name.
	PriceNote string
	Stats     Snapshot
	Output    string   // where the output went ("" when nothing was written)
	Warnings  []string // from the writer, e.g. truncated Excel cells
	// Distribution counts the labels of a fields job (nil otherwise).
	Distribution *prompts.Distribution
	// Translate reports a translation run's cells (nil otherwise).
	Translate *TranslateReport
}

// Execute runs one job from input file to output file. Everything that can
// be checked before the first request is checked first: the input opens,
// every column the prompt uses exists, the output is not the input.
//
// The output is committed whenever at least one row finished, also when
// the run was interrupted or stopped by a fatal error, so that nothing paid
// for is lost; when no row finished, an existing output file is left as it
// was.
func Execute(ctx context.Context, opts Options) (Report, error) {
	if opts.Batch != nil {
		return executeBatch(ctx, opts)
	}
	if opts.Translate != nil {
		return executeTranslate(ctx, opts, nil, false)
	}
	return execute(ctx, opts, nil)
}

// execute is Execute in realtime mode. rs, when not nil, is the run store
// binding to use (a batch run's write phase); otherwise one is opened.
func execute(ctx context.Context, opts Options, rs *runStore) (Report, error) {
	src, err := readers.Open(opts.Input, opts.ReaderOptions, opts.Stdin)
	if err != nil {
		return Report{}, err
	}
	defer src.Close()
	inputName := displayName(opts.Input)
	render, err := prompts.NewRenderer(opts.Job, src.Columns(), inputName)
	if err != nil {
		return Report{}, err
	}
	if opts.DryRun {
		return Report{}, dryRun(ctx, opts, src, render)
	}
	if err := checkOutput(opts.Input, opts.Output); err != nil {
		return Report{}, err
	}
	so := SchemaOptions{ReasoningTokens: Thinks(opts.Job), KeepReasoning: opts.KeepReasoning, Omit: opts.OmitColumns}
	var dist *prompts.Distribution
	if f := opts.Job.Fields; f != nil {
		so.Fields = f.Names()
		opts.Engine.Parser = f
		dist = prompts.NewDistribution(f)
	}
	if multi, err := chunking(opts, render, src.Columns()); err != nil {
		return Report{}, err
	} else if multi != nil {
		opts.Engine.Multi = multi
		so.Fields = []string{opts.Job.OutputColumn, ColRequests}
	}
	var docs *writers.DocFiles
	var docPath func(Result) string
	if opts.DocFilesDir != "" {
		pathCol := indexOf(src.Columns(), "path")
		if pathCol < 0 {
			return Report{}, errors.New("--one-file-per-doc needs a folder input (-i DIR): its rows have a path column")
		}
		if docs, err = writers.NewDocFiles(opts.DocFilesDir); err != nil {
			return Report{}, err
		}
		docPath = func(r Result) string { return r.Row.Values[pathCol] }
	}
	schema, err := NewSchemaWith(src.Columns(), opts.Job.OutputColumn, so)
	if err != nil {
		return Report{}, err
	}
	var rep0 Report
	opts.Engine.Thinking = Thinks(opts.Job)
	opts.Engine.Price, rep0.Currency, rep0.PriceNote = priceOf(opts.Prices, opts.Job.Model,
		": the cost column stays empty (add prices with --prices FILE; bulkgen prices shows the table)")
	if opts.Engine.MaxCost > 0 && opts.Engine.Price == nil {
		return rep0, fmt.Errorf("--max-cost needs a price for model %q: %s", opts.Job.Model, rep0.PriceNote)
	}
	out, err := writers.Create(opts.Output, schema.Header, opts.WriterOptions, opts.Stdout)
	if err != nil {
		return Report{}, err
	}
	if rs == nil && opts.StorePath != "" {
		if rs, err = openRunStore(ctx, opts); err != nil {
			return Report{}, errors.Join(err, out.Abort())
		}
		defer rs.close()
	}
	if rs != nil && opts.Engine.Store == nil {
		opts.Engine.Store = rs
	}
	stats := &Stats{}
	var prog *progress
	if opts.Progress {
		total, ok := src.Total()
		if !ok {
			total = -1
		}
		if opts.Engine.Limit > 0 && (total < 0 || opts.Engine.Limit < total) {
			total = opts.Engine.Limit
		}
		prog = startProgress(opts.Stderr, stats, total, rep0.Currency)
		if !ok && opts.Input != "-" && opts.Engine.Limit <= 0 {
			// CSV has no cheap row count; count in the background so the
			// bar gets a total and an ETA a moment later.
			countCtx, cancelCount := context.WithCancel(ctx)
			defer cancelCount()
			go func() {
				if n, err := readers.CountRows(countCtx, opts.Input, opts.ReaderOptions); err == nil {
					prog.setTotal(n)
				}
			}()
		}
	}
	var docWarnings []string
	sink := func(r Result) error {
		if dist != nil && !r.Skipped {
			if r.Err != nil {
				dist.AddError()
			} else {
				dist.Add(r.Fields)
			}
		}
		if docs != nil && r.Err == nil && !r.Skipped && !r.unfinished {
			answer := r.Response.Content
			if len(r.Fields) > 0 {
				answer = r.Fields[0]
			}
			if err := docs.Write(docPath(r), answer); err != nil {
				if !errors.Is(err, writers.ErrUnsafePath) {
					return fmt.Errorf("input row %s: %w", r.Row.Key, err)
				}
				docWarnings = append(docWarnings, fmt.Sprintf("%s: not written to %s: %v", r.Row.Key, opts.DocFilesDir, err))
			}
		}
		if err := out.Write(schema.Values(r)); err != nil {
			return fmt.Errorf("input row %s: %w", r.Row.Key, err) // err names the output file and row
		}
		return nil
	}
	runErr := Run(ctx, opts.Engine, src, render.Render, opts.Client, sink, stats)
	if prog != nil {
		prog.stop()
	}
	rep := rep0
	rep.Stats = stats.Snapshot()
	rep.Distribution = dist
	if w, ok := out.(interface{ Warnings() []string }); ok {
		rep.Warnings = w.Warnings()
	}
	rep.Warnings = append(rep.Warnings, docWarnings...)
	err = runErr
	switch {
	case rep.Stats.Written == 0 && runErr != nil:
		if aerr := out.Abort(); aerr != nil {
			err = errors.Join(runErr, aerr)
		}
	default:
		if cerr := out.Close(); cerr != nil {
			err = errors.Join(runErr, fmt.Errorf("finish %s: %w", displayName(opts.Output), cerr))
		} else {
			rep.Output = opts.Output
		}
	}
	if rs != nil {
		rep.RunID = rs.runID
		if ferr := rs.finish(rep.Stats, err, rep.Output != "", rep.Currency); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	return rep, err
}

// Thinks reports whether the job's model will produce reasoning tokens, so
// that the reasoning_tokens column is in the output.
func Thinks(job prompts.Job) bool {
	if job.EnableThinking != nil {
		return *job.EnableThinking
	}
	m := strings.ToLower(job.Model)
	return strings.HasPrefix(m, "qwq") || strings.Contains(m, "thinking") ||
		strings.Contains(m, "deepseek-r1") || strings.Contains(m, "reasoner")
}

func displayName(p string) string {
	if p == "-" {
		return "stdin/stdout"
	}
	return p
}

// checkOutput refuses to write over the input: the output is written to a
// temporary file and renamed, which would replace the input with results.
func checkOutput(input, output string) error {
	if input == "-" || output == "-" {
		return nil
	}
	ai, err1 := filepath.Abs(input)
	ao, err2 := filepath.Abs(output)
	if err1 == nil && err2 == nil && ai == ao {
		return fmt.Errorf("the output %s is the input file: bulkgen never overwrites its input; choose another -o", output)
	}
	si, err := os.Stat(input)
	if err != nil {
		return nil
	}
	if so, err := os.Stat(output); err == nil && os.SameFile(si, so) {
		return fmt.Errorf("the output %s is the input file %s (same file): bulkgen never overwrites its input; choose another -o", output, input)
	}
	return nil
}

// dryRun prints the first requests as the JSON they describe, without
// sending anything.
func dryRun(ctx context.Context, opts Options, src readers.Reader, render *prompts.Renderer) error {
	n := opts.DryRunRows
	if n <= 0 {
		n = 3
	}
	w := opts.Stdout
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	shown := 0
	for shown < n {
		row, err := src.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *readers.RowError
		if errors.As(err, &rowErr) {
			fmt.Fprintf(w, "# %s: %v\n", rowErr.Row.Key, rowErr.Err)
			shown++
			continue
		}
		if err != nil {
			return err
		}
		req, skip := render.Render(row.Values)
		if skip {
			fmt.Fprintf(w, "# %s: skipped (every column the prompt uses is empty)\n", row.Key)
		} else {
			fmt.Fprintf(w, "# %s\n", row.Key)
			if err := enc.Encode(req); err != nil {
				return err
			}
		}
		shown++
	}
	fmt.Fprintf(opts.Stderr, "bulkgen: dry run: showed %d request(s); nothing was sent\n", shown)
	return nil
}

// ColRequests counts the requests a chunked document needed.
const ColRequests = "requests"

// priceOf looks model up in prices (nil: no table, no note). note names
// the price a snapshot name is billed at, or says why there is none, with
// unknown appended.
func priceOf(prices *model.Prices, modelName, unknown string) (price *model.Price, currency, note string) {
	if prices == nil {
		return nil, "", ""
	}
	p, as, ok := prices.Lookup(modelName)
	if !ok {
		return nil, "", prices.Unknown(modelName) + unknown
	}
	if !strings.EqualFold(as, modelName) {
		note = fmt.Sprintf("%s priced as %s", modelName, as)
	}
	return &p, p.Currency, note
}

// chunking returns the map-reduce of long documents when the job has a
// chunk column, or nil. A fields job is not chunked: partial answers
// cannot be combined field by field (a too-long document is a row error).
func chunking(opts Options, render *prompts.Renderer, columns []string) (MultiFunc, error) {
	if opts.ChunkColumn == "" || opts.Job.Fields != nil {
		return nil, nil
	}
	col := indexOf(columns, opts.ChunkColumn)
	if col < 0 {
		return nil, fmt.Errorf("--chunk-column %q is not a column of %s (columns: %s)", opts.ChunkColumn, displayName(opts.Input), strings.Join(columns, ", "))
	}
	return mapReduceFor(opts, render, columns, col)
}

// mapReduceFor builds the map-reduce of long documents for a job.
func mapReduceFor(opts Options, render *prompts.Renderer, columns []string, textCol int) (MultiFunc, error) {
	counter, err := model.NewPromptCounter(opts.Job.Model)
	if err != nil {
		return nil, err
	}
	cfg := ChunkConfig{
		Render:     render.Render,
		TextColumn: textCol,
		MaxPrompt:  ChunkPromptLimit(opts.ChunkTokens, model.MaxInputTokens(opts.Job.Model), counter.Exact()),
		Count:      counter.Count,
		Parallel:   opts.Engine.Concurrency,
	}
	if opts.Job.ReducePrompt != "" {
		rj := opts.Job
		rj.Prompt = opts.Job.ReducePrompt
		rr, err := prompts.NewRenderer(rj, columns, displayName(opts.Input))
		if err != nil {
			return nil, fmt.Errorf("reduce_prompt: %w", err)
		}
		cfg.Reduce = rr.Render
	}
	return NewMapReduce(cfg), nil
}
