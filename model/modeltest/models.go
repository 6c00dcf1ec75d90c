package modeltest

import "strings"

type thinkingMode int

const (
	thinkingOff       thinkingMode = iota // hybrid model, thinking off unless asked
	thinkingDefaultOn                     // hybrid model, thinking on unless enable_thinking:false
	thinkingAlways                        // thinking-only model; enable_thinking is ignored
)

// modelInfo is what the simulator needs to know about a model.
type modelInfo struct {
	maxInput  int // tokens; a longer prompt is a 400
	maxOutput int // tokens; the upper bound of max_tokens
	thinking  thinkingMode
}

// knownModels holds the limits of the common models, from notes §6. A
// dated snapshot ("qwen-plus-2025-07-28") uses the entry of its longest
// listed prefix; a model that matches nothing gets generousModel, so that
// the simulator never refuses a prompt the real service would take.
var knownModels = map[string]modelInfo{
	"qwen-plus":        {129024, 16384, thinkingOff},
	"qwen-plus-latest": {997952, 32768, thinkingOff},
	"qwen-max":         {30720, 8192, thinkingOff},
	"qwen-flash":       {997952, 32768, thinkingOff},
	"qwen-turbo":       {129024, 16384, thinkingOff},
	"qwen-long":        {10000000, 8192, thinkingOff},
	"qwen3-max":        {258048, 65536, thinkingOff},
	"qwen3.5-plus":     {991808, 65536, thinkingDefaultOn},
	"qwen3.5-flash":    {991808, 65536, thinkingDefaultOn},
	"qwq-plus":         {98304, 8192, thinkingAlways},
	"qwen3-coder-plus": {997952, 65536, thinkingOff},
	"deepseek-v3":      {65536, 8192, thinkingOff},
	"deepseek-r1":      {65536, 8192, thinkingAlways},
}

var generousModel = modelInfo{997952, 65536, thinkingOff}

// openQwen3 is the limit of the open-weight Qwen3 models served on the
// platform ("qwen3-32b", "qwen3-235b-a22b"), which think by default.
var openQwen3 = modelInfo{131072, 16384, thinkingDefaultOn}

func lookupModel(model string) modelInfo {
	info, best := generousModel, ""
	for name, mi := range knownModels {
		if len(name) > len(best) && (model == name || strings.HasPrefix(model, name+"-")) {
			info, best = mi, name
		}
	}
	if best == "" && isOpenQwen3(model) {
		info = openQwen3
	}
	switch {
	case strings.Contains(model, "-thinking"), strings.HasPrefix(model, "qwq"):
		info.thinking = thinkingAlways
	case strings.Contains(model, "-instruct"):
		info.thinking = thinkingOff
	case best == "" && (strings.HasPrefix(model, "qwen3.5") || strings.HasPrefix(model, "qwen3.6") || strings.HasPrefix(model, "qwen3.7")):
		info.thinking = thinkingDefaultOn
	}
	return info
}

// isOpenQwen3 matches "qwen3-<size>b..." such as qwen3-32b or qwen3-235b-a22b.
func isOpenQwen3(model string) bool {
	rest, ok := strings.CutPrefix(model, "qwen3-")
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
		i++
	}
	return i > 0 && i < len(rest) && rest[i] == 'b'
}

// modelSet decides which model names exist.
type modelSet map[string]bool

func newModelSet(names []string) modelSet {
	if len(names) == 0 {
		return nil
	}
	s := make(modelSet, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}

// accepts applies Options.Models, or by default takes every Qwen, QwQ,
// QVQ and DeepSeek name: the platform's line-up changes too often for a
// closed list, and tests of model_not_found use an obviously wrong name.
func (s modelSet) accepts(model string) bool {
	if s != nil {
		return s[model]
	}
	for _, p := range []string{"qwen", "qwq", "qvq", "deepseek-"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}
