package main

import (
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"bulkgen/pipeline"
	"bulkgen/prompts"
	"bulkgen/translate"
)

// translateCommand is `bulkgen translate`: a built-in translation job.
func translateCommand(stdin io.Reader, stdout, stderr io.Writer) *cli.Command {
	var flags []cli.Flag
	for _, f := range runFlags() {
		switch f.Names()[0] {
		case "prompt", "system", "output-column", "response-format":
			continue // the built-in prompts set these
		case "omit-columns":
			continue // a translation keeps the layout
		}
		flags = append(flags, f)
	}
	flags = append(flags,
		&cli.StringFlag{Name: "to", Category: catPrompt, Usage: "target language `code`: " + strings.Join(translate.Languages(), ", ")},
		&cli.StringFlag{Name: "from", Category: catPrompt, Usage: "source language `code` (default: the model tells; with it, cells without a letter of that language's script are not sent)"},
		&cli.StringFlag{Name: "columns", Category: catPrompt, Usage: "the columns to translate, comma-separated: `商品名称,描述`"},
		&cli.BoolFlag{Name: "in-place", Category: catOutput, Usage: "replace the cells instead of adding a translated column beside each (XLSX: a copy of the workbook with every style, formula and sheet kept)"},
		&cli.IntFlag{Name: "pack", Category: catPrompt, Usage: "put up to `N` short cells into one request (a JSON reply checked cell by cell; a reply that does not fit falls back to single cells)"},
		&cli.StringFlag{Name: "glossary", Category: catPrompt, Usage: "a CSV `file` of source,target terms, put into the prompt of every cell that contains them"},
		&cli.StringFlag{Name: "codes", Category: catPrompt, Usage: "a regular `expression` for cells never to send (SKUs, codes); \"-\" turns the built-in one off"})
	return &cli.Command{
		Name:      "translate",
		Usage:     "translate columns of a spreadsheet, CSV or JSONL, cell by cell",
		UsageText: "bulkgen translate -i INPUT --to en --columns COL[,COL] -o OUTPUT [--from zh] [--in-place] [--pack N] [--glossary terms.csv]",
		Description: `Translates the chosen columns. By default a translated column is added beside each source
column ("描述" → "描述_en"); --in-place replaces the cells, and for an Excel input writes a
copy of the workbook in which only those cells changed: every sheet, style, width, merged
cell, formula and number format is kept.

Cells that need no translation are not sent: empty cells, numbers, dates, formulas, URLs,
e-mails, codes and SKUs (--codes), and with --from, cells without a letter of that language.
Identical cells are translated once (with the run store, once ever). Glossary terms found in
a cell go into its prompt, and translations missing a term are counted in the summary.
--pack N sends N short cells in one request, which saves the per-request prompt overhead.
--mode batch sends the same requests through the Batch API at the batch price (see bulkgen
batch --help).

A job file with task: translate and a translate: block (to, from, columns, glossary, pack,
in_place, codes) does the same with bulkgen run -j.

Examples:
   bulkgen translate -i samples/catalog.xlsx --from zh --to en --columns 商品名称,描述 -o out/catalog_en.xlsx --sim
   bulkgen translate -i samples/catalog.xlsx --to en --columns 商品名称,描述 --in-place --pack 8 -o out/catalog_inplace.xlsx --sim`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			return runAction(c, stdin, stdout, stderr)
		},
	}
}

// applyTranslateFlags lets bulkgen translate's flags override a job file's
// translate: block.
func applyTranslateFlags(c *cli.Context, t *prompts.TranslateSpec) {
	if c.IsSet("to") {
		t.To = c.String("to")
	}
	if c.IsSet("from") {
		t.From = c.String("from")
	}
	if c.IsSet("columns") {
		t.Columns = splitList(c.String("columns"))
	}
	if c.IsSet("in-place") {
		t.InPlace = c.Bool("in-place")
	}
	if c.IsSet("pack") {
		t.Pack = c.Int("pack")
	}
	if c.IsSet("glossary") {
		t.Glossary = c.String("glossary")
	}
	if c.IsSet("codes") {
		t.Codes = c.String("codes")
	}
}

// translateOptions turns a task: translate job into pipeline options.
func translateOptions(job prompts.Job) (*pipeline.TranslateOptions, error) {
	t := job.Translate
	o := &pipeline.TranslateOptions{Columns: t.Columns, From: t.From, To: t.To, Pack: max(t.Pack, 1), InPlace: t.InPlace, CodePattern: t.Codes}
	if t.Glossary != "" {
		path := t.Glossary
		if src := job.Source(); src != "" && !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(src), path)
		}
		g, err := translate.LoadGlossary(path)
		if err != nil {
			return nil, err
		}
		o.Glossary = g
	}
	return o, nil
}
