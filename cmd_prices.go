package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"bulkgen/model"
)

// pricesCommand prints the price table in effect.
func pricesCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "prices",
		Usage:     "print the price table in effect (per million tokens)",
		UsageText: "bulkgen prices [--region cn|intl] [--prices FILE] [--json]",
		Description: `Prices are per million tokens, by input-length tier (the tier is chosen by the request's
input length). Mainland (--region cn) is in CNY, international in USD. The Batch API costs
batch_share (50%) of realtime. The built-in figures were taken from the notes on the date
shown; check the Model Studio console before a big run and override with --prices FILE:

   prices:
     - model: qwen-plus
       region: cn
       currency: CNY
       tiers:
         - {up_to: 128000, input: 0.8, output: 2, output_thinking: 8, cached_input: 0.2}
         - {input: 2.4, output: 20}

Examples:
   bulkgen prices
   bulkgen prices --region intl --json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "region", Value: "cn", EnvVars: []string{"DASHSCOPE_REGION"}, Usage: "`cn|intl|us|hk`"},
			&cli.StringFlag{Name: "prices", EnvVars: []string{"BULKGEN_PRICES"}, Usage: "YAML `file` with overrides"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: func(c *cli.Context) error {
			t, err := priceTable(c)
			if err != nil {
				return &codeError{exitUsage, err}
			}
			all := t.All()
			if c.Bool("json") {
				return printJSON(stdout, all)
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "MODEL\tINPUT TOKENS\tINPUT\tOUTPUT\tTHINKING OUT\tCACHED IN\tBATCH\tCUR\tTAKEN\tNOTE")
			for _, p := range all {
				lo := int64(0)
				for i, tr := range p.Tiers {
					band := fmt.Sprintf("%s–%s", kTokens(lo), kTokens(tr.UpTo))
					if tr.UpTo == 0 {
						band = fmt.Sprintf("> %s", kTokens(lo))
						if lo == 0 {
							band = "all"
						}
					}
					name, note, taken := p.Model, p.Note, p.Date
					if i > 0 {
						name, note, taken = "", "", ""
					}
					fmt.Fprintf(tw, "%s\t%s\t%g\t%g\t%s\t%s\t%g%%\t%s\t%s\t%s\n", name, band, tr.Input, tr.Output,
						orDash(tr.OutputThinking), orDash(tr.CachedInput), batchPct(p.BatchShare), p.Currency, taken, note)
					lo = tr.UpTo
				}
			}
			tw.Flush()
			fmt.Fprintf(stdout, "\nregion %s; a model not listed has no cost (its cost column stays empty). Sources: %s\n",
				t.Region(), sources(all))
			return nil
		},
	}
}

func kTokens(n int64) string {
	if n%1000 == 0 && n > 0 {
		return fmt.Sprintf("%dK", n/1000)
	}
	return fmt.Sprint(n)
}

func orDash(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%g", v)
}

func batchPct(share float64) float64 {
	if share == 0 {
		share = 0.5
	}
	return share * 100
}

func sources(ps []model.Price) string {
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		if p.Source != "" && !seen[p.Source] {
			seen[p.Source] = true
			out = append(out, p.Source)
		}
	}
	return strings.Join(out, "; ")
}
