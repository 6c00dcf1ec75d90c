package model

import (
	"strings"

	"bulkgen/model/tokenizer"
)

// PromptTokens counts the input tokens the service bills for req: the
// messages in the model family's chat template, with the default system
// prompt the service adds when there is none. exact is false when the
// model does not use the Qwen1.5–Qwen3 vocabulary (Qwen3.5 and later,
// other vendors): the count is then this vocabulary's, an estimate.
func PromptTokens(req Request) (n int64, exact bool, err error) {
	c, err := NewPromptCounter(req.Model)
	if err != nil {
		return 0, false, err
	}
	return c.Count(req), c.Exact(), nil
}

// PromptCounter is PromptTokens for many requests to one model: the
// template and vocabulary are resolved once, not per row. It is safe for
// concurrent use.
type PromptCounter struct {
	model string
	tok   *tokenizer.Tokenizer
	tmpl  tokenizer.Template
	exact bool
	// thinks is the service's default for enable_thinking on this model.
	thinks bool
}

// NewPromptCounter returns a counter for requests to modelName.
func NewPromptCounter(modelName string) (*PromptCounter, error) {
	tok, err := tokenizer.Qwen()
	if err != nil {
		return nil, err
	}
	return &PromptCounter{model: modelName, tok: tok, tmpl: tokenizer.TemplateFor(modelName),
		exact: tokenizer.ExactFor(modelName), thinks: thinksByDefault(modelName)}, nil
}

// Exact reports whether counts are the service's own (see PromptTokens).
func (c *PromptCounter) Exact() bool { return c.exact }

// Count returns the billed input tokens of req. A request for another
// model than the counter's is counted with that model's template.
func (c *PromptCounter) Count(req Request) int64 {
	tmpl, thinks := c.tmpl, c.thinks
	if req.Model != c.model {
		tmpl, thinks = tokenizer.TemplateFor(req.Model), thinksByDefault(req.Model)
	}
	msgs := make([]tokenizer.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = tokenizer.Message{Role: m.Role, Content: m.Content}
	}
	thinking := thinks
	if req.EnableThinking != nil {
		thinking = *req.EnableThinking
	}
	return int64(c.tok.CountChat(tmpl, tokenizer.WithDefaultSystem(msgs), thinking))
}

// Segment and ShapedMessage describe requests whose message contents are
// templates: literal text and the values filled in per row (see
// tokenizer.Shape).
type (
	Segment       = tokenizer.Segment
	ShapedMessage = tokenizer.ShapedMessage
)

// Shape returns a counter for the requests made by filling msgs with
// values, sent with req's model and thinking setting (req's own messages
// are ignored). It gives Count's figures for the rendered requests without
// tokenising the fixed text on every row. ok is false for messages a shape
// cannot hold (roles other than system and user).
func (c *PromptCounter) Shape(req Request, msgs []ShapedMessage) (count func(values []string) int64, ok bool) {
	tmpl, thinking := c.tmpl, c.thinks
	if req.Model != c.model {
		tmpl, thinking = tokenizer.TemplateFor(req.Model), thinksByDefault(req.Model)
	}
	if req.EnableThinking != nil {
		thinking = *req.EnableThinking
	}
	hasSystem := false
	for _, m := range msgs {
		hasSystem = hasSystem || m.Role == "system"
	}
	if !hasSystem { // as WithDefaultSystem does for Count
		msgs = append([]ShapedMessage{{Role: "system", Segments: []Segment{{Text: tokenizer.DefaultSystemPrompt, Value: -1}}}}, msgs...)
	}
	s, ok := c.tok.NewShape(tmpl, msgs, thinking)
	if !ok {
		return nil, false
	}
	return func(values []string) int64 { return int64(s.Count(values)) }, true
}

// thinksByDefault is the service's default for enable_thinking when a
// request does not set it (../shared/dashscope-api-notes.md §1.2):
// commercial Qwen3 models off, thinking-only models on.
func thinksByDefault(model string) bool {
	m := strings.ToLower(model)
	return strings.HasPrefix(m, "qwq") || strings.Contains(m, "-thinking")
}
