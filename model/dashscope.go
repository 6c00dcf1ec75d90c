package model

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// DashScopeConfig configures a DashScopeClient.
type DashScopeConfig struct {
	// BaseURL is the API root; empty means https://dashscope.aliyuncs.com/api/v1
	// (Beijing). See DefaultBaseURL for the other regions.
	BaseURL string
	// APIKey is the DashScope API key, sent as a bearer token. Required.
	APIKey string
	// HTTPClient sends the requests; nil uses a client with a pooled
	// transport.
	HTTPClient *http.Client
	// Timeout bounds one request from sending to the last byte of the
	// answer; 0 means DefaultTimeout.
	Timeout time.Duration
	// Stream makes every request a stream; requests with thinking on are
	// always streamed, because thinking mode requires incremental output.
	Stream bool
	// Headers are added to every request (e.g. X-DashScope-WorkSpace,
	// X-DashScope-DataInspection). They override the client's own.
	Headers map[string]string
}

// DashScopeClient speaks the native DashScope text-generation protocol
// (POST {base}/services/aigc/text-generation/generation). It never retries;
// errors are classified by Classify. It is safe for concurrent use.
type DashScopeClient struct {
	url     string
	key     string
	hc      *http.Client
	conns   *connTimer // nil with a caller's own HTTP client
	timeout time.Duration
	stream  bool
	headers http.Header
}

var _ Client = (*DashScopeClient)(nil)

// RoundTripHint implements RoundTripHinter.
func (c *DashScopeClient) RoundTripHint() time.Duration { return c.conns.RoundTripHint() }

// generationPath is appended to the base URL.
const generationPath = "/services/aigc/text-generation/generation"

// NewDashScope checks cfg and returns a client.
func NewDashScope(cfg DashScopeConfig) (*DashScopeClient, error) {
	base := cfg.BaseURL
	if base == "" {
		base, _ = DefaultBaseURL(APIDashScope, RegionBeijing)
	}
	if _, err := checkBaseURL(base); err != nil {
		return nil, fmt.Errorf("dashscope client: %w", err)
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("dashscope client: no API key; set DASHSCOPE_API_KEY")
	}
	timeout, err := resolveTimeout(cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("dashscope client: %w", err)
	}
	hc := cfg.HTTPClient
	var conns *connTimer
	if hc == nil {
		conns = newConnTimer()
		hc = defaultHTTPClient(conns)
	}
	h := make(http.Header, len(cfg.Headers))
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	return &DashScopeClient{
		url:     strings.TrimSuffix(base, "/") + generationPath,
		key:     cfg.APIKey,
		hc:      hc,
		conns:   conns,
		timeout: timeout,
		stream:  cfg.Stream,
		headers: h,
	}, nil
}

// nativeRequest is the body of a generation call.
type nativeRequest struct {
	Model      string           `json:"model"`
	Input      nativeInput      `json:"input"`
	Parameters nativeParameters `json:"parameters"`
}

type nativeInput struct {
	Messages []Message `json:"messages"`
}

type nativeParameters struct {
	// ResultFormat is always "message": the older "text" default has no
	// place for reasoning_content, and thinking mode requires "message".
	ResultFormat      string          `json:"result_format"`
	IncrementalOutput bool            `json:"incremental_output,omitempty"`
	Temperature       *float64        `json:"temperature,omitempty"`
	TopP              *float64        `json:"top_p,omitempty"`
	MaxTokens         *int64          `json:"max_tokens,omitempty"`
	Seed              *int64          `json:"seed,omitempty"`
	Stop              any             `json:"stop,omitempty"`
	EnableThinking    *bool           `json:"enable_thinking,omitempty"`
	ResponseFormat    *responseFormat `json:"response_format,omitempty"`
}

type responseFormat struct {
	Type       string            `json:"type"`
	JSONSchema *jsonSchemaFormat `json:"json_schema,omitempty"`
}

type jsonSchemaFormat struct {
	Name   string          `json:"name"`
	Strict bool            `json:"strict"`
	Schema json.RawMessage `json:"schema"`
}

// nativeBody is a non-stream answer or one stream frame. Errors use the
// same envelope with code and message set.
type nativeBody struct {
	RequestID string        `json:"request_id"`
	Code      string        `json:"code"`
	Message   string        `json:"message"`
	Output    *nativeOutput `json:"output"`
	Usage     nativeUsage   `json:"usage"`
}

type nativeOutput struct {
	// Text and FinishReason are the result_format=text shape.
	Text         *string        `json:"text"`
	FinishReason *string        `json:"finish_reason"`
	ModelName    string         `json:"model_name"`
	Choices      []nativeChoice `json:"choices"`
}

type nativeChoice struct {
	Index        int     `json:"index"`
	FinishReason *string `json:"finish_reason"`
	Message      struct {
		// Content is a string, or for some models an array of parts.
		Content          json.RawMessage `json:"content"`
		ReasoningContent *string         `json:"reasoning_content"`
	} `json:"message"`
}

type nativeUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	TotalTokens  int64 `json:"total_tokens"`
	// CachedTokens is where qwen-doc-turbo reports the cache hit.
	CachedTokens        int64 `json:"cached_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

func (u nativeUsage) empty() bool {
	return u.InputTokens == 0 && u.OutputTokens == 0 && u.TotalTokens == 0
}

func (u nativeUsage) usage() Usage {
	out := Usage{
		PromptTokens:     u.InputTokens,
		CompletionTokens: u.OutputTokens,
		TotalTokens:      u.TotalTokens,
		ReasoningTokens:  u.OutputTokensDetails.ReasoningTokens,
		CachedTokens:     u.PromptTokensDetails.CachedTokens,
	}
	if out.CachedTokens == 0 {
		out.CachedTokens = u.CachedTokens
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	return out
}

// choice picks the first choice's text, thinking and finish reason, or the
// result_format=text fields when there are no choices.
func (o *nativeOutput) choice() (content, reasoning, finish string) {
	if o == nil {
		return "", "", ""
	}
	if len(o.Choices) > 0 {
		ch := o.Choices[0]
		for _, c := range o.Choices {
			if c.Index == 0 {
				ch = c
				break
			}
		}
		content = contentText(ch.Message.Content)
		if ch.Message.ReasoningContent != nil {
			reasoning = *ch.Message.ReasoningContent
		}
		if ch.FinishReason != nil {
			finish = *ch.FinishReason
		}
	} else if o.Text != nil {
		content = *o.Text
	}
	if finish == "" && o.FinishReason != nil {
		finish = *o.FinishReason
	}
	// Streams mark unfinished frames with the string "null".
	if finish == "null" {
		finish = ""
	}
	return content, reasoning, finish
}

// contentText reads message content given as a string or as parts
// [{"text": "..."}].
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

// Complete sends req and waits for the whole answer.
func (c *DashScopeClient) Complete(ctx context.Context, req Request) (Response, error) {
	if err := checkRequest(req); err != nil {
		return Response{}, err
	}
	stream := c.stream || thinking(req)
	body, err := json.Marshal(nativeBodyFor(req, stream))
	if err != nil {
		return Response{}, &APIError{Class: RowFinal, Message: "encode request: " + err.Error(), Err: err}
	}
	cl := newCall(ctx, c.timeout, c.key)
	defer cl.cancel()
	hreq, err := http.NewRequestWithContext(cl.rctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return Response{}, &APIError{Class: Fatal, Message: "build request: " + err.Error(), Err: err, Hint: hintURL}
	}
	hreq.Header.Set("Authorization", "Bearer "+c.key)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("User-Agent", "bulkgen")
	if stream {
		hreq.Header.Set("Accept", "text/event-stream")
		hreq.Header.Set("X-DashScope-SSE", "enable")
	} else {
		hreq.Header.Set("Accept", "application/json")
	}
	for k, v := range c.headers {
		hreq.Header[k] = v
	}
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		return Response{}, cl.transportError(err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		b, rerr := io.ReadAll(io.LimitReader(hresp.Body, errorBodyLimit))
		if rerr != nil && cl.ctx.Err() != nil {
			return Response{}, cl.transportError(rerr)
		}
		return Response{}, httpError(hresp.StatusCode, hresp.Header, b, c.key)
	}
	// A stream request is read as SSE unless the server says JSON (some
	// recorded streams carry no Content-Type); a non-stream request gets
	// SSE now and then too (an error frame, recorded in parameter-error-sse).
	ct := hresp.Header.Get("Content-Type")
	if isEventStream(ct) || stream && !isJSON(ct) {
		return c.readStream(cl, req, hresp, stream)
	}
	return c.readBody(cl, req, hresp)
}

func nativeBodyFor(req Request, stream bool) nativeRequest {
	r := nativeRequest{
		Model: req.Model,
		Input: nativeInput{Messages: req.Messages},
		Parameters: nativeParameters{
			ResultFormat: "message",
			// Deltas rather than the whole text so far: thinking mode
			// requires it, and it keeps each frame small.
			IncrementalOutput: stream,
			Temperature:       req.Temperature,
			TopP:              req.TopP,
			MaxTokens:         req.MaxTokens,
			Seed:              req.Seed,
			Stop:              stopValue(req.Stop),
			EnableThinking:    req.EnableThinking,
		},
	}
	if req.ResponseFormat != "" {
		r.Parameters.ResponseFormat = &responseFormat{Type: req.ResponseFormat}
		if req.ResponseFormat == "json_schema" {
			r.Parameters.ResponseFormat.JSONSchema = &jsonSchemaFormat{Name: "row", Strict: true, Schema: req.JSONSchema}
		}
	}
	return r
}

// readBody decodes a non-stream answer. A stream request is answered this
// way too when the server replies with JSON instead of events.
func (c *DashScopeClient) readBody(cl *call, req Request, hresp *http.Response) (Response, error) {
	headerID := hresp.Header.Get("X-Request-Id")
	raw, err := io.ReadAll(hresp.Body)
	if err != nil {
		return Response{}, cl.transportError(err)
	}
	var nb nativeBody
	if err := json.Unmarshal(trimBOM(raw), &nb); err != nil {
		return Response{}, cl.badBody(hresp.StatusCode, headerID, fmt.Errorf("decode generation answer: %w", err))
	}
	if nb.Output == nil {
		return Response{}, c.noOutput(hresp, raw, nb, headerID)
	}
	content, reasoning, finish := nb.Output.choice()
	resp := Response{
		Content:          content,
		ReasoningContent: reasoning,
		FinishReason:     finish,
		Usage:            nb.Usage.usage(),
		RequestID:        firstNonEmpty(nb.RequestID, headerID),
		Model:            firstNonEmpty(nb.Output.ModelName, req.Model),
		Latency:          time.Since(cl.start),
	}
	return resp, nil
}

// noOutput explains a 2xx answer without output: an error envelope, or
// something unexpected that a retry may fix.
func (c *DashScopeClient) noOutput(hresp *http.Response, raw []byte, nb nativeBody, headerID string) error {
	if nb.Code != "" {
		e := httpError(hresp.StatusCode, hresp.Header, raw, c.key)
		e.RequestID = firstNonEmpty(e.RequestID, headerID)
		return e
	}
	return &APIError{
		Status:    hresp.StatusCode,
		Class:     Retryable,
		Message:   "answer has no output",
		RequestID: firstNonEmpty(nb.RequestID, headerID),
	}
}

// readStream reads an SSE answer. Every frame carries the usage so far and,
// when incremental output was asked for, a delta of the text, otherwise the
// whole text so far. The stream has no [DONE]; it ends after the frame
// whose finish_reason is not "null".
func (c *DashScopeClient) readStream(cl *call, req Request, hresp *http.Response, incremental bool) (Response, error) {
	var (
		content, reasoning strings.Builder
		usage              nativeUsage
		finish, requestID  string
		modelName          string
		sse                = newSSEReader(hresp.Body)
	)
	headerID := hresp.Header.Get("X-Request-Id")
	for {
		ev, err := sse.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Response{}, cl.transportError(err)
		}
		if ev.Event == "error" || ev.Status >= 400 {
			// A failure after the 200 header: the status is only in the
			// frame's HTTP_STATUS comment.
			e := httpError(ev.Status, hresp.Header, ev.Data, c.key)
			e.RequestID = firstNonEmpty(e.RequestID, requestID, headerID)
			return Response{}, e
		}
		var nb nativeBody
		if err := json.Unmarshal(ev.Data, &nb); err != nil {
			return Response{}, cl.badBody(hresp.StatusCode, firstNonEmpty(requestID, headerID), fmt.Errorf("decode stream frame id %q: %w", ev.ID, err))
		}
		requestID = firstNonEmpty(nb.RequestID, requestID)
		if nb.Output == nil {
			if nb.Code != "" {
				e := httpError(firstNonZero(ev.Status, hresp.StatusCode), hresp.Header, ev.Data, c.key)
				e.RequestID = firstNonEmpty(e.RequestID, requestID, headerID)
				return Response{}, e
			}
			continue
		}
		delta, thought, fr := nb.Output.choice()
		if !incremental {
			// Each frame holds the whole text so far; keep the latest
			// non-empty one.
			if delta != "" {
				content.Reset()
			}
			if thought != "" {
				reasoning.Reset()
			}
		}
		content.WriteString(delta)
		reasoning.WriteString(thought)
		if fr != "" {
			finish = fr
		}
		if nb.Output.ModelName != "" {
			modelName = nb.Output.ModelName
		}
		// Usage is cumulative on every frame; a frame may carry "usage": {}.
		if !nb.Usage.empty() {
			usage = nb.Usage
		}
	}
	requestID = firstNonEmpty(requestID, headerID)
	if finish == "" {
		return Response{}, &APIError{
			Status:    hresp.StatusCode,
			Class:     Retryable,
			Message:   "stream ended before the answer was complete (no final finish_reason)",
			RequestID: requestID,
		}
	}
	return Response{
		Content:          content.String(),
		ReasoningContent: reasoning.String(),
		FinishReason:     finish,
		Usage:            usage.usage(),
		RequestID:        requestID,
		Model:            firstNonEmpty(modelName, req.Model),
		Latency:          time.Since(cl.start),
	}, nil
}

func isEventStream(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/event-stream"
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstNonZero(n ...int) int {
	for _, v := range n {
		if v != 0 {
			return v
		}
	}
	return 0
}
