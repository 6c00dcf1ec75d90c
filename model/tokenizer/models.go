package tokenizer

import (
	"regexp"
	"strings"
)

// Model names are matched after lower-casing and dropping a "provider/"
// prefix (as in "dashscope/qwen-plus").
func baseModel(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	return m
}

// newVocab matches the Qwen generations from 3.5 on ("qwen3.5-plus",
// "qwen3.6-flash", "qwen4-…"), which use a different, ~248K-token
// vocabulary.
var newVocab = regexp.MustCompile(`^qwen(3\.[5-9]|3\.\d\d|[4-9])`)

// ExactFor reports whether model is known to use the vocabulary of this
// package (Qwen1.5 through Qwen3), so that Count and CountChat are exact
// for it, up to the framing caveats of CountChat. For Qwen3.5 and later
// and for other vendors' models (deepseek-*, kimi-*, glm-*, …) the counts
// are an estimate of unknown accuracy, not what the service bills.
func ExactFor(model string) bool {
	m := baseModel(model)
	if newVocab.MatchString(m) {
		return false
	}
	return strings.HasPrefix(m, "qwen") || strings.HasPrefix(m, "qwq")
}

// dated matches the snapshot date at the end of a model name, either
// YYYY-MM-DD ("qwen-plus-2025-01-25") or the older MMDD of 2024
// ("qwen-plus-0919").
var dated = regexp.MustCompile(`-(20\d\d-\d\d-\d\d|\d{4})$`)

// qwen3Since is the first snapshot of qwen-plus and qwen-turbo built on
// Qwen3 (hybrid thinking); earlier snapshots are Qwen2.5.
const qwen3Since = "2025-04-28"

// TemplateFor returns the chat template family of a model. The choices,
// by family:
//
//   - qwen-plus, qwen-turbo, qwen-flash (and -latest): Qwen3 hybrid models
//     (DashScope says Plus and Flash are Qwen3-based; the qwen-plus
//     example in its docs bills 26 tokens, which only the Qwen3 template
//     gives). Dated snapshots before 2025-04-28 ("qwen-plus-2025-01-25",
//     "qwen-turbo-1101") are Qwen2.5: TemplateQwen25.
//   - qwen-max (any suffix): Qwen2.5-Max, TemplateQwen25 (the 22-token
//     example of the API reference). qwen3-max is Qwen3: TemplateQwen3.
//   - qwen-long, qwen2*, qwen1.5*, qwen-vl*: TemplateQwen25.
//   - open Qwen3 models "qwen3-…-instruct-2507" are instruct-only, with
//     plain ChatML: TemplateQwen25. Other qwen3-* (hybrid, and
//     "-thinking-2507", whose template also opens "<think>\n" — 2 tokens
//     not counted) and qwq-* (thinking-only: pass thinking=true):
//     TemplateQwen3.
//   - anything else, including Qwen3.5+ and non-Qwen names: TemplateQwen3
//     (use ExactFor to tell whether the count is exact at all).
func TemplateFor(model string) Template {
	m := baseModel(model)
	switch {
	case strings.Contains(m, "instruct-2507"):
		return TemplateQwen25
	case strings.HasPrefix(m, "qwen-max"),
		strings.HasPrefix(m, "qwen-long"),
		strings.HasPrefix(m, "qwen-vl"),
		strings.HasPrefix(m, "qwen2"),
		strings.HasPrefix(m, "qwen1.5"):
		return TemplateQwen25
	case strings.HasPrefix(m, "qwen-plus"), strings.HasPrefix(m, "qwen-turbo"):
		if d := dated.FindStringSubmatch(m); d != nil {
			date := d[1]
			if len(date) == 4 { // MMDD, the 2024 naming scheme
				date = "2024-" + date[:2] + "-" + date[2:]
			}
			if date < qwen3Since {
				return TemplateQwen25
			}
		}
	}
	return TemplateQwen3
}
