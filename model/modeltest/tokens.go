package modeltest

import "unicode/utf8"

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

// promptTokens counts a conversation the way ChatML frames it: every
// message is "<|im_start|>role\ncontent<|im_end|>\n" (three framing tokens
// plus role and content), and the prompt ends with the assistant header
// "<|im_start|>assistant\n" (three more).
func promptTokens(msgs []message) int {
	n := 3
	hasSystem := false
	for _, m := range msgs {
		if m.Role == "system" {
			hasSystem = true
		}
		n += EstimateTokens(m.Role) + EstimateTokens(m.Content) + 3
	}
	if !hasSystem {
		n += EstimateTokens("system") + EstimateTokens(defaultSystemPrompt) + 3
	}
	return n
}
