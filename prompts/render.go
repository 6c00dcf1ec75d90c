package prompts

import (
	"fmt"
	"strings"

	"bulkgen/model"
)

// Renderer turns rows into requests for one job and one input header.
// It is immutable after NewRenderer and safe for concurrent use.
type Renderer struct {
	job         Job
	user        *Bound
	system      *Bound // nil when the system prompt has no placeholders
	instruction string // the fields' JSON instruction, "" for free text
	fixedSystem string // the whole system prompt when it has no placeholders
	base        model.Request
}

// NewRenderer parses the job's templates and checks every column they use
// against header. It is the check that runs before any request is sent: a
// missing column is a *MissingColumnError naming it and listing the columns
// that exist.
//
// A job with fields gets their Instruction appended to its system prompt
// (after the row is filled in, so the instruction's braces are never read
// as placeholders). With an explicitly empty system prompt the instruction
// alone is sent as the system message: without it the reply would not
// follow the fields.
func NewRenderer(job Job, header []string, inputName string) (*Renderer, error) {
	if err := job.Validate(); err != nil {
		return nil, err
	}
	ut, err := ParseTemplate(job.Prompt)
	if err != nil {
		return nil, fmt.Errorf("prompt %w", err)
	}
	user, err := ut.Bind(header, inputName)
	if err != nil {
		return nil, err
	}
	r := &Renderer{job: job, user: user, base: job.requestTemplate()}
	if job.Fields != nil {
		r.instruction = job.Fields.Instruction()
	}
	r.fixedSystem = job.System
	if r.instruction != "" {
		r.fixedSystem = appendInstruction(job.System, r.instruction)
	}
	if job.System != "" {
		st, err := ParseTemplate(job.System)
		if err != nil {
			return nil, fmt.Errorf("system prompt %w", err)
		}
		if len(st.Columns()) > 0 {
			if r.system, err = st.Bind(header, inputName); err != nil {
				return nil, fmt.Errorf("system prompt: %w", err)
			}
		}
	}
	return r, nil
}

// Job returns the job the renderer was made for.
func (r *Renderer) Job() Job { return r.job }

// Render builds the request for one row. skip is true when every column
// the prompt uses is empty in this row: there is nothing to ask, and
// sending it would be paying for a reply to the bare template.
func (r *Renderer) Render(values []string) (req model.Request, skip bool) {
	if r.user.AllEmpty(values) {
		return model.Request{}, true
	}
	req = r.base
	system := r.fixedSystem
	if r.system != nil {
		system = r.system.Render(values)
		if r.instruction != "" {
			system = appendInstruction(system, r.instruction)
		}
	}
	if system != "" {
		req.Messages = []model.Message{{Role: "system", Content: system}, {Role: "user", Content: r.user.Render(values)}}
	} else {
		req.Messages = []model.Message{{Role: "user", Content: r.user.Render(values)}}
	}
	return req, false
}

// Skips reports whether Render skips the row (see Render).
func (r *Renderer) Skips(values []string) bool { return r.user.AllEmpty(values) }

// Shape returns the requests Render builds as templates: the request
// without its messages, and the messages as literal text and the columns
// filled in (for model.PromptCounter.Shape). ok is false when the system
// prompt has placeholders and either gets the fields' instruction too
// (joining them trims the rendered prompt) or has no literal text (a row
// with empty values then has no system message at all): a template
// cannot express either.
func (r *Renderer) Shape() (base model.Request, msgs []model.ShapedMessage, ok bool) {
	var system []model.Segment
	switch {
	case r.system != nil && (r.instruction != "" || r.system.fixed == 0):
		return model.Request{}, nil, false
	case r.system != nil:
		system = r.system.segments()
	case r.fixedSystem != "":
		system = []model.Segment{{Text: r.fixedSystem, Value: -1}}
	}
	if system != nil {
		msgs = append(msgs, model.ShapedMessage{Role: "system", Segments: system})
	}
	msgs = append(msgs, model.ShapedMessage{Role: "user", Segments: r.user.segments()})
	return r.base, msgs, true
}

// appendInstruction puts the fields' instruction after the job's own
// system prompt, separated by a blank line.
func appendInstruction(system, instruction string) string {
	system = strings.TrimRight(system, " \t\r\n")
	if system == "" {
		return instruction
	}
	return system + "\n\n" + instruction
}
