package model

import (
	"fmt"
	"net/url"
	"strings"
)

// API names accepted by DefaultBaseURL.
const (
	// APIOpenAI is the OpenAI-compatible protocol (compatible-mode/v1).
	APIOpenAI = "openai"
	// APIDashScope is the native DashScope protocol (api/v1).
	APIDashScope = "dashscope"
)

// Region names accepted by DefaultBaseURL. API keys are per region.
const (
	RegionBeijing   = "cn"
	RegionSingapore = "intl"
	RegionUS        = "us"
	RegionHongKong  = "hk"
)

// regionHosts are the public Model Studio hosts, from
// /work/shared/dashscope-api-notes.md §1.1 and §2.1.
var regionHosts = map[string]string{
	RegionBeijing:   "dashscope.aliyuncs.com",
	RegionSingapore: "dashscope-intl.aliyuncs.com",
	RegionUS:        "dashscope-us.aliyuncs.com",
	RegionHongKong:  "cn-hongkong.dashscope.aliyuncs.com",
}

// DefaultBaseURL returns the base URL of api ("openai" or "dashscope") in
// region ("cn", the default when empty, "intl", "us" or "hk"). The clients
// append their own paths: chat/completions for OpenAIClient,
// services/aigc/text-generation/generation for DashScopeClient.
func DefaultBaseURL(api, region string) (string, error) {
	r := strings.ToLower(strings.TrimSpace(region))
	if r == "" {
		r = RegionBeijing
	}
	host, ok := regionHosts[r]
	if !ok {
		return "", fmt.Errorf("unknown region %q: use cn (Beijing), intl (Singapore), us (Virginia) or hk (Hong Kong)", region)
	}
	switch strings.ToLower(strings.TrimSpace(api)) {
	case APIOpenAI:
		return "https://" + host + "/compatible-mode/v1", nil
	case APIDashScope:
		return "https://" + host + "/api/v1", nil
	}
	return "", fmt.Errorf("unknown api %q: use openai (OpenAI-compatible) or dashscope (native)", api)
}

// IsDashScopeURL reports whether u points at Alibaba Cloud Model Studio
// (any *.aliyuncs.com host, including the workspace-specific maas hosts),
// so that the CLI knows to read DASHSCOPE_API_KEY rather than
// OPENAI_API_KEY. A URL without a scheme is read as https.
func IsDashScopeURL(u string) bool {
	u = strings.TrimSpace(u)
	if u == "" {
		return false
	}
	if !strings.Contains(u, "://") {
		u = "https://" + u
	}
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(p.Hostname()), ".")
	return host == "aliyuncs.com" || strings.HasSuffix(host, ".aliyuncs.com")
}

// checkBaseURL rejects base URLs that could never work, at construction
// time rather than on every row.
func checkBaseURL(base string) (*url.URL, error) {
	p, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", base, err)
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return nil, fmt.Errorf("base URL %q: scheme must be http or https", base)
	}
	if p.Host == "" {
		return nil, fmt.Errorf("base URL %q: no host", base)
	}
	return p, nil
}
