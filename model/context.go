package model

import "strings"

// contextLimits are the largest input (prompt) token counts the service
// accepts per model, from ../shared/dashscope-api-notes.md §6 (taken
// 2026-11-28). Where sources differ the smaller figure is used, so that a
// row flagged as too long really risks the service's "Range of input length"
// error.
var contextLimits = map[string]int64{
	"qwen-max":     30_720,
	"qwen-plus":    129_024,
	"qwen-flash":   997_952,
	"qwen-turbo":   129_024,
	"qwen3-max":    258_048,
	"qwen3.5-plus": 991_808,
	"qwq-plus":     98_304,
	"qwen-long":    10_000_000,
}

// MaxInputTokens returns the model's input limit, or 0 when unknown.
// Dated snapshots and -latest fall back to their family.
func MaxInputTokens(model string) int64 {
	name := strings.ToLower(model)
	for {
		if n, ok := contextLimits[name]; ok {
			return n
		}
		base := snapshotSuffix.ReplaceAllString(name, "")
		if base == name {
			return 0
		}
		name = base
	}
}
