package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"bulkgen/model"
	"bulkgen/pipeline"
	"bulkgen/prompts"
)

// estimateCommand prices a run before it is made.
func estimateCommand(stdin io.Reader, stdout, stderr io.Writer) *cli.Command {
	flags := runFlags()
	for _, f := range flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "output" {
			sf.Required = false
			sf.Usage = "not used by estimate"
			sf.Hidden = true
		}
	}
	flags = append(flags,
		&cli.IntFlag{Name: "pilot", Category: catRun,
			Usage: "send `N` rows, sampled across the input, for real to measure answer sizes (costs those N requests)"},
		&cli.BoolFlag{Name: "json", Category: catRun, Usage: "print JSON instead of a table"},
	)
	return &cli.Command{
		Name:      "estimate",
		Usage:     "count tokens and price a run offline, before sending anything",
		UsageText: "bulkgen estimate -i INPUT (-j JOB.yaml | --prompt TEMPLATE) [--pilot N] [--rpm N] [--tpm N] [--json]",
		Description: `Takes the same input, job file and flags as run, and calls no model (unless --pilot).
Reads the whole input on all cores and prints: rows, exact input tokens per row (min /
median / max) and in total, output tokens as a range, the cost low / expected / high for
realtime and for the Batch API (half price), the time --rpm / --tpm allow at best, and the
rows that exceed the model's input limit.

Output tokens come from max_tokens (the ceiling) and, with --pilot N, from N rows sent for
real and extrapolated (10th–90th percentile as the range).

Examples:
   bulkgen estimate -i samples/catalog.xlsx -j samples/translate.yaml
   bulkgen estimate -i samples/catalog.xlsx -j samples/translate_task.yaml     # a translation: counted per cell
   bulkgen estimate -i reviews.csv --prompt 'Classify: {{评论内容}}' -m qwen-flash --max-tokens 5 --rpm 600
   bulkgen estimate -i samples/reviews.csv -j samples/sentiment.yaml --pilot 20 --sim --json`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			in, err := jobInputsFromFlags(c)
			if err != nil {
				return err
			}
			opts := pipeline.EstimateOptions{
				Input: c.String("input"), ReaderOptions: in.ropts, Job: in.job, Stdin: stdin,
				Limit: c.Int("limit"), RPM: c.Float64("rpm"), TPM: c.Float64("tpm"), Prices: in.prices,
				Count: tokenCounter(in.job.Model), Shape: shapeCounter(in.job.Model), Pilot: c.Int("pilot"),
				ExpectedOutputTokens: c.Int64("expect-output-tokens"),
				ChunkColumn:          c.String("chunk-column"), ChunkTokens: c.Int64("chunk-tokens"),
			}
			if fi, err := os.Stat(opts.Input); err == nil && fi.IsDir() && !c.IsSet("chunk-column") {
				opts.ChunkColumn = "text" // as run does for a folder
			}
			if in.job.Task == prompts.TaskTranslate {
				if opts.Translate, err = translateOptions(in.job); err != nil {
					return &codeError{exitUsage, err}
				}
			}
			if opts.Pilot < 0 {
				return &codeError{exitUsage, fmt.Errorf("--pilot %d: give a positive number of rows", opts.Pilot)}
			}
			if opts.Pilot > 0 {
				client, _, closeSim, err := newClient(c, stderr)
				if err != nil {
					return &codeError{exitUsage, err}
				}
				defer closeSim()
				opts.Client = client
			}
			est, err := pipeline.RunEstimate(c.Context, opts)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(stdout, est)
			}
			est.WriteTable(stdout)
			return nil
		},
	}
}

// shapeCounter counts rows through their template with the embedded Qwen
// tokenizer (nil if its data cannot be loaded: rows are then counted by
// tokenCounter's fallback).
func shapeCounter(modelName string) pipeline.ShapeCounter {
	c, err := model.NewPromptCounter(modelName)
	if err != nil {
		return nil
	}
	return func(base model.Request, msgs []model.ShapedMessage) (func([]string) int64, bool, bool) {
		count, ok := c.Shape(base, msgs)
		return count, c.Exact(), ok
	}
}

// tokenCounter counts a request's billed input tokens with the embedded
// Qwen tokenizer (falling back to the generous estimate only if its data
// cannot be loaded, which would be a build defect).
func tokenCounter(modelName string) pipeline.TokenCounter {
	c, err := model.NewPromptCounter(modelName)
	if err != nil {
		// The embedded vocabulary failed to load: estimate, and say so
		// (exact=false marks the figures as estimates).
		return func(req model.Request) (int64, bool) { return model.EstimatePromptTokens(req), false }
	}
	return func(req model.Request) (int64, bool) { return c.Count(req), c.Exact() }
}
