package modeltest

import (
	"unicode/utf8"

	"bulkgen/model/tokenizer"
)

// EstimateTokens is a deterministic stand-in for Qwen's tokenizer: one
// token per CJK character (Han, kana, Hangul, CJK and full-width
// punctuation) and one per four bytes of any other text, rounded up, so a
// non-empty string counts at least 1. It is within a small factor of the
// real count for ordinary prose and fast enough to run on every request.
func EstimateTokens(s string) int {
	cjk, other := 0, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			other++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isCJK(r) {
			cjk++
		} else {
			other += size
		}
		i += size
	}
	return cjk + (other+3)/4
}

// truncateTokens returns the longest prefix of s (cut at a rune boundary)
// whose estimate is at most max tokens, and whether it had to cut.
func truncateTokens(s string, max int) (string, bool) {
	if max <= 0 {
		return "", s != ""
	}
	cjk, other := 0, 0
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if isCJK(r) {
			cjk++
		} else {
			other += size
		}
		if cjk+(other+3)/4 > max {
			return s[:i], true
		}
		i += size
	}
	return s, false
}

func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x11FF: // Hangul Jamo
		return true
	case r >= 0x2E80 && r <= 0x9FFF: // radicals, CJK punctuation, kana, Bopomofo, ext. A, unified ideographs
		return true
	case r >= 0xAC00 && r <= 0xD7AF: // Hangul syllables
		return true
	case r >= 0xF900 && r <= 0xFAFF: // compatibility ideographs
		return true
	case r >= 0xFF00 && r <= 0xFFEF: // full-width forms
		return true
	case r >= 0x20000 && r <= 0x3FFFF: // ideograph extensions B and later
		return true
	}
	return false
}

// defaultSystemPrompt is what the service assumes when a request has no
// system message (notes §1.2); it is billed like a sent one.
const defaultSystemPrompt = "You are a helpful assistant."

// promptTokens counts the input tokens of a request as the service bills
// them: the messages in the model family's chat template (Qwen3's adds an
// empty think block when thinking is off), with the default system prompt
// when the request has none, counted with the real Qwen tokenizer. So the
// simulator's prompt_tokens are what `bulkgen estimate` must predict.
// Completion tokens stay on EstimateTokens, which also cuts replies at
// max_tokens, so that a reply never reports more than max_tokens.
func promptTokens(req *chatRequest) int {
	tok, err := tokenizer.Qwen()
	if err != nil {
		panic("modeltest: tokenizer data: " + err.Error()) // embedded: a build defect
	}
	msgs := make([]tokenizer.Message, len(req.messages))
	for i, m := range req.messages {
		msgs[i] = tokenizer.Message{Role: m.Role, Content: m.Content}
	}
	return tok.CountChat(tokenizer.TemplateFor(req.model), tokenizer.WithDefaultSystem(msgs), req.thinking)
}
