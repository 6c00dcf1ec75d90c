package modeltest

import (
	"net"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// answer sends the successful reply, whole or as a stream.
func (x *exchange) answer(req *chatRequest, rep *reply, delay time.Duration) {
	if req.stream {
		x.writeStream(x.frames(req, rep), delay, FaultNone, rep)
		return
	}
	x.wait(delay)
	body := x.body(req, rep)
	x.writeBodyHeader(len(body))
	if _, err := x.w.Write(body); err != nil {
		return
	}
	x.h.recordOK(rep)
}

// broken starts the successful reply and breaks the connection half way:
// FaultReset with a TCP RST, FaultTruncated with a normal close short of
// the declared length (or of the end of the chunked stream).
func (x *exchange) broken(req *chatRequest, rep *reply, delay time.Duration, f Fault) {
	if req.stream {
		x.writeStream(x.frames(req, rep), delay, f, rep)
		return
	}
	x.wait(delay)
	body := x.body(req, rep)
	x.writeBodyHeader(len(body))
	if _, err := x.w.Write(body[:len(body)/2]); err != nil {
		return
	}
	x.cut(f)
}

func (x *exchange) writeBodyHeader(n int) {
	x.setHeaders(contentJSON)
	if x.native {
		x.w.Header().Set("X-Dashscope-Finished", "true")
	}
	x.w.Header().Set("Content-Length", strconv.Itoa(n))
	x.w.WriteHeader(http.StatusOK)
	x.h.record(http.StatusOK)
}

// cut sends what was written so far, takes the connection over from
// net/http and closes it; for FaultReset with SO_LINGER 0, so that
// the kernel sends RST instead of FIN.
func (x *exchange) cut(f Fault) {
	rc := http.NewResponseController(x.w)
	// Hijack drops what is still buffered in the ResponseWriter.
	if err := rc.Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && f == FaultReset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeStream sends SSE frames, spreading delay over them. With a fault it
// stops after half of them and breaks the connection.
func (x *exchange) writeStream(frames [][]byte, delay time.Duration, f Fault, rep *reply) {
	x.setHeaders(contentSSE)
	x.w.Header().Set("Cache-Control", "no-cache")
	if x.native {
		x.w.Header().Set("X-Dashscope-Finished", "false")
	}
	x.w.WriteHeader(http.StatusOK)
	x.h.record(http.StatusOK)
	rc := http.NewResponseController(x.w)
	if err := rc.Flush(); err != nil {
		return
	}
	per := delay / time.Duration(len(frames))
	n := len(frames)
	if f != FaultNone {
		n = max(n/2, 1)
	}
	for _, fr := range frames[:n] {
		x.wait(per)
		if _, err := x.w.Write(fr); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
	if f != FaultNone {
		x.cut(f)
		return
	}
	x.h.recordOK(rep)
}

func (x *exchange) body(req *chatRequest, rep *reply) []byte {
	if x.native {
		return marshal(nativeBody(req, rep, x.id))
	}
	return marshal(compatBody(req, rep, x.id, x.start.Unix()))
}

func (x *exchange) frames(req *chatRequest, rep *reply) [][]byte {
	if x.native {
		return nativeFrames(req, rep, x.id)
	}
	return compatFrames(req, rep, x.id, x.start.Unix())
}

// pieces splits s into at most maxPieces consecutive parts of about the
// same number of runes and returns the byte offsets where each part ends.
// A stream sends one part per frame, like a model emitting tokens.
func pieces(s string, maxPieces int) []int {
	if s == "" {
		return nil
	}
	runes := utf8.RuneCountInString(s)
	per := (runes + maxPieces - 1) / maxPieces
	var ends []int
	count := 0
	for i := range s {
		if count > 0 && count%per == 0 {
			ends = append(ends, i)
		}
		count++
	}
	return append(ends, len(s))
}

const streamPieces = 6

// ---- OpenAI-compatible shapes (notes §1.3, §1.4) ----

type compatMessage struct {
	Role             string  `json:"role"`
	Content          string  `json:"content"`
	ReasoningContent *string `json:"reasoning_content,omitempty"`
}

type compatDelta struct {
	Role             string  `json:"role,omitempty"`
	Content          *string `json:"content"`
	ReasoningContent *string `json:"reasoning_content,omitempty"`
}

type compatChoice struct {
	Index        int            `json:"index"`
	Message      *compatMessage `json:"message,omitempty"`
	Delta        *compatDelta   `json:"delta,omitempty"`
	FinishReason *string        `json:"finish_reason"`
	Logprobs     *struct{}      `json:"logprobs"`
}

type cachedDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

type reasoningDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

type compatUsage struct {
	PromptTokens            int               `json:"prompt_tokens"`
	CompletionTokens        int               `json:"completion_tokens"`
	TotalTokens             int               `json:"total_tokens"`
	PromptTokensDetails     *cachedDetails    `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *reasoningDetails `json:"completion_tokens_details,omitempty"`
}

// compatCompletion is a chat.completion or chat.completion.chunk, with the
// keys in the order the service writes them.
type compatCompletion struct {
	Choices           []compatChoice `json:"choices"`
	Object            string         `json:"object"`
	Usage             *compatUsage   `json:"usage"`
	Created           int64          `json:"created"`
	SystemFingerprint *string        `json:"system_fingerprint"`
	Model             string         `json:"model"`
	ID                string         `json:"id"`
	ServiceTier       *string        `json:"service_tier"`
}

func compatUsageOf(req *chatRequest, rep *reply) *compatUsage {
	u := &compatUsage{
		PromptTokens:        rep.promptTokens,
		CompletionTokens:    rep.completionTokens,
		TotalTokens:         rep.totalTokens(),
		PromptTokensDetails: &cachedDetails{},
	}
	if req.thinking {
		u.CompletionTokensDetails = &reasoningDetails{ReasoningTokens: rep.reasoningTokens}
	}
	return u
}

func compatBody(req *chatRequest, rep *reply, id string, created int64) compatCompletion {
	out := compatCompletion{
		Choices: make([]compatChoice, len(rep.choices)),
		Object:  "chat.completion",
		Usage:   compatUsageOf(req, rep),
		Created: created,
		Model:   req.model,
		ID:      "chatcmpl-" + id,
	}
	for i, c := range rep.choices {
		m := &compatMessage{Role: "assistant", Content: c.content}
		if req.thinking {
			m.ReasoningContent = &c.reasoning
		}
		out.Choices[i] = compatChoice{Index: i, Message: m, FinishReason: &c.finish}
	}
	return out
}

func compatFrames(req *chatRequest, rep *reply, id string, created int64) [][]byte {
	chunk := func(choices []compatChoice, u *compatUsage) []byte {
		c := compatCompletion{Choices: choices, Object: "chat.completion.chunk", Usage: u,
			Created: created, Model: req.model, ID: "chatcmpl-" + id}
		return append(append([]byte("data: "), marshal(c)...), '\n', '\n')
	}
	delta := func(i int, d *compatDelta, finish *string) []byte {
		return chunk([]compatChoice{{Index: i, Delta: d, FinishReason: finish}}, nil)
	}
	var frames [][]byte
	empty := ""
	for i, c := range rep.choices {
		frames = append(frames, delta(i, &compatDelta{Role: "assistant", Content: &empty}, nil))
		from := 0
		for _, end := range pieces(c.reasoning, streamPieces) {
			p := c.reasoning[from:end]
			from = end
			frames = append(frames, delta(i, &compatDelta{ReasoningContent: &p}, nil))
		}
		from = 0
		for _, end := range pieces(c.content, streamPieces) {
			p := c.content[from:end]
			from = end
			frames = append(frames, delta(i, &compatDelta{Content: &p}, nil))
		}
		finish := c.finish
		frames = append(frames, delta(i, &compatDelta{Content: &empty}, &finish))
	}
	if req.includeUsage {
		frames = append(frames, chunk([]compatChoice{}, compatUsageOf(req, rep)))
	}
	return append(frames, []byte("data: [DONE]\n\n"))
}

// ---- native DashScope shapes (notes §2.3, recorded single-generation-*) ----

type nativeMessage struct {
	Content          string  `json:"content"`
	ReasoningContent *string `json:"reasoning_content,omitempty"`
	Role             string  `json:"role"`
}

type nativeChoice struct {
	FinishReason string        `json:"finish_reason"`
	Index        *int          `json:"index,omitempty"`
	Message      nativeMessage `json:"message"`
}

type nativeOutput struct {
	Choices      []nativeChoice `json:"choices,omitempty"`
	FinishReason string         `json:"finish_reason,omitempty"`
	Text         *string        `json:"text,omitempty"`
}

type nativeUsage struct {
	InputTokens         int               `json:"input_tokens"`
	OutputTokens        int               `json:"output_tokens"`
	TotalTokens         int               `json:"total_tokens"`
	OutputTokensDetails *reasoningDetails `json:"output_tokens_details,omitempty"`
	PromptTokensDetails *cachedDetails    `json:"prompt_tokens_details,omitempty"`
}

type nativeResponse struct {
	Output    nativeOutput `json:"output"`
	Usage     nativeUsage  `json:"usage"`
	RequestID string       `json:"request_id"`
}

func nativeUsageOf(req *chatRequest, prompt, output, reasoning int) nativeUsage {
	u := nativeUsage{InputTokens: prompt, OutputTokens: output, TotalTokens: prompt + output,
		PromptTokensDetails: &cachedDetails{}}
	if req.thinking {
		u.OutputTokensDetails = &reasoningDetails{ReasoningTokens: reasoning}
	}
	return u
}

// nativeChoiceOf builds choice i; index is only written when n > 1, as in
// the recorded n=2 case.
func nativeChoiceOf(req *chatRequest, i int, finish, content, reasoning string) nativeChoice {
	c := nativeChoice{FinishReason: finish, Message: nativeMessage{Role: "assistant", Content: content}}
	if req.thinking {
		c.Message.ReasoningContent = &reasoning
	}
	if req.n > 1 {
		c.Index = &i
	}
	return c
}

func nativeBody(req *chatRequest, rep *reply, id string) nativeResponse {
	out := nativeResponse{
		Usage:     nativeUsageOf(req, rep.promptTokens, rep.completionTokens, rep.reasoningTokens),
		RequestID: id,
	}
	if req.textFormat {
		c := rep.choices[0]
		out.Output = nativeOutput{FinishReason: c.finish, Text: &c.content}
		return out
	}
	for i, c := range rep.choices {
		out.Output.Choices = append(out.Output.Choices, nativeChoiceOf(req, i, c.finish, c.content, c.reasoning))
	}
	return out
}

// nativeFrame formats one native SSE event: no space after the colons and
// the status as a comment line (recorded single-generation-text-sse).
func nativeFrame(seq int, event string, status int, data []byte) []byte {
	b := make([]byte, 0, len(data)+48)
	b = append(b, "id:"...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, "\nevent:"...)
	b = append(b, event...)
	b = append(b, "\n:HTTP_STATUS/"...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, "\ndata:"...)
	b = append(b, data...)
	return append(b, '\n', '\n')
}

// nativeFrames streams the reply: reasoning first, then content, each
// frame with the cumulative usage and finish_reason "null" until the last
// frame of a choice. incremental_output sends deltas, otherwise every frame
// repeats the text so far.
func nativeFrames(req *chatRequest, rep *reply, id string) [][]byte {
	var frames [][]byte
	doneOut, doneReason := 0, 0
	emit := func(i int, finish string, content, reasoning string, out, reason int) {
		r := nativeResponse{RequestID: id, Usage: nativeUsageOf(req, rep.promptTokens, out, reason)}
		if req.textFormat {
			r.Output = nativeOutput{FinishReason: finish, Text: &content}
		} else {
			r.Output.Choices = []nativeChoice{nativeChoiceOf(req, i, finish, content, reasoning)}
		}
		frames = append(frames, nativeFrame(len(frames)+1, "result", http.StatusOK, marshal(r)))
	}
	choices := rep.choices
	if req.textFormat {
		choices = choices[:1]
	}
	for i, c := range choices {
		rEnd, cEnd := 0, 0
		usage := func() (int, int) {
			rt := EstimateTokens(c.reasoning[:rEnd])
			return doneOut + rt + EstimateTokens(c.content[:cEnd]), doneReason + rt
		}
		text := func(s string, from, to int) string {
			if req.incremental {
				return s[from:to]
			}
			return s[:to]
		}
		for _, end := range pieces(c.reasoning, streamPieces) {
			from := rEnd
			rEnd = end
			out, reason := usage()
			emit(i, "null", "", text(c.reasoning, from, end), out, reason)
		}
		for _, end := range pieces(c.content, streamPieces) {
			from := cEnd
			cEnd = end
			out, reason := usage()
			emit(i, "null", text(c.content, from, end), text(c.reasoning, rEnd, rEnd), out, reason)
		}
		out, reason := usage()
		emit(i, c.finish, text(c.content, cEnd, cEnd), text(c.reasoning, rEnd, rEnd), out, reason)
		doneOut, doneReason = out, reason
	}
	return frames
}
