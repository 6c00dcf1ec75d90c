package model

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Tier is the price of one input-length band, per million tokens. The band
// is chosen by the input length of the request (the service's rule).
type Tier struct {
	// UpTo is the largest input (prompt) token count of the band; 0 means
	// no upper bound.
	UpTo int64 `yaml:"up_to" json:"up_to"`
	// Input, Output: per million tokens. OutputThinking is the output
	// price with thinking on (0: same as Output). CachedInput is the price
	// of input served from the context cache (0: CachedShare of Input).
	Input          float64 `yaml:"input" json:"input"`
	Output         float64 `yaml:"output" json:"output"`
	OutputThinking float64 `yaml:"output_thinking,omitempty" json:"output_thinking,omitempty"`
	CachedInput    float64 `yaml:"cached_input,omitempty" json:"cached_input,omitempty"`
}

// Price is one model's price list in one region.
type Price struct {
	Model    string `yaml:"model" json:"model"`
	Region   string `yaml:"region" json:"region"`     // "cn" (mainland, CNY) or "intl" (USD)
	Currency string `yaml:"currency" json:"currency"` // "CNY" or "USD"
	Tiers    []Tier `yaml:"tiers" json:"tiers"`
	// BatchShare is the Batch API price as a share of realtime (0.5).
	BatchShare float64 `yaml:"batch_share,omitempty" json:"batch_share,omitempty"`
	// CachedShare prices cached input as a share of Input when a tier has
	// no CachedInput.
	CachedShare float64 `yaml:"cached_share,omitempty" json:"cached_share,omitempty"`
	// Source and Date say where the figures came from; Note flags doubts.
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	Date   string `yaml:"date,omitempty" json:"date,omitempty"`
	Note   string `yaml:"note,omitempty" json:"note,omitempty"`
}

// tier returns the band for a request with prompt input tokens.
func (p Price) tier(prompt int64) Tier {
	for _, t := range p.Tiers {
		if t.UpTo == 0 || prompt <= t.UpTo {
			return t
		}
	}
	return p.Tiers[len(p.Tiers)-1]
}

// Cost is the price of one request's usage. thinking selects the thinking
// output price; batch applies the Batch API share.
func (p Price) Cost(u Usage, thinking, batch bool) float64 {
	t := p.tier(u.PromptTokens)
	out := t.Output
	if thinking && t.OutputThinking > 0 {
		out = t.OutputThinking
	}
	cached := t.CachedInput
	if cached == 0 {
		cached = t.Input * p.cachedShare()
	}
	fresh := u.PromptTokens - u.CachedTokens
	c := (float64(fresh)*t.Input + float64(u.CachedTokens)*cached + float64(u.CompletionTokens)*out) / 1e6
	if batch {
		c *= p.batchShare()
	}
	return c
}

func (p Price) batchShare() float64 {
	if p.BatchShare > 0 {
		return p.BatchShare
	}
	return 0.5
}

func (p Price) cachedShare() float64 {
	if p.CachedShare > 0 {
		return p.CachedShare
	}
	return 0.4
}

// Prices is a price table for one region.
type Prices struct {
	region string
	byName map[string]Price
	// without says why the built-in prices were left out ("" when they
	// are in), for Unknown.
	without string
}

// RegionCurrency maps a --region to the price list it bills in: mainland
// (cn) in CNY; Singapore, US and Hong Kong (international) in USD.
func RegionCurrency(region string) (priceRegion, currency string) {
	if region == "" || region == RegionBeijing {
		return "cn", "CNY"
	}
	return "intl", "USD"
}

// DefaultPrices returns the built-in table for a --region.
func DefaultPrices(region string) *Prices {
	pr, _ := RegionCurrency(region)
	t := &Prices{region: pr, byName: map[string]Price{}}
	for _, p := range builtinPrices {
		if p.Region == pr {
			t.byName[p.Model] = p
		}
	}
	return t
}

// LoadPrices reads a YAML file of prices that override or add to the
// table: a list of Price entries (model, region, currency, tiers...).
// Entries for another region are ignored.
func (t *Prices) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read prices: %w", err)
	}
	var doc struct {
		Prices []Price `yaml:"prices"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("prices file %s: %w (expected `prices:` with a list of {model, region, currency, tiers: [{up_to, input, output, ...}]})", path, err)
	}
	for i, p := range doc.Prices {
		if p.Model == "" || len(p.Tiers) == 0 {
			return fmt.Errorf("prices file %s: entry %d needs a model and at least one tier", path, i+1)
		}
		if p.Region == "" {
			p.Region = t.region
		}
		if p.Currency == "" {
			_, p.Currency = RegionCurrency(p.Region)
		}
		for j, tr := range p.Tiers {
			if tr.Input < 0 || tr.Output < 0 || (j < len(p.Tiers)-1 && tr.UpTo == 0) {
				return fmt.Errorf("prices file %s: %s tier %d: prices must be ≥ 0 and only the last tier may be unbounded", path, p.Model, j+1)
			}
		}
		if p.Source == "" {
			p.Source = path
		}
		if p.Region == t.region {
			t.byName[p.Model] = p
		}
	}
	return nil
}

// snapshotSuffix matches dated snapshots and -latest, which are priced as
// their model family here.
var snapshotSuffix = regexp.MustCompile(`-(latest|preview|\d{4}-\d{2}-\d{2}|\d{4})$`)

// Lookup finds the price of a model; a dated snapshot or -latest falls
// back to its family's price (as=the name priced). ok is false when there
// is none: cost stays unknown rather than guessed.
func (t *Prices) Lookup(model string) (p Price, as string, ok bool) {
	name := strings.ToLower(model)
	for {
		if p, ok := t.byName[name]; ok {
			return p, name, true
		}
		base := snapshotSuffix.ReplaceAllString(name, "")
		if base == name {
			return Price{}, "", false
		}
		name = base
	}
}

// All returns the table, sorted by model name.
func (t *Prices) All() []Price {
	out := make([]Price, 0, len(t.byName))
	for _, p := range t.byName {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out
}

// Region is "cn" or "intl".
func (t *Prices) Region() string { return t.region }

const (
	srcIntl   = "LiteLLM model_prices_and_context_window.json (dashscope/* block, snapshot with 2026-01 entries), via ../shared/dashscope-api-notes.md §6.1"
	srcCN     = "Model Studio billing pages and third-party parses of official cards (2025–26), via ../shared/dashscope-api-notes.md §6.2"
	dateNotes = "2026-11-28"
)

// builtinPrices are per million tokens, taken on dateNotes from the notes
// named in Source. Prices change: check the Model Studio console before a
// big run, and override with --prices FILE.
var builtinPrices = []Price{
	// International (Singapore), USD.
	{Model: "qwen-max", Region: "intl", Currency: "USD", Tiers: []Tier{{Input: 1.6, Output: 6.4}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen-plus", Region: "intl", Currency: "USD", Tiers: []Tier{
		{UpTo: 256000, Input: 0.4, Output: 1.2, OutputThinking: 4.0},
		{Input: 1.2, Output: 3.6, OutputThinking: 12.0}}, Source: srcIntl, Date: dateNotes,
		Note: "tiers of qwen-plus-latest; the flat qwen-plus entry (0.4/1.2) may be older"},
	{Model: "qwen-flash", Region: "intl", Currency: "USD", Tiers: []Tier{
		{UpTo: 256000, Input: 0.05, Output: 0.4}, {Input: 0.25, Output: 2.0}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen-turbo", Region: "intl", Currency: "USD", Tiers: []Tier{{Input: 0.05, Output: 0.2, OutputThinking: 0.5}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen3-max", Region: "intl", Currency: "USD", Tiers: []Tier{
		{UpTo: 32000, Input: 1.2, Output: 6}, {UpTo: 128000, Input: 2.4, Output: 12}, {Input: 3, Output: 15}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen3.5-plus", Region: "intl", Currency: "USD", Tiers: []Tier{
		{UpTo: 256000, Input: 0.4, Output: 2.4}, {Input: 0.5, Output: 3}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwq-plus", Region: "intl", Currency: "USD", Tiers: []Tier{{Input: 0.8, Output: 2.4}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen3-next-80b-a3b-instruct", Region: "intl", Currency: "USD", Tiers: []Tier{{Input: 0.15, Output: 1.2}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen3-next-80b-a3b-thinking", Region: "intl", Currency: "USD", Tiers: []Tier{{Input: 0.15, Output: 1.2, OutputThinking: 1.2}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen3-coder-plus", Region: "intl", Currency: "USD", Tiers: []Tier{
		{UpTo: 32000, Input: 1, Output: 5}, {UpTo: 128000, Input: 1.8, Output: 9}, {UpTo: 256000, Input: 3, Output: 15}, {Input: 6, Output: 60}}, Source: srcIntl, Date: dateNotes},
	{Model: "qwen3-coder-flash", Region: "intl", Currency: "USD", Tiers: []Tier{
		{UpTo: 32000, Input: 0.3, Output: 1.5}, {UpTo: 128000, Input: 0.5, Output: 2.5}, {UpTo: 256000, Input: 0.8, Output: 4}, {Input: 1.6, Output: 9.6}}, Source: srcIntl, Date: dateNotes},

	// Mainland (Beijing), CNY.
	{Model: "qwen-plus", Region: "cn", Currency: "CNY", Tiers: []Tier{
		{UpTo: 128000, Input: 0.8, Output: 2, OutputThinking: 8, CachedInput: 0.2},
		{UpTo: 256000, Input: 2.4, Output: 20, OutputThinking: 24, CachedInput: 0.5},
		{Input: 4.8, Output: 48, OutputThinking: 64, CachedInput: 1.0}}, Source: srcCN, Date: dateNotes},
	{Model: "qwen-flash", Region: "cn", Currency: "CNY", Tiers: []Tier{
		{UpTo: 128000, Input: 0.15, Output: 1.5, OutputThinking: 1.5, CachedInput: 0.03},
		{UpTo: 256000, Input: 0.6, Output: 6, OutputThinking: 6, CachedInput: 0.12},
		{Input: 1.2, Output: 12, OutputThinking: 12, CachedInput: 0.24}}, Source: srcCN, Date: dateNotes,
		Note: "one source gives input 0.2 for the first tier"},
	{Model: "qwen-turbo", Region: "cn", Currency: "CNY", Tiers: []Tier{{Input: 0.3, Output: 0.6, OutputThinking: 3, CachedInput: 0.1}},
		Source: srcCN, Date: dateNotes, Note: "output prices are commonly quoted, not confirmed (uncertain)"},
	{Model: "qwen3-max", Region: "cn", Currency: "CNY", Tiers: []Tier{
		{UpTo: 32000, Input: 2.5, Output: 10, CachedInput: 0.5},
		{UpTo: 128000, Input: 4, Output: 16, CachedInput: 0.8},
		{Input: 7, Output: 28, CachedInput: 1.4}}, Source: srcCN, Date: dateNotes},
	{Model: "qwen-long", Region: "cn", Currency: "CNY", Tiers: []Tier{{Input: 0.5, Output: 2}}, Source: srcCN, Date: dateNotes,
		Note: "commonly quoted price, not confirmed (uncertain)"},
	{Model: "qwen3-235b-a22b", Region: "cn", Currency: "CNY", Tiers: []Tier{{Input: 2, Output: 8}}, Source: srcCN, Date: dateNotes,
		Note: "thinking output price not captured"},
	{Model: "qwen3-32b", Region: "cn", Currency: "CNY", Tiers: []Tier{{Input: 2, Output: 8, OutputThinking: 20}}, Source: srcCN, Date: dateNotes},
	{Model: "qwen3-30b-a3b-instruct-2507", Region: "cn", Currency: "CNY", Tiers: []Tier{{Input: 0.8, Output: 3}}, Source: srcCN, Date: dateNotes},
	{Model: "qwen3-30b-a3b-thinking-2507", Region: "cn", Currency: "CNY", Tiers: []Tier{{Input: 0.8, Output: 3, OutputThinking: 7.5}}, Source: srcCN, Date: dateNotes},
}

// NoPrices is an empty table, for services whose prices bulkgen does not
// know (a local vLLM, OpenAI): only a --prices file fills it. why says
// what the service is, for the message about an unpriced model, e.g.
// "--base-url is not a Model Studio (DashScope) endpoint".
func NoPrices(region, why string) *Prices {
	pr, _ := RegionCurrency(region)
	return &Prices{region: pr, byName: map[string]Price{}, without: why}
}

// Unknown says why model has no price: not in this region's table, or no
// built-in table for the service at all.
func (t *Prices) Unknown(model string) string {
	if t.without != "" {
		return fmt.Sprintf("no price known for model %q: %s, so the built-in prices do not apply", model, t.without)
	}
	return fmt.Sprintf("no price known for model %q in the %s table", model, t.region)
}
