package model

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// completion is the part of an OpenAI-style chat completion (a realtime
// answer or a Batch API output line's body) that bulkgen reads.
//
// It is decoded with encoding/json rather than into openai.ChatCompletion:
// the SDK's decoder walks every field of the type with its metadata by
// reflection, and at zero latency it cost as much CPU per row as reading,
// rendering and writing together (see BENCHMARKS.md). The request still
// goes through the SDK. Decoding is as lenient as the SDK's: a field of an
// unexpected type (a count sent as a string, content sent as an array) is
// read as empty instead of failing the whole answer.
type completion struct {
	ID      string   `json:"id"`
	Model   lenient  `json:"model"`
	Choices []choice `json:"choices"`
	Usage   struct {
		PromptTokens     count `json:"prompt_tokens"`
		CompletionTokens count `json:"completion_tokens"`
		TotalTokens      count `json:"total_tokens"`
		// Some DashScope models report cached tokens directly here.
		CachedTokens        count `json:"cached_tokens"`
		PromptTokensDetails struct {
			CachedTokens count `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
		CompletionTokensDetails struct {
			ReasoningTokens count `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	} `json:"usage"`
}

type choice struct {
	FinishReason lenient `json:"finish_reason"`
	Message      struct {
		Content lenient `json:"content"`
		// DashScope (and vLLM's reasoning parsers) name it
		// reasoning_content; some servers say reasoning.
		ReasoningContent lenient `json:"reasoning_content"`
		Reasoning        lenient `json:"reasoning"`
	} `json:"message"`
}

// decodeCompletion parses body; only a body that is not a JSON object fails.
func decodeCompletion(body []byte) (completion, error) {
	var c completion
	err := json.Unmarshal(body, &c)
	return c, err
}

// response is the first choice as a Response (without RequestID and
// Latency, which the caller knows).
func (c *completion) response() Response {
	ch := c.Choices[0]
	reasoning := string(ch.Message.ReasoningContent)
	if reasoning == "" {
		reasoning = string(ch.Message.Reasoning)
	}
	u := c.Usage
	usage := Usage{
		PromptTokens:     int64(u.PromptTokens),
		CompletionTokens: int64(u.CompletionTokens),
		TotalTokens:      int64(u.TotalTokens),
		ReasoningTokens:  int64(u.CompletionTokensDetails.ReasoningTokens),
		CachedTokens:     int64(u.PromptTokensDetails.CachedTokens),
	}
	if usage.CachedTokens == 0 {
		usage.CachedTokens = int64(u.CachedTokens)
	}
	if usage.TotalTokens == 0 {
		usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	}
	return Response{
		Content:          string(ch.Message.Content),
		ReasoningContent: reasoning,
		FinishReason:     string(ch.FinishReason),
		Usage:            usage,
		Model:            string(c.Model),
	}
}

// lenient is a JSON string; null or a value of another type reads as "".
type lenient string

func (s *lenient) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if json.Unmarshal(b, &v) == nil {
			*s = lenient(v)
		}
	}
	return nil
}

// count is a token count: a JSON number (an integral float too) or a
// numeric string; anything else reads as 0.
type count int64

func (n *count) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = count(v)
	} else if f, err := strconv.ParseFloat(string(b), 64); err == nil {
		*n = count(f)
	}
	return nil
}
