// Package model talks to chat-completion services.
//
// Client is the one interface the pipeline uses. Two implementations speak
// the two wire protocols of Alibaba Cloud Model Studio (DashScope): the
// OpenAI-compatible chat/completions endpoint (through the official
// openai-go SDK, which also serves vLLM, Ollama and OpenAI) and the native
// DashScope text-generation endpoint. Errors from both are classified the
// same way (see errors.go) so that the pipeline decides retries from one
// place.
package model

import (
	"context"
	"encoding/json"
	"time"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is a provider-neutral chat request. Optional parameters are
// pointers: nil means "not sent", so the service's own default applies.
type Request struct {
	Model          string    `json:"model"`
	Messages       []Message `json:"messages"`
	Temperature    *float64  `json:"temperature,omitempty"`
	TopP           *float64  `json:"top_p,omitempty"`
	MaxTokens      *int64    `json:"max_tokens,omitempty"`
	Seed           *int64    `json:"seed,omitempty"`
	Stop           []string  `json:"stop,omitempty"`
	EnableThinking *bool     `json:"enable_thinking,omitempty"`
	// ResponseFormat is "", "text", "json_object" or "json_schema".
	ResponseFormat string `json:"response_format,omitempty"`
	// JSONSchema is the schema of a "json_schema" reply (the object's
	// JSON Schema; it is sent strict, named "row").
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// Usage is the token accounting the service reports for one request.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
	// ReasoningTokens is the part of CompletionTokens spent thinking; 0
	// when the model did not think or the service did not say.
	ReasoningTokens int64 `json:"reasoning_tokens,omitempty"`
	// CachedTokens is the part of PromptTokens served from the context
	// cache.
	CachedTokens int64 `json:"cached_tokens,omitempty"`
}

// Response is the outcome of one successful request.
type Response struct {
	Content          string        `json:"content"`
	ReasoningContent string        `json:"reasoning_content,omitempty"`
	FinishReason     string        `json:"finish_reason"`
	Usage            Usage         `json:"usage"`
	RequestID        string        `json:"request_id,omitempty"`
	Model            string        `json:"model,omitempty"`
	Latency          time.Duration `json:"latency"`
	// Batch marks an answer that came through the Batch API, billed at
	// the batch price.
	Batch bool `json:"batch,omitempty"`
}

// Client sends one chat request and waits for its complete answer.
//
// Implementations must not retry on their own: a failed call returns an
// error that Classify understands, and the caller decides. They must be safe
// for concurrent use.
type Client interface {
	Complete(ctx context.Context, req Request) (Response, error)
}
