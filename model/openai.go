package model

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
)

// OpenAIConfig configures an OpenAIClient.
type OpenAIConfig struct {
	// BaseURL is the API root, e.g.
	// https://dashscope.aliyuncs.com/compatible-mode/v1 (the default when
	// empty) or http://localhost:8000/v1 for vLLM.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends none (local servers).
	APIKey string
	// HTTPClient sends the requests; nil uses a client with a pooled
	// transport.
	HTTPClient *http.Client
	// Timeout bounds one request from sending to the last byte of the
	// answer; 0 means DefaultTimeout.
	Timeout time.Duration
	// Stream makes every request a stream; requests with thinking on are
	// always streamed, because DashScope rejects non-stream thinking calls
	// for several models.
	Stream bool
	// Headers are added to every request (e.g. X-DashScope-WorkSpace).
	Headers map[string]string
}

// OpenAIClient speaks the OpenAI chat/completions protocol through the
// official openai-go SDK, with the SDK's own retries off: errors are
// classified by Classify and the caller decides. It is safe for concurrent
// use.
type OpenAIClient struct {
	svc     openai.ChatCompletionService
	key     string
	timeout time.Duration
	stream  bool
	conns   *connTimer // nil with a caller's own HTTP client
}

var _ Client = (*OpenAIClient)(nil)

// NewOpenAI checks cfg and returns a client.
func NewOpenAI(cfg OpenAIConfig) (*OpenAIClient, error) {
	base := cfg.BaseURL
	if base == "" {
		base, _ = DefaultBaseURL(APIOpenAI, RegionBeijing)
	}
	if _, err := checkBaseURL(base); err != nil {
		return nil, fmt.Errorf("openai client: %w", err)
	}
	timeout, err := resolveTimeout(cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("openai client: %w", err)
	}
	var conns *connTimer
	if cfg.HTTPClient == nil {
		conns = newConnTimer()
		cfg.HTTPClient = defaultHTTPClient(conns)
	}
	opts := sdkOptions(base, cfg)
	// NewChatCompletionService, unlike openai.NewClient, does not read
	// OPENAI_* environment variables, so an OPENAI_ORG_ID meant for
	// OpenAI never leaks into requests to DashScope.
	return &OpenAIClient{
		svc:     openai.NewChatCompletionService(opts...),
		key:     cfg.APIKey,
		timeout: timeout,
		stream:  cfg.Stream,
		conns:   conns,
	}, nil
}

// RoundTripHint implements RoundTripHinter.
func (c *OpenAIClient) RoundTripHint() time.Duration { return c.conns.RoundTripHint() }

// Complete sends req and waits for the whole answer.
func (c *OpenAIClient) Complete(ctx context.Context, req Request) (Response, error) {
	if err := checkRequest(req); err != nil {
		return Response{}, err
	}
	params := openAIParams(req)
	cl := newCall(ctx, c.timeout, c.key)
	defer cl.cancel()
	if c.stream || thinking(req) {
		return c.completeStream(cl, req, params)
	}
	return c.completeOnce(cl, req, params)
}

// openAIParams maps a Request onto the SDK's parameters.
func openAIParams(req Request) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: shared.ChatModel(req.Model)}
	for _, m := range req.Messages {
		switch m.Role {
		case "system":
			p.Messages = append(p.Messages, openai.SystemMessage(m.Content))
		case "user":
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		case "assistant":
			p.Messages = append(p.Messages, openai.AssistantMessage(m.Content))
		}
	}
	if req.Temperature != nil {
		p.Temperature = openai.Float(*req.Temperature)
	}
	if req.TopP != nil {
		p.TopP = openai.Float(*req.TopP)
	}
	if req.MaxTokens != nil {
		p.MaxTokens = openai.Int(*req.MaxTokens)
	}
	if req.Seed != nil {
		p.Seed = openai.Int(*req.Seed)
	}
	switch len(req.Stop) {
	case 0:
	case 1:
		p.Stop = openai.ChatCompletionNewParamsStopUnion{OfString: openai.String(req.Stop[0])}
	default:
		p.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: req.Stop}
	}
	switch req.ResponseFormat {
	case "json_object":
		p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	case "text":
		p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfText: &shared.ResponseFormatTextParam{}}
	case "json_schema":
		var schema map[string]any
		_ = json.Unmarshal(req.JSONSchema, &schema) // checked by checkRequest's caller (prompts builds it)
		p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "row", Strict: openai.Bool(true), Schema: schema},
		}}
	}
	if req.EnableThinking != nil {
		// Not an OpenAI field: DashScope (and vLLM's Qwen template) read it
		// at the top level of the body.
		p.SetExtraFields(map[string]any{"enable_thinking": *req.EnableThinking})
	}
	return p
}

func (c *OpenAIClient) completeOnce(cl *call, req Request, params openai.ChatCompletionNewParams) (Response, error) {
	var (
		httpResp *http.Response
		raw      []byte
	)
	// The body is taken as bytes and decoded here: the SDK refuses bodies
	// without a JSON Content-Type, and the raw body is needed anyway for
	// reasoning_content and for error objects inside a 200.
	_, err := c.svc.New(cl.rctx, params, option.WithResponseInto(&httpResp), option.WithResponseBodyInto(&raw))
	if err != nil {
		return Response{}, c.callError(cl, httpResp, err)
	}
	requestID := headerRequestID(httpResp)
	raw = trimBOM(raw)
	cc, err := decodeCompletion(raw)
	if err != nil {
		return Response{}, cl.badBody(http.StatusOK, requestID, fmt.Errorf("decode chat completion: %w", err))
	}
	if len(cc.Choices) == 0 {
		return Response{}, c.emptyAnswer(cl, httpResp, raw, requestID)
	}
	resp := cc.response()
	resp.RequestID, resp.Latency = requestID, time.Since(cl.start)
	if resp.RequestID == "" {
		resp.RequestID = strings.TrimPrefix(cc.ID, "chatcmpl-")
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	return resp, nil
}

// emptyAnswer explains a 200 without choices: some gateways answer errors
// with 200 and an error object.
func (c *OpenAIClient) emptyAnswer(cl *call, httpResp *http.Response, raw []byte, requestID string) error {
	f := parseErrorBody(raw)
	if f.code != "" || f.message != "" {
		var h http.Header
		if httpResp != nil {
			h = httpResp.Header
		}
		e := httpError(http.StatusOK, h, raw, c.key)
		if e.RequestID == "" {
			e.RequestID = requestID
		}
		return e
	}
	return &APIError{Status: http.StatusOK, Class: Retryable, Message: "answer has no choices", RequestID: requestID}
}

func (c *OpenAIClient) completeStream(cl *call, req Request, params openai.ChatCompletionNewParams) (Response, error) {
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	var httpResp *http.Response
	stream := c.svc.NewStreaming(cl.rctx, params, option.WithResponseInto(&httpResp))
	defer stream.Close()
	if err := stream.Err(); err != nil {
		return Response{}, c.callError(cl, httpResp, err)
	}
	var (
		content, reasoning strings.Builder
		resp               = Response{RequestID: headerRequestID(httpResp)}
		chunkID            string
	)
	for stream.Next() {
		chunk := stream.Current()
		if chunk.ID != "" {
			chunkID = chunk.ID
		}
		if chunk.Model != "" {
			resp.Model = chunk.Model
		}
		if chunk.JSON.Usage.Valid() {
			resp.Usage = openAIUsage(chunk.Usage)
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			content.WriteString(ch.Delta.Content)
			reasoning.WriteString(reasoningText(ch.Delta.JSON.ExtraFields))
			if ch.FinishReason != "" {
				resp.FinishReason = ch.FinishReason
			}
		}
	}
	if resp.RequestID == "" {
		resp.RequestID = strings.TrimPrefix(chunkID, "chatcmpl-")
	}
	if err := stream.Err(); err != nil {
		return Response{}, c.streamError(cl, httpResp, resp.RequestID, err)
	}
	if resp.FinishReason == "" {
		// The SDK ends quietly when the body ends, [DONE] or not; a stream
		// without its last choice chunk was cut short.
		return Response{}, &APIError{
			Status:    http.StatusOK,
			Class:     Retryable,
			Message:   "stream ended before the answer was complete (no finish_reason)",
			RequestID: resp.RequestID,
		}
	}
	resp.Content = content.String()
	resp.ReasoningContent = reasoning.String()
	if resp.Model == "" {
		resp.Model = req.Model
	}
	resp.Latency = time.Since(cl.start)
	return resp, nil
}

// callError turns a failed SDK call into our error. An HTTP error answer is
// read from the response itself rather than from *openai.Error, because the
// SDK only understands {"error":{...}} bodies, while gateways also send
// native {"code","message"} bodies and plain text.
func (c *OpenAIClient) callError(cl *call, httpResp *http.Response, err error) error {
	if ctxErr := cl.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("model request: %w", ctxErr)
	}
	status := 0
	if httpResp != nil {
		status = httpResp.StatusCode
	}
	var oe *openai.Error
	if errors.As(err, &oe) {
		status = oe.StatusCode
		if oe.Response != nil {
			httpResp = oe.Response
		}
	}
	if status < 400 || httpResp == nil {
		return cl.transportError(err)
	}
	var body []byte
	if httpResp.Body != nil {
		// The SDK leaves the error body readable on the response; if its
		// own read failed, this read fails too and the status decides.
		body, _ = io.ReadAll(io.LimitReader(httpResp.Body, errorBodyLimit))
	}
	if len(body) == 0 && oe != nil {
		body = []byte(`{"error":` + oe.RawJSON() + `}`)
	}
	return httpError(status, httpResp.Header, body, c.key)
}

// streamError turns an error that ended the stream into our error: an
// error frame (data: {"error":{...}}) inside a 200 stream, or a transport
// failure mid-stream.
func (c *OpenAIClient) streamError(cl *call, httpResp *http.Response, requestID string, err error) error {
	if ctxErr := cl.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("model request: %w", ctxErr)
	}
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		var h http.Header
		if httpResp != nil {
			h = httpResp.Header
		}
		e := httpError(http.StatusOK, h, bytes.TrimSpace(se.Event.Data), c.key)
		if e.RequestID == "" {
			e.RequestID = requestID
		}
		return e
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return cl.badBody(http.StatusOK, requestID, fmt.Errorf("decode stream chunk: %w", err))
	}
	return cl.transportError(err)
}

// reasoningText reads the thinking text, which the SDK does not model:
// DashScope and vLLM call it reasoning_content, some servers reasoning.
func reasoningText(extra map[string]respjson.Field) string {
	for _, name := range []string{"reasoning_content", "reasoning"} {
		if f, ok := extra[name]; ok {
			if s := rawString(json.RawMessage(f.Raw())); s != "" {
				return s
			}
		}
	}
	return ""
}

func openAIUsage(u openai.CompletionUsage) Usage {
	out := Usage{
		PromptTokens:     u.PromptTokens,
		CompletionTokens: u.CompletionTokens,
		TotalTokens:      u.TotalTokens,
		ReasoningTokens:  u.CompletionTokensDetails.ReasoningTokens,
		CachedTokens:     u.PromptTokensDetails.CachedTokens,
	}
	if out.CachedTokens == 0 {
		// Some DashScope models report it directly under usage.
		if f, ok := u.JSON.ExtraFields["cached_tokens"]; ok {
			var n int64
			if json.Unmarshal([]byte(f.Raw()), &n) == nil {
				out.CachedTokens = n
			}
		}
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	return out
}

func headerRequestID(r *http.Response) string {
	if r == nil {
		return ""
	}
	return r.Header.Get("X-Request-Id")
}

// sdkOptions are the openai-go options every client of ours uses.
func sdkOptions(base string, cfg OpenAIConfig) []option.RequestOption {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient(nil)
	}
	opts := []option.RequestOption{
		option.WithBaseURL(base),
		option.WithHTTPClient(hc),
		// Retries belong to the caller, which classifies errors by
		// DashScope's codes; the SDK would also retry 429 billing states.
		option.WithMaxRetries(0),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	for k, v := range cfg.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	return opts
}
