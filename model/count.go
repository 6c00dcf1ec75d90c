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
	tok, err := tokenizer.Qwen()
	if err != nil {
		return 0, false, err
	}
	msgs := make([]tokenizer.Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = tokenizer.Message{Role: m.Role, Content: m.Content}
	}
	thinking := req.EnableThinking != nil && *req.EnableThinking
	if req.EnableThinking == nil {
		thinking = thinksByDefault(req.Model)
	}
	count := tok.CountChat(tokenizer.TemplateFor(req.Model), tokenizer.WithDefaultSystem(msgs), thinking)
	return int64(count), tokenizer.ExactFor(req.Model), nil
}

// thinksByDefault is the service's default for enable_thinking when a
// request does not set it (../shared/dashscope-api-notes.md §1.2):
// commercial Qwen3 models off, thinking-only models on.
func thinksByDefault(model string) bool {
	m := strings.ToLower(model)
	return strings.HasPrefix(m, "qwq") || strings.Contains(m, "-thinking")
}
