package modeltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
)

// message is one chat message with its content flattened to text.
type message struct {
	Role    string
	Content string
}

// chatRequest is a request of either protocol after parsing and
// validation; everything the reply depends on is here.
type chatRequest struct {
	model       string
	info        modelInfo
	messages    []message
	temperature *float64
	topP        *float64
	// maxTokens caps the answer (not the reasoning); 0 means the model's
	// maximum output.
	maxTokens int
	seed      *int64
	n         int
	stop      []string
	thinking  bool
	// thinkingBudget caps the reasoning; 0 means no cap.
	thinkingBudget int
	// jsonMode is response_format json_object (or json_schema).
	jsonMode bool
	// schema is the object schema of a json_schema request.
	schema json.RawMessage

	stream       bool
	includeUsage bool // compatible stream: stream_options.include_usage
	incremental  bool // native stream: incremental_output
	textFormat   bool // native: result_format "text"
}

// rawMessage is a message as sent; content may be a string, an array of
// content parts or null.
type rawMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// commonParams are the generation knobs both protocols share. Integers are
// decoded as float64 so that 1.5 or 1e12 gets a range error naming the
// field instead of a type error.
type commonParams struct {
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	MaxTokens           *float64        `json:"max_tokens"`
	MaxCompletionTokens *float64        `json:"max_completion_tokens"`
	N                   *float64        `json:"n"`
	Seed                *float64        `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	ResponseFormat      json.RawMessage `json:"response_format"`
	EnableThinking      *bool           `json:"enable_thinking"`
	ThinkingBudget      *float64        `json:"thinking_budget"`
}

// compatRequest is the body of POST /compatible-mode/v1/chat/completions.
// Unknown fields (top_k, enable_search, ...) are accepted and ignored, as
// the service does with extras it does not act on.
type compatRequest struct {
	Model         string       `json:"model"`
	Messages      []rawMessage `json:"messages"`
	Stream        bool         `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	commonParams
}

// nativeRequest is the body of POST
// /api/v1/services/aigc/text-generation/generation.
type nativeRequest struct {
	Model string `json:"model"`
	Input *struct {
		// Messages is a pointer so that an empty array can be told from
		// a missing one: the service rejects "messages": [].
		Messages *[]rawMessage `json:"messages"`
		Prompt   *string       `json:"prompt"`
	} `json:"input"`
	Parameters struct {
		ResultFormat      string `json:"result_format"`
		IncrementalOutput *bool  `json:"incremental_output"`
		commonParams
	} `json:"parameters"`
}

// msgEmptyContent is the service's own wording (recorded
// parameter-error-nosse).
const msgEmptyContent = "Role must be user or assistant and Content length must be greater than 0"

func parseCompat(body []byte, models modelSet) (*chatRequest, *apiError) {
	var cr compatRequest
	if err := json.Unmarshal(body, &cr); err != nil {
		return nil, bodyError(err)
	}
	req := &chatRequest{stream: cr.Stream}
	if cr.StreamOptions != nil {
		req.includeUsage = cr.StreamOptions.IncludeUsage
	}
	if e := setModel(req, cr.Model, models); e != nil {
		return nil, e
	}
	if len(cr.Messages) == 0 {
		return nil, errInvalidParameter(msgEmptyContent)
	}
	if e := setMessages(req, cr.Messages); e != nil {
		return nil, e
	}
	if e := setParams(req, &cr.commonParams); e != nil {
		return nil, e
	}
	return req, checkPrompt(req)
}

// isNativeStream reports whether a native request asks for SSE. Over raw
// HTTP the service decides by header, not by a body field.
func isNativeStream(h http.Header) bool {
	return strings.EqualFold(h.Get("X-DashScope-SSE"), "enable") ||
		strings.Contains(h.Get("Accept"), "text/event-stream")
}

func parseNative(body []byte, models modelSet) (*chatRequest, *apiError) {
	var nr nativeRequest
	if err := json.Unmarshal(body, &nr); err != nil {
		return nil, bodyError(err)
	}
	req := &chatRequest{}
	if e := setModel(req, nr.Model, models); e != nil {
		return nil, e
	}
	p := &nr.Parameters
	switch {
	case nr.Input == nil || (nr.Input.Messages == nil && nr.Input.Prompt == nil):
		e := errInvalidParameter(`Required parameter "input" missing from request.`)
		e.code = "BadRequest.EmptyInput"
		return nil, e
	case nr.Input.Messages != nil:
		if len(*nr.Input.Messages) == 0 {
			return nil, errInvalidParameter(msgEmptyContent)
		}
		if e := setMessages(req, *nr.Input.Messages); e != nil {
			return nil, e
		}
	default:
		if *nr.Input.Prompt == "" {
			return nil, errInvalidParameter(msgEmptyContent)
		}
		req.messages = []message{{Role: "user", Content: *nr.Input.Prompt}}
	}
	switch p.ResultFormat {
	case "message":
	case "text":
		req.textFormat = true
	case "":
		// The service's default is "text" for most models and "message"
		// for Qwen-Long and the models that think (notes §2.2).
		req.textFormat = req.info.thinking == thinkingOff && !strings.HasPrefix(req.model, "qwen-long")
	default:
		return nil, errInvalidParameter(`Value of result_format must be "text" or "message", got %q.`, p.ResultFormat)
	}
	req.incremental = p.IncrementalOutput != nil && *p.IncrementalOutput
	if e := setParams(req, &p.commonParams); e != nil {
		return nil, e
	}
	if req.thinking {
		// Thinking answers only come as messages; the service refuses
		// "text", the simulator quietly upgrades.
		req.textFormat = false
	}
	if req.textFormat {
		req.n = 1 // output.text has room for one answer only
	}
	return req, checkPrompt(req)
}

// bodyError explains a body that did not decode.
func bodyError(err error) *apiError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// Field is a path of JSON names, except that embedded structs
		// show up by their Go name.
		field := strings.ReplaceAll(te.Field, "commonParams.", "")
		return errInvalidParameter("Field %q has the wrong type: got JSON %s, want %s.", field, te.Value, te.Type)
	}
	return errInvalidParameter("The request body is not valid JSON: %v", err)
}

func setModel(req *chatRequest, model string, models modelSet) *apiError {
	if model == "" {
		e := errInvalidParameter(`Required parameter "model" missing from request.`)
		e.code = "BadRequest.EmptyModel"
		return e
	}
	if !models.accepts(model) {
		return errModelNotFound(model)
	}
	req.model = model
	req.info = lookupModel(model)
	return nil
}

var validRoles = map[string]bool{"system": true, "user": true, "assistant": true, "tool": true}

func setMessages(req *chatRequest, raw []rawMessage) *apiError {
	req.messages = make([]message, len(raw))
	for i, rm := range raw {
		if !validRoles[rm.Role] {
			return errInvalidParameter("Role of messages[%d] must be one of system, user, assistant or tool, got %q.", i, rm.Role)
		}
		text, ok := contentText(rm.Content)
		if !ok {
			return errInvalidParameter("Content of messages[%d] must be a string or an array of content parts.", i)
		}
		if rm.Role == "user" && text == "" {
			return errInvalidParameter(msgEmptyContent)
		}
		req.messages[i] = message{Role: rm.Role, Content: text}
	}
	return nil
}

// contentText flattens a message content: a string as is, an array of
// parts as the concatenation of its text parts, null as "".
func contentText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", false
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Type == "text" || p.Type == "" {
				b.WriteString(p.Text)
			}
		}
		return b.String(), true
	}
	return "", false
}

func setParams(req *chatRequest, p *commonParams) *apiError {
	if t := p.Temperature; t != nil {
		if *t < 0 || *t >= 2 || math.IsNaN(*t) {
			return errInvalidParameter("Range of temperature should be [0.0, 2.0)")
		}
		req.temperature = t
	}
	if t := p.TopP; t != nil {
		if *t <= 0 || *t > 1 || math.IsNaN(*t) {
			return errInvalidParameter("Range of top_p should be (0.0, 1.0]")
		}
		req.topP = t
	}
	maxTok := p.MaxTokens
	if maxTok == nil {
		maxTok = p.MaxCompletionTokens
	}
	if maxTok != nil {
		if !isInt(*maxTok) || *maxTok < 1 || *maxTok > float64(req.info.maxOutput) {
			return errInvalidParameter("Range of max_tokens should be [1, %d]", req.info.maxOutput)
		}
		req.maxTokens = int(*maxTok)
	}
	req.n = 1
	if p.N != nil {
		if !isInt(*p.N) || *p.N < 1 || *p.N > 4 {
			return errInvalidParameter("Range of n should be [1, 4]")
		}
		req.n = int(*p.N)
	}
	if p.Seed != nil {
		if !isInt(*p.Seed) || *p.Seed < 0 || *p.Seed > math.MaxInt32 {
			return errInvalidParameter("Range of seed should be [0, 2147483647]")
		}
		s := int64(*p.Seed)
		req.seed = &s
	}
	stop, ok := parseStop(p.Stop)
	if !ok {
		return errInvalidParameter("stop must be a string, an array of strings or an array of token id arrays.")
	}
	req.stop = stop
	switch format, ok := parseResponseFormat(p.ResponseFormat); {
	case !ok:
		return errInvalidParameter("Unknown format of response_format, response_format should be a dict with a 'type' of 'text', 'json_object' or 'json_schema'.")
	case format == "json_object" || format == "json_schema":
		req.jsonMode = true
		if format == "json_schema" {
			req.schema = responseSchema(p.ResponseFormat)
		}
	}
	switch req.info.thinking {
	case thinkingAlways:
		req.thinking = true
	case thinkingDefaultOn:
		req.thinking = p.EnableThinking == nil || *p.EnableThinking
	default:
		req.thinking = p.EnableThinking != nil && *p.EnableThinking
	}
	if b := p.ThinkingBudget; b != nil {
		if !isInt(*b) || *b < 1 || *b > float64(req.info.maxOutput) {
			return errInvalidParameter("Range of thinking_budget should be [1, %d]", req.info.maxOutput)
		}
		req.thinkingBudget = int(*b)
	}
	return nil
}

func isInt(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }

// parseStop accepts a string, an array of strings, or arrays of token ids
// (native; ignored because the simulator has no token ids).
func parseStop(raw json.RawMessage) ([]string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, true
		}
		return []string{one}, true
	}
	var many []json.RawMessage
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, false
	}
	var out []string
	for _, m := range many {
		var s string
		if err := json.Unmarshal(m, &s); err == nil {
			if s != "" {
				out = append(out, s)
			}
			continue
		}
		var ids []int64
		if err := json.Unmarshal(m, &ids); err != nil {
			return nil, false
		}
	}
	return out, true
}

// parseResponseFormat returns the type of {"type": ...}; a bare string is
// tolerated.
func parseResponseFormat(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var t string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &t); err != nil {
			return "", false
		}
	} else {
		var obj struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", false
		}
		t = obj.Type
	}
	switch t {
	case "text", "json_object", "json_schema":
		return t, true
	}
	return "", false
}

// msgJSONWord is the service's wording for json_object without the word
// "json" in the prompt (notes §1.5), with the inner code it is often
// wrapped in.
const msgJSONWord = "<400> InternalError.Algo.InvalidParameter: 'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."

// checkPrompt applies the rules that look at the whole prompt: the json
// keyword rule and the model's input length.
func checkPrompt(req *chatRequest) *apiError {
	if req.jsonMode {
		found := false
		for _, m := range req.messages {
			if (m.Role == "system" || m.Role == "user") && containsFold(m.Content, "json") {
				found = true
				break
			}
		}
		if !found {
			return errInvalidParameter(msgJSONWord)
		}
	}
	if n := promptTokens(req); n > req.info.maxInput {
		return errInvalidParameter("Range of input length should be [1, %d]", req.info.maxInput)
	}
	return nil
}

// containsFold reports whether s contains the ASCII word w in any case,
// without allocating a lowered copy of a possibly long prompt.
func containsFold(s, w string) bool {
	n := len(w)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], w) {
			return true
		}
	}
	return false
}
