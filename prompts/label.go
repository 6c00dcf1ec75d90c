package prompts

import (
	"errors"
	"fmt"
	"strings"
)

// Names of the fields LabelJob asks for.
const (
	LabelField  = "label"
	ReasonField = "reason"
)

// LabelSystem is the system prompt of LabelJob; the fields' instruction
// follows it.
const LabelSystem = "You are a careful data annotator. You read one text at a time and give it exactly one label from a fixed list, judging the text as a whole."

// LabelOption changes what LabelJob asks for.
type LabelOption func(*labelConfig)

type labelConfig struct {
	reason bool
}

// WithReason adds an optional "reason" field: one short sentence on why
// the label fits. It helps to review a sample of the labels, and costs
// output tokens on every row, so it is off by default.
func WithReason() LabelOption { return func(c *labelConfig) { c.reason = true } }

// LabelJob is the job behind `bulkgen label --labels a,b,c --text COL`:
// each row's textColumn gets exactly one of labels in the column "label".
//
// The labels are trimmed and must be distinct ignoring case. The job asks
// at temperature 0 with thinking off: a label should not change between
// runs, and JSON mode needs thinking off on Qwen Plus/Flash/Turbo. Model,
// temperature and the rest can be overridden like any job's, and
// WithDefaults still has to be applied.
//
// A self-reported confidence was left out on purpose: models give poorly
// calibrated numbers that look more precise than they are.
func LabelJob(labels []string, textColumn string, opts ...LabelOption) (Job, error) {
	var cfg labelConfig
	for _, o := range opts {
		o(&cfg)
	}
	col := strings.TrimSpace(textColumn)
	switch {
	case col == "":
		return Job{}, errors.New("label: no text column: give --text COLUMN")
	case col != textColumn || strings.Contains(col, "}}") || strings.HasSuffix(col, "}"):
		return Job{}, fmt.Errorf("label: text column %q cannot be named in a prompt template (it has leading or trailing spaces, or ends in or contains \"}\"): rename the column", textColumn)
	}
	clean := make([]string, 0, len(labels))
	for _, l := range labels {
		if l = strings.TrimSpace(l); l != "" {
			clean = append(clean, l)
		}
	}
	if len(clean) < 2 {
		return Job{}, fmt.Errorf("label: give at least two labels, e.g. --labels positive,negative,neutral (got %d)", len(clean))
	}
	fields := []Field{{Name: LabelField, Type: TypeString, Enum: clean, Description: "the label that fits the text best"}}
	if cfg.reason {
		fields = append(fields, Field{Name: ReasonField, Type: TypeString, Optional: true, Description: "one short sentence on why the label fits"})
	}
	fs, err := NewFields(fields...)
	if err != nil {
		return Job{}, fmt.Errorf("label: %w", err)
	}
	zero, off := 0.0, false
	job := Job{
		Task: TaskLabel,
		// The labels are template text: "{{" in one must not start a placeholder.
		Prompt:         "Label the text below with exactly one of these labels: " + escapeTemplate(strings.Join(clean, ", ")) + ".\n\nText:\n{{" + col + "}}\n",
		Fields:         fs,
		Temperature:    &zero,
		EnableThinking: &off,
		ResponseFormat: "json_object",
	}
	job.SetSystem(LabelSystem)
	return job, nil
}

// escapeTemplate makes literal text safe inside a Template.
func escapeTemplate(s string) string { return strings.ReplaceAll(s, "{{", "{{{{") }
