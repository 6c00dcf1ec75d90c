// Package prompts holds what a run asks of the model: the job file (model,
// system prompt, user prompt template, request parameters, output column)
// and the templates that turn an input row into a request.
package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"bulkgen/model"
)

// Defaults the service's own documentation gives or that the README promises.
const (
	DefaultModel        = "qwen-plus"
	DefaultSystem       = "You are a helpful assistant."
	DefaultOutputColumn = "output"
)

// Job is one bulk job: the same request, filled from each row.
//
// Pointer fields are optional: nil means "not set here", so that a job file
// and flags can be layered (flags override the file) and so that an unset
// parameter is not sent and the service default applies.
type Job struct {
	Model        string `yaml:"model"`
	System       string `yaml:"system"`
	Prompt       string `yaml:"prompt"`
	OutputColumn string `yaml:"output_column"`

	Temperature    *float64 `yaml:"temperature"`
	TopP           *float64 `yaml:"top_p"`
	MaxTokens      *int64   `yaml:"max_tokens"`
	Seed           *int64   `yaml:"seed"`
	Stop           StopList `yaml:"stop"`
	EnableThinking *bool    `yaml:"enable_thinking"`
	ResponseFormat string   `yaml:"response_format"`
	systemSet      bool     // System was given explicitly (even as "")
	source         string   // file the job came from, for messages
}

// StopList accepts `stop: "###"` as well as `stop: ["###", "\n\n"]`.
type StopList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *StopList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = StopList{n.Value}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		*s = list
		return nil
	}
	return fmt.Errorf("line %d: stop must be a string or a list of strings", n.Line)
}

// LoadJob reads a YAML job file. Unknown keys are errors (a typo such as
// `temprature:` must not silently fall back to a default).
func LoadJob(path string) (Job, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Job{}, fmt.Errorf("read job file: %w", err)
	}
	job, err := ParseJob(data)
	if err != nil {
		return Job{}, fmt.Errorf("job file %s: %w", path, err)
	}
	job.source = path
	return job, nil
}

// ParseJob parses the YAML text of a job file.
func ParseJob(data []byte) (Job, error) {
	var job Job
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&job); err != nil {
		if errors.Is(err, io.EOF) {
			return Job{}, errors.New("the file is empty; it needs at least a `prompt:`")
		}
		return Job{}, fmt.Errorf("%w (known keys: model, system, prompt, output_column, temperature, top_p, max_tokens, seed, stop, enable_thinking, response_format)", err)
	}
	// Find out whether `system:` was present at all, so that an explicit
	// empty system prompt ("send none") is told apart from "not given".
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err == nil {
		_, job.systemSet = raw["system"]
	}
	return job, nil
}

// SetSystem sets the system prompt explicitly ("" means: send no system
// message, and the service assumes its default).
func (j *Job) SetSystem(s string) { j.System, j.systemSet = s, true }

// Source names the job file the job came from, or "" for flags only.
func (j Job) Source() string { return j.source }

// WithDefaults fills what neither the file nor the flags set.
func (j Job) WithDefaults() Job {
	if j.Model == "" {
		j.Model = DefaultModel
	}
	if !j.systemSet && j.System == "" {
		j.System = DefaultSystem
		j.systemSet = true
	}
	if j.OutputColumn == "" {
		j.OutputColumn = DefaultOutputColumn
	}
	return j
}

// Validate checks the parameters against the ranges the service accepts
// (../shared/dashscope-api-notes.md §1.2), so a typo fails before any
// request instead of on every row.
func (j Job) Validate() error {
	var problems []string
	if strings.TrimSpace(j.Prompt) == "" {
		problems = append(problems, "no prompt: give `prompt:` in the job file or --prompt")
	}
	if j.Temperature != nil && (*j.Temperature < 0 || *j.Temperature >= 2) {
		problems = append(problems, fmt.Sprintf("temperature %g is outside [0, 2)", *j.Temperature))
	}
	if j.TopP != nil && (*j.TopP <= 0 || *j.TopP > 1) {
		problems = append(problems, fmt.Sprintf("top_p %g is outside (0, 1]", *j.TopP))
	}
	if j.MaxTokens != nil && *j.MaxTokens <= 0 {
		problems = append(problems, fmt.Sprintf("max_tokens %d must be positive", *j.MaxTokens))
	}
	if j.Seed != nil && (*j.Seed < 0 || *j.Seed > 1<<31-1) {
		problems = append(problems, fmt.Sprintf("seed %d is outside 0..2147483647", *j.Seed))
	}
	switch j.ResponseFormat {
	case "", "text":
	case "json_object":
		if !strings.Contains(strings.ToLower(j.System+j.Prompt), "json") {
			problems = append(problems, "response_format json_object needs the word \"json\" in the system prompt or the prompt (the service rejects the request otherwise)")
		}
	default:
		problems = append(problems, fmt.Sprintf("response_format %q: use text or json_object", j.ResponseFormat))
	}
	if strings.TrimSpace(j.OutputColumn) == "" {
		problems = append(problems, "output column name is empty")
	}
	if len(problems) > 0 {
		where := "job"
		if j.source != "" {
			where = "job file " + j.source
		}
		return fmt.Errorf("%s: %s", where, strings.Join(problems, "; "))
	}
	return nil
}

// requestTemplate returns a model.Request with everything but the messages.
func (j Job) requestTemplate() model.Request {
	return model.Request{
		Model:          j.Model,
		Temperature:    j.Temperature,
		TopP:           j.TopP,
		MaxTokens:      j.MaxTokens,
		Seed:           j.Seed,
		Stop:           []string(j.Stop),
		EnableThinking: j.EnableThinking,
		ResponseFormat: j.ResponseFormat,
	}
}
