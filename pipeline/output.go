package pipeline

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"bulkgen/prompts"
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

// Schema is the output header: every input column, then the output
// column(s), then usage and status columns. It is fixed before the first
// row.
type Schema struct {
	Header        []string
	inputIdx      []int // the input columns written, by index, in order
	outputs       int   // 1, or the number of fields of a fields job
	fields        bool  // outputs are the fields of a parsed reply
	keepReasoning bool
	reasoning     bool
}

// ColReasoning holds the model's thinking text (--keep-reasoning).
const ColReasoning = "reasoning"

// SchemaOptions choose the added columns.
type SchemaOptions struct {
	// Fields, when set, are the output columns (one per field of a
	// label/extract job) instead of the single output column.
	Fields []string
	// ReasoningTokens adds the reasoning_tokens column.
	ReasoningTokens bool
	// KeepReasoning adds a column with the thinking text.
	KeepReasoning bool
	// Omit names input columns to leave out of the output (--omit-columns),
	// such as a folder input's whole-document "text".
	Omit []string
}

// NewSchema builds the output header. When an added column's name is
// already an input column (typically when the input is itself a bulkgen
// output, as in translate-then-label chains), the added status columns are
// prefixed with the output column's name; the output column itself must be
// new.
func NewSchema(input []string, outputColumn string, reasoning bool) (*Schema, error) {
	return NewSchemaWith(input, outputColumn, SchemaOptions{ReasoningTokens: reasoning})
}

// NewSchemaWith is NewSchema with more choices.
func NewSchemaWith(input []string, outputColumn string, o SchemaOptions) (*Schema, error) {
	omit := make(map[string]bool, len(o.Omit))
	for _, c := range o.Omit {
		if !slices.Contains(input, c) {
			msg := fmt.Sprintf("--omit-columns: the input has no column %q", c)
			if hint := prompts.Closest(c, input); hint != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", hint)
			}
			return nil, fmt.Errorf("%s; its columns are %s", msg, prompts.QuoteList(input))
		}
		omit[c] = true
	}
	have := make(map[string]bool, len(input))
	var inputIdx []int
	var kept []string
	for i, c := range input {
		if omit[c] {
			continue
		}
		have[c] = true
		inputIdx = append(inputIdx, i)
		kept = append(kept, c)
	}
	outputs := []string{outputColumn}
	if len(o.Fields) > 0 {
		outputs = o.Fields
	}
	for _, out := range outputs {
		if have[out] {
			if len(o.Fields) > 0 {
				return nil, fmt.Errorf("the field %q is already an input column: rename the field in the job file", out)
			}
			return nil, fmt.Errorf("the output column %q is already an input column: choose another name with --output-column (or output_column: in the job file)", out)
		}
	}
	var added []string
	if o.KeepReasoning {
		added = append(added, ColReasoning)
	}
	added = append(added, ColPromptTokens, ColCompletionTokens, ColTotalTokens)
	if o.ReasoningTokens {
		added = append(added, ColReasoningTokens)
	}
	added = append(added, ColCost, ColFinishReason, ColError)
	isOutput := map[string]bool{}
	for _, out := range outputs {
		isOutput[out] = true
	}
	clash := false
	for _, c := range added {
		if have[c] || isOutput[c] {
			clash = true
		}
	}
	if clash {
		for i, c := range added {
			added[i] = outputs[0] + "_" + c
		}
		for _, c := range added {
			if have[c] || isOutput[c] {
				return nil, fmt.Errorf("the input already has a column %q, which bulkgen needs to add: choose another --output-column", c)
			}
		}
	}
	h := make([]string, 0, len(kept)+len(outputs)+len(added))
	h = append(h, kept...)
	h = append(h, outputs...)
	h = append(h, added...)
	return &Schema{Header: h, inputIdx: inputIdx, outputs: len(outputs), fields: len(o.Fields) > 0,
		keepReasoning: o.KeepReasoning, reasoning: o.ReasoningTokens}, nil
}

// Values lays out one result as a row of the header.
func (s *Schema) Values(r Result) []any {
	v := make([]any, 0, len(s.Header))
	for _, i := range s.inputIdx {
		switch {
		case i < len(r.Row.JSON) && r.Row.JSON[i] != nil:
			v = append(v, json.RawMessage(r.Row.JSON[i]))
		case i < len(r.Row.Values):
			v = append(v, r.Row.Values[i])
		default:
			v = append(v, nil)
		}
	}
	outputs := make([]any, s.outputs)
	var finish, errText, thought any
	var prompt, completion, total, reasoning, cost any
	u := r.Response.Usage
	switch {
	case r.Err != nil:
		errText = oneLine(r.Err.Error())
	case r.Skipped:
		finish = FinishSkipped
	default:
		if s.fields {
			for i := range outputs {
				if i < len(r.Fields) {
					outputs[i] = r.Fields[i]
				}
			}
		} else {
			outputs[0] = r.Response.Content
		}
		finish = r.Response.FinishReason
	}
	// Tokens spent are shown also when the row failed after spending them
	// (a reply that never validated).
	if !r.Skipped && (r.Err == nil || u.TotalTokens > 0) {
		prompt, completion, total, reasoning = u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.ReasoningTokens
		if r.Priced {
			cost = roundCost(r.Cost)
		}
		if s.keepReasoning && r.Response.ReasoningContent != "" {
			thought = r.Response.ReasoningContent
		}
	}
	v = append(v, outputs...)
	if s.keepReasoning {
		v = append(v, thought)
	}
	v = append(v, prompt, completion, total)
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
