package model

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Config selects a protocol and configures its client; New builds it. It
// is the union of OpenAIConfig and DashScopeConfig, so that the CLI needs
// no switch over providers.
type Config struct {
	// API is APIOpenAI ("openai", the default when empty) or APIDashScope
	// ("dashscope").
	API string
	// BaseURL is the API root; empty means the Beijing endpoint of API
	// (see DefaultBaseURL).
	BaseURL string
	// APIKey is sent as a bearer token. The native protocol requires one.
	APIKey string
	// HTTPClient sends the requests; nil uses a client with a pooled
	// transport.
	HTTPClient *http.Client
	// Timeout bounds one request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Stream makes every request a stream (thinking requests always are).
	Stream bool
	// Headers are added to every request.
	Headers map[string]string
}

// New returns the client for cfg.API.
func New(cfg Config) (Client, error) {
	switch strings.ToLower(strings.TrimSpace(cfg.API)) {
	case "", APIOpenAI:
		c, err := NewOpenAI(OpenAIConfig{
			BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, HTTPClient: cfg.HTTPClient,
			Timeout: cfg.Timeout, Stream: cfg.Stream, Headers: cfg.Headers,
		})
		if err != nil {
			// Not c: a nil *OpenAIClient in a Client is not a nil Client.
			return nil, err
		}
		return c, nil
	case APIDashScope:
		c, err := NewDashScope(DashScopeConfig{
			BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, HTTPClient: cfg.HTTPClient,
			Timeout: cfg.Timeout, Stream: cfg.Stream, Headers: cfg.Headers,
		})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown api %q: use openai (OpenAI-compatible) or dashscope (native)", cfg.API)
}
