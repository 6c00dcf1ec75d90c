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
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"bulkgen/model"
)

// Tasks a job can name with `task:`. The empty task is a generate job, or
// an extract job when fields are given.
const (
	TaskGenerate  = "generate"  // free text into the output column
	TaskLabel     = "label"     // classify: fields with at least one list of labels
	TaskExtract   = "extract"   // structured fields out of free text
	TaskTranslate = "translate" // free text; its logic lives outside this package
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
	Task         string `yaml:"task"`
	Model        string `yaml:"model"`
	System       string `yaml:"system"`
	Prompt       string `yaml:"prompt"`
	OutputColumn string `yaml:"output_column"`
	// ReducePrompt combines the partial answers of a long document split
	// into chunks ({{text}} is the partial answers); empty means the
	// prompt itself is applied to them.
	ReducePrompt string `yaml:"reduce_prompt"`

	Temperature    *float64 `yaml:"temperature"`
	TopP           *float64 `yaml:"top_p"`
	MaxTokens      *int64   `yaml:"max_tokens"`
	Seed           *int64   `yaml:"seed"`
	Stop           StopList `yaml:"stop"`
	EnableThinking *bool    `yaml:"enable_thinking"`
	ResponseFormat string   `yaml:"response_format"`

	// Fields, when set, make the answer a JSON object with these keys,
	// one output column each (from `fields:` or `schema:` in the file).
	Fields *Fields `yaml:"-"`

	// Translate configures task: translate.
	Translate TranslateSpec `yaml:"translate"`

	systemSet bool   // System was given explicitly (even as "")
	source    string // file the job came from, for messages
}

// jobFile is the YAML shape of a job file: the Job plus the field specs,
// which are read from their nodes to keep key order and line numbers.
type jobFile struct {
	Job        `yaml:",inline"`
	FieldsSpec yaml.Node `yaml:"fields"`
	SchemaSpec yaml.Node `yaml:"schema"`
}

// TranslateSpec is the `translate:` block of a task: translate job file;
// flags of bulkgen translate override it.
type TranslateSpec struct {
	To       string   `yaml:"to"`
	From     string   `yaml:"from"`
	Columns  []string `yaml:"columns"`
	Glossary string   `yaml:"glossary"` // a CSV file, relative to the job file
	Pack     int      `yaml:"pack"`
	InPlace  bool     `yaml:"in_place"`
	// Codes is a regular expression for cells never to translate (SKUs,
	// codes); "-" turns the built-in one off.
	Codes string `yaml:"codes"`
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
	job, err := parseJob(data, filepath.Dir(path))
	if err != nil {
		return Job{}, fmt.Errorf("job file %s: %w", path, err)
	}
	job.source = path
	return job, nil
}

// flowQuestionMark reports an unquoted optional type such as `string?,`
// in a flow collection, which YAML cannot parse.
func flowQuestionMark(data []byte) bool {
	for i := 1; i < len(data); i++ {
		if data[i] != '?' || !(isLetter(data[i-1]) || data[i-1] == ']') {
			continue
		}
		j := i + 1
		for j < len(data) && data[j] == ' ' {
			j++
		}
		if j < len(data) && (data[j] == ',' || data[j] == '}' || data[j] == ']') {
			return true
		}
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// ParseJob parses the YAML text of a job file. A `schema:` path is read
// relative to the current directory (LoadJob reads it relative to the job
// file).
func ParseJob(data []byte) (Job, error) { return parseJob(data, "") }

func parseJob(data []byte, dir string) (Job, error) {
	var file jobFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return Job{}, errors.New("the file is empty; it needs at least a `prompt:`")
		}
		if strings.Contains(err.Error(), "did not find expected") && flowQuestionMark(data) {
			// libyaml ends a plain scalar at "?" inside { } and [ ].
			return Job{}, fmt.Errorf("%w (inside { } or [ ], quote a type ending in ?, e.g. {type: \"string?\"})", err)
		}
		return Job{}, fmt.Errorf("%w (known keys: task, model, system, prompt, output_column, fields, schema, temperature, top_p, max_tokens, seed, stop, enable_thinking, response_format)", err)
	}
	job := file.Job
	var err error
	switch fields, schema := &file.FieldsSpec, &file.SchemaSpec; {
	case fields.Kind != 0 && schema.Kind != 0:
		return Job{}, fmt.Errorf("line %d: give either fields: (shorthand) or schema: (JSON Schema), not both", schema.Line)
	case fields.Kind != 0:
		job.Fields, err = parseFieldsShorthand(fields)
	case schema.Kind != 0:
		job.Fields, err = parseSchemaSpec(schema, dir)
	}
	if err != nil {
		return Job{}, err
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
	if j.Fields != nil && j.ResponseFormat == "" {
		// JSON mode rather than json_schema: every model supports it, and
		// the instruction the Renderer appends names the keys and labels.
		j.ResponseFormat = "json_object"
	}
	if j.Fields != nil && j.EnableThinking == nil && !thinkingOnly(j.Model) {
		// JSON mode works only with thinking off on Plus/Flash/Turbo, and
		// a label gains nothing from thinking tokens, which cost more.
		off := false
		j.EnableThinking = &off
	}
	return j
}

// thinkingOnly reports models that always think (enable_thinking cannot
// turn it off).
func thinkingOnly(m string) bool {
	m = strings.ToLower(m)
	return strings.HasPrefix(m, "qwq") || strings.Contains(m, "-thinking") || strings.Contains(m, "deepseek-r1")
}

// Validate checks the parameters against the ranges the service accepts
// (../shared/dashscope-api-notes.md §1.2), so a typo fails before any
// request instead of on every row.
func (j Job) Validate() error {
	var problems []string
	switch j.Task {
	case "", TaskGenerate, TaskLabel, TaskExtract, TaskTranslate:
	default:
		problems = append(problems, fmt.Sprintf("task %q: use generate, label, extract or translate", j.Task))
	}
	switch {
	case (j.Task == TaskLabel || j.Task == TaskExtract) && j.Fields == nil:
		problems = append(problems, fmt.Sprintf("task %s needs fields: give `fields:` (e.g. label: [positive, negative]) or `schema:` in the job file", j.Task))
	case (j.Task == TaskGenerate || j.Task == TaskTranslate) && j.Fields != nil:
		problems = append(problems, fmt.Sprintf("task %s writes free text, but fields are given: use task: extract or label, or remove the fields", j.Task))
	case j.Task == TaskLabel && !j.Fields.hasEnum():
		problems = append(problems, "task label needs a field with a list of labels, e.g. label: [positive, negative, neutral]")
	}
	if j.Task == TaskTranslate {
		if j.Translate.To == "" {
			problems = append(problems, "task translate needs the target language: translate: {to: en} in the job file, or --to")
		}
		if len(j.Translate.Columns) == 0 {
			problems = append(problems, "task translate needs the columns to translate: translate: {columns: [名称, 描述]} in the job file, or --columns")
		}
		if j.Translate.Pack < 0 || j.Translate.Pack > 100 {
			problems = append(problems, fmt.Sprintf("translate pack %d: use 1 to 100", j.Translate.Pack))
		}
	} else if strings.TrimSpace(j.Prompt) == "" {
		problems = append(problems, "no prompt: give `prompt:` in the job file or --prompt")
	} else if j.Translate.To != "" || len(j.Translate.Columns) > 0 {
		problems = append(problems, "a translate: block needs task: translate")
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
		text := j.System + j.Prompt
		if j.Fields != nil {
			text += j.Fields.Instruction() // the Renderer appends it to the system prompt
		}
		if !strings.Contains(strings.ToLower(text), "json") {
			problems = append(problems, "response_format json_object needs the word \"json\" in the system prompt or the prompt (the service rejects the request otherwise)")
		}
	case "json_schema":
		if j.Fields == nil {
			problems = append(problems, "response_format json_schema needs the reply's fields: give `fields:` or `schema:` in the job file")
		}
	default:
		problems = append(problems, fmt.Sprintf("response_format %q: use text, json_object or json_schema (with fields)", j.ResponseFormat))
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
	r := model.Request{
		Model:          j.Model,
		Temperature:    j.Temperature,
		TopP:           j.TopP,
		MaxTokens:      j.MaxTokens,
		Seed:           j.Seed,
		Stop:           []string(j.Stop),
		EnableThinking: j.EnableThinking,
		ResponseFormat: j.ResponseFormat,
	}
	if j.ResponseFormat == "json_schema" && j.Fields != nil {
		r.JSONSchema = j.Fields.JSONSchema()
	}
	return r
}
