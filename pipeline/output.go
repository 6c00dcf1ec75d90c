package pipeline

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Names of the columns bulkgen adds after the input's own columns and the
// output column.
const (
	ColPromptTokens     = "prompt_tokens"
	ColCompletionTokens = "completion_tokens"
	ColTotalTokens      = "total_tokens"
	ColReasoningTokens  = "reasoning_tokens"
	ColCost             = "cost"
	ColFinishReason     = "finish_reason"
	ColError            = "error"
)

// FinishSkipped is written as the finish_reason of a row that was not sent
// because every column its prompt uses is empty.
const FinishSkipped = "skipped"

// Schema is the output header: every input column, then the output column,
// then usage and status columns. It is fixed before the first row.
type Schema struct {
	Header    []string
	inputCols int
	reasoning bool
}

// NewSchema builds the output header. When an added column's name is
// already an input column (typically when the input is itself a bulkgen
// output, as in translate-then-label chains), the added status columns are
// prefixed with the output column's name; the output column itself must be
// new.
func NewSchema(input []string, outputColumn string, reasoning bool) (*Schema, error) {
	have := make(map[string]bool, len(input))
	for _, c := range input {
		have[c] = true
	}
	if have[outputColumn] {
		return nil, fmt.Errorf("the output column %q is already an input column: choose another name with --output-column (or output_column: in the job file)", outputColumn)
	}
	added := []string{ColPromptTokens, ColCompletionTokens, ColTotalTokens}
	if reasoning {
		added = append(added, ColReasoningTokens)
	}
	added = append(added, ColCost, ColFinishReason, ColError)
	clash := false
	for _, c := range added {
		if have[c] || c == outputColumn {
			clash = true
		}
	}
	if clash {
		for i, c := range added {
			added[i] = outputColumn + "_" + c
		}
		for _, c := range added {
			if have[c] {
				return nil, fmt.Errorf("the input already has a column %q, which bulkgen needs to add: choose another --output-column", c)
			}
		}
	}
	h := make([]string, 0, len(input)+1+len(added))
	h = append(h, input...)
	h = append(h, outputColumn)
	h = append(h, added...)
	return &Schema{Header: h, inputCols: len(input), reasoning: reasoning}, nil
}

// Values lays out one result as a row of the header.
func (s *Schema) Values(r Result) []any {
	v := make([]any, 0, len(s.Header))
	for i := 0; i < s.inputCols; i++ {
		switch {
		case i < len(r.Row.JSON) && r.Row.JSON[i] != nil:
			v = append(v, json.RawMessage(r.Row.JSON[i]))
		case i < len(r.Row.Values):
			v = append(v, r.Row.Values[i])
		default:
			v = append(v, nil)
		}
	}
	var output, finish, errText any
	var prompt, completion, total, reasoning, cost any
	switch {
	case r.Err != nil:
		errText = oneLine(r.Err.Error())
	case r.Skipped:
		finish = FinishSkipped
	default:
		u := r.Response.Usage
		output, finish = r.Response.Content, r.Response.FinishReason
		prompt, completion, total, reasoning = u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.ReasoningTokens
		if r.Priced {
			cost = roundCost(r.Cost)
		}
	}
	v = append(v, output, prompt, completion, total)
	if s.reasoning {
		v = append(v, reasoning)
	}
	return append(v, cost, finish, errText)
}

// roundCost keeps ten decimals: finer than any price per token, and free of
// float noise such as 0.00030000000000000003.
func roundCost(c float64) float64 {
	return math.Round(c*1e10) / 1e10
}

// oneLine keeps an error message on one line so that CSV viewers show it
// whole.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
