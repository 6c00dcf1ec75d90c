package modeltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCompatibleShapeMatchesRecording checks a chat.completion against the
// ones the service wrote into a batch output file.
func TestCompatibleShapeMatchesRecording(t *testing.T) {
	s := start(t, Options{})
	a := post(t, compatURL(s), `{"model":"qwen-flash","messages":[{"role":"user","content":"你好"}]}`)
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	got := decode(t, a.body)

	lines := bytes.Split(bytes.TrimSpace(fixture(t, "get-file-content-compatible-nosse.response.body.txt")), []byte("\n"))
	if len(lines) == 0 {
		t.Fatal("no recorded lines")
	}
	for i, line := range lines {
		rec := get(decode(t, line), "response.body").(map[string]any)
		t.Run(fmt.Sprint("line", i+1), func(t *testing.T) { assertCovers(t, rec, got) })
	}

	id := str(got, "id")
	checks := []struct{ name, got, want string }{
		{"object", str(got, "object"), "chat.completion"},
		{"model", str(got, "model"), "qwen-flash"},
		{"role", str(got, "choices.0.message.role"), "assistant"},
		{"finish_reason", str(got, "choices.0.finish_reason"), "stop"},
		{"x-request-id is the id's uuid", "chatcmpl-" + a.header.Get("X-Request-Id"), id},
		{"x-dashscope-call-gateway", a.header.Get("X-Dashscope-Call-Gateway"), "true"},
		{"content-type", a.header.Get("Content-Type"), "application/json"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if a.header.Get("Req-Cost-Time") == "" {
		t.Error("no req-cost-time header")
	}
	if a.header.Get("Retry-After") != "" {
		t.Error("unexpected Retry-After on a success")
	}
	m := got
	for _, k := range []string{"system_fingerprint", "service_tier"} {
		if v, ok := m[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	if v, ok := get(got, "choices.0").(map[string]any)["logprobs"]; !ok || v != nil {
		t.Errorf("logprobs = %v (present %v), want null", v, ok)
	}
	if _, ok := get(got, "choices.0.message").(map[string]any)["reasoning_content"]; ok {
		t.Error("reasoning_content present although thinking is off")
	}
	u := get(got, "usage")
	if num(u, "total_tokens") != num(u, "prompt_tokens")+num(u, "completion_tokens") || num(u, "completion_tokens") == 0 {
		t.Errorf("inconsistent usage %v", u)
	}
}

// TestNativeShapeMatchesRecording compares native answers with recorded
// ones, request for request.
func TestNativeShapeMatchesRecording(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		fixture string
		body    string
	}{
		{"single-generation-message-nosse.response.body.txt",
			`{"model":"qwen-max","input":{"messages":[{"role":"user","content":"请问 1+1 是多少？"}]},
			  "parameters":{"result_format":"message","seed":1234,"max_completion_tokens":1500,"top_p":0.8,"top_k":100,
			  "repetition_penalty":1.1,"temperature":0.85,"stop":[[37763,367]],"enable_search":false,"incremental_output":false}}`},
		{"single-generation-message-reasoning-nosse.response.body.txt",
			`{"model":"deepseek-v4-pro","input":{"messages":[{"role":"user","content":"请问 1+1 是多少？"}]},
			  "parameters":{"incremental_output":false,"enable_thinking":true,"max_completion_tokens":20}}`},
		{"single-generation-text-nosse.response.body.txt",
			`{"model":"qwen-max","input":{"prompt":"请问 1+1 是多少？"},
			  "parameters":{"result_format":"text","seed":1234,"max_tokens":1500,"stop":[[37763,367]]}}`},
		{"single-generation-message-json-nosse.response.body.txt",
			`{"model":"qwen-max","input":{"messages":[{"role":"user","content":"请问 1+1 是多少？用 JSON 格式输出。"}]},
			  "parameters":{"result_format":"message","response_format":{"type":"json_object"}}}`},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.fixture, ".response.body.txt"), func(t *testing.T) {
			a := post(t, nativeURL(s), tt.body)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			got := decode(t, a.body)
			assertCovers(t, decode(t, fixture(t, tt.fixture)), got)
			if id := str(got, "request_id"); id == "" || id != a.header.Get("X-Request-Id") {
				t.Errorf("request_id %q, header %q", id, a.header.Get("X-Request-Id"))
			}
			if a.header.Get("X-Dashscope-Finished") != "true" {
				t.Errorf("x-dashscope-finished = %q", a.header.Get("X-Dashscope-Finished"))
			}
			u := get(got, "usage")
			if num(u, "total_tokens") != num(u, "input_tokens")+num(u, "output_tokens") {
				t.Errorf("inconsistent usage %v", u)
			}
		})
	}
}

// TestNativeStreamFraming checks the native SSE format against the
// recorded stream and the stream's content against the non-stream answer.
func TestNativeStreamFraming(t *testing.T) {
	// The parser must read the recording the way it reads the simulator.
	rec := parseNativeSSE(t, fixture(t, "single-generation-text-sse.response.body.txt"))
	if len(rec) != 5 || rec[0].id != "1" || rec[0].event != "result" || rec[0].status != "HTTP_STATUS/200" || rec[0].spaced {
		t.Fatalf("recording parsed as %+v", rec)
	}

	s := start(t, Options{})
	const msgs = `"input":{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Explain why the sky is blue, in two sentences, for a child of seven years old."}]}`
	whole := decode(t, post(t, nativeURL(s), `{"model":"qwen-plus",`+msgs+`,"parameters":{"result_format":"message"}}`).body)
	wantContent := str(whole, "output.choices.0.message.content")
	wantUsage := get(whole, "usage")

	for _, incremental := range []bool{true, false} {
		t.Run(fmt.Sprint("incremental=", incremental), func(t *testing.T) {
			body := fmt.Sprintf(`{"model":"qwen-plus",%s,"parameters":{"result_format":"message","incremental_output":%v}}`, msgs, incremental)
			a := post(t, nativeURL(s), body, sse...)
			if a.status != http.StatusOK || a.header.Get("Content-Type") != "text/event-stream;charset=UTF-8" {
				t.Fatalf("status %d, content-type %q", a.status, a.header.Get("Content-Type"))
			}
			if bytes.Contains(a.body, []byte("[DONE]")) {
				t.Error("native stream must not end with [DONE]")
			}
			evs := parseNativeSSE(t, a.body)
			if len(evs) < 3 {
				t.Fatalf("only %d events", len(evs))
			}
			var content string
			lastOut := 0
			for i, ev := range evs {
				if ev.spaced {
					t.Errorf("event %d has a space after a colon", i+1)
				}
				if ev.id != fmt.Sprint(i+1) || ev.event != "result" || ev.status != "HTTP_STATUS/200" {
					t.Errorf("event %d: id %q event %q status %q", i+1, ev.id, ev.event, ev.status)
				}
				d := decode(t, []byte(ev.data))
				// The recording is a text-format stream: compare what both formats share.
				r := decode(t, []byte(rec[0].data))
				assertCovers(t, map[string]any{"usage": r["usage"], "request_id": r["request_id"]}, d)
				fr := str(d, "output.choices.0.finish_reason")
				if last := i == len(evs)-1; last != (fr != "null") {
					t.Errorf("event %d of %d has finish_reason %q", i+1, len(evs), fr)
				}
				out := num(d, "usage.output_tokens")
				if out < lastOut {
					t.Errorf("usage went down from %d to %d: usage must be cumulative", lastOut, out)
				}
				lastOut = out
				c := str(d, "output.choices.0.message.content")
				if incremental {
					content += c
				} else {
					if !strings.HasPrefix(c, content) {
						t.Errorf("cumulative text %q does not extend %q", c, content)
					}
					content = c
				}
			}
			if content != wantContent {
				t.Errorf("streamed content %q, non-stream %q", content, wantContent)
			}
			final := decode(t, []byte(evs[len(evs)-1].data))
			if fmt.Sprint(final["usage"]) != fmt.Sprint(wantUsage) {
				t.Errorf("final usage %v, non-stream %v", final["usage"], wantUsage)
			}
		})
	}

	t.Run("X-DashScope-SSE header and text format", func(t *testing.T) {
		a := post(t, nativeURL(s), `{"model":"qwen-max","input":{"prompt":"请问 1+1 是多少？"},"parameters":{"result_format":"text","incremental_output":true}}`,
			"X-DashScope-SSE", "enable")
		evs := parseNativeSSE(t, a.body)
		if len(evs) < 2 {
			t.Fatalf("events %+v", evs)
		}
		for _, ev := range evs {
			assertCovers(t, decode(t, []byte(rec[0].data)), decode(t, []byte(ev.data)))
		}
		if fr := str(decode(t, []byte(evs[len(evs)-1].data)), "output.finish_reason"); fr != "stop" {
			t.Errorf("last finish_reason %q", fr)
		}
	})
}

// TestNativeStreamThinking checks that reasoning comes before content and
// that reasoning tokens are counted on every frame.
func TestNativeStreamThinking(t *testing.T) {
	s := start(t, Options{})
	a := post(t, nativeURL(s), `{"model":"qwen-plus","input":{"messages":[{"role":"user","content":"请问 1+1 是多少？"}]},
		"parameters":{"result_format":"message","incremental_output":true,"enable_thinking":true}}`, sse...)
	evs := parseNativeSSE(t, a.body)
	seenContent := false
	reasoning := 0
	for i, ev := range evs {
		d := decode(t, []byte(ev.data))
		rc := str(d, "output.choices.0.message.reasoning_content")
		c := str(d, "output.choices.0.message.content")
		if c != "" {
			seenContent = true
		}
		if rc != "" && seenContent {
			t.Errorf("event %d: reasoning after content", i+1)
		}
		if _, ok := get(d, "usage.output_tokens_details").(map[string]any)["reasoning_tokens"]; !ok {
			t.Errorf("event %d: no reasoning_tokens in usage", i+1)
		}
		reasoning = num(d, "usage.output_tokens_details.reasoning_tokens")
	}
	if !seenContent || reasoning == 0 {
		t.Errorf("content seen %v, reasoning tokens %d", seenContent, reasoning)
	}
}

// TestCompatibleStreamFraming checks the OpenAI-style stream: data: lines,
// role on the first delta, finish_reason on the last chunk, the usage chunk
// and [DONE].
func TestCompatibleStreamFraming(t *testing.T) {
	s := start(t, Options{})
	const base = `"model":"qwen-plus","messages":[{"role":"user","content":"Write a haiku about autumn leaves falling into a quiet pond."}]`
	whole := decode(t, post(t, compatURL(s), "{"+base+"}").body)

	for _, tt := range []struct {
		name     string
		extra    string
		thinking bool
		usage    bool
	}{
		{"plain", `,"stream":true`, false, false},
		{"include_usage", `,"stream":true,"stream_options":{"include_usage":true}`, false, true},
		{"thinking", `,"stream":true,"stream_options":{"include_usage":true},"enable_thinking":true`, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, compatURL(s), "{"+base+tt.extra+"}")
			if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("status %d content-type %q", a.status, a.header.Get("Content-Type"))
			}
			events := compatEvents(t, a.body)
			chunks := events[:len(events)-1] // without [DONE]
			var content, reasoning string
			finishAt, usageAt := -1, -1
			id := ""
			for i, ev := range chunks {
				d := decode(t, []byte(ev))
				if str(d, "object") != "chat.completion.chunk" {
					t.Errorf("chunk %d object %q", i, str(d, "object"))
				}
				if id == "" {
					id = str(d, "id")
				} else if str(d, "id") != id {
					t.Errorf("chunk %d id %q, first %q", i, str(d, "id"), id)
				}
				choices := d["choices"].([]any)
				if len(choices) == 0 {
					usageAt = i
					if u := get(d, "usage"); u == nil {
						t.Errorf("usage chunk without usage")
					}
					continue
				}
				if d["usage"] != nil {
					t.Errorf("chunk %d carries usage %v", i, d["usage"])
				}
				if i == 0 && str(d, "choices.0.delta.role") != "assistant" {
					t.Errorf("first delta has no role: %s", ev)
				}
				if fr := get(d, "choices.0.finish_reason"); fr != nil {
					finishAt = i
					if fr != "stop" {
						t.Errorf("finish_reason %v", fr)
					}
				}
				r := str(d, "choices.0.delta.reasoning_content")
				c := str(d, "choices.0.delta.content")
				if r != "" && content != "" {
					t.Errorf("reasoning delta after content")
				}
				content += c
				reasoning += r
			}
			last := len(chunks) - 1
			if tt.usage {
				if usageAt != last || finishAt != last-1 {
					t.Errorf("finish at %d, usage at %d, chunks %d", finishAt, usageAt, len(chunks))
				}
				u := get(decode(t, []byte(chunks[last])), "usage")
				if tt.thinking && num(u, "completion_tokens_details.reasoning_tokens") == 0 {
					t.Errorf("usage %v lacks reasoning tokens", u)
				}
				if !tt.thinking && fmt.Sprint(u) != fmt.Sprint(whole["usage"]) {
					t.Errorf("stream usage %v, non-stream %v", u, whole["usage"])
				}
			} else if usageAt >= 0 || finishAt != last {
				t.Errorf("finish at %d, usage at %d, chunks %d", finishAt, usageAt, len(chunks))
			}
			if content != str(whole, "choices.0.message.content") {
				t.Errorf("streamed %q, non-stream %q", content, str(whole, "choices.0.message.content"))
			}
			if tt.thinking == (reasoning == "") {
				t.Errorf("thinking %v but reasoning %q", tt.thinking, reasoning)
			}
		})
	}
}

// TestErrorBodiesMatchRecording checks the native error shape against the
// recorded 401 and 400, in a body and inside a stream.
func TestErrorBodiesMatchRecording(t *testing.T) {
	s := start(t, Options{APIKey: testKey})
	recorded := decode(t, fixture(t, "auth-error-nosse.response.body.txt"))

	a := post(t, nativeURL(s), `{"model":"qwen-max","input":{"prompt":"hi"}}`, "Authorization", "Bearer wrong")
	got := decode(t, a.body)
	assertCovers(t, recorded, got)
	if a.status != http.StatusUnauthorized || fmt.Sprint(got["code"], got["message"]) != fmt.Sprint(recorded["code"], recorded["message"]) {
		t.Errorf("status %d body %s, recorded %v", a.status, a.body, recorded)
	}

	// The recorded bad request: prompt plus empty messages.
	const bad = `{"model":"qwen-max","input":{"prompt":"请问 1+1 是多少？","messages":[]},"parameters":{"result_format":"text"}}`
	recBad := decode(t, fixture(t, "parameter-error-nosse.response.body.txt"))
	a = post(t, nativeURL(s), bad)
	got = decode(t, a.body)
	if a.status != http.StatusBadRequest || got["code"] != recBad["code"] || got["message"] != recBad["message"] {
		t.Errorf("status %d body %s, recorded %v", a.status, a.body, recBad)
	}

	recSSE := parseNativeSSE(t, fixture(t, "parameter-error-sse.response.body.txt"))
	a = post(t, nativeURL(s), bad, sse...)
	evs := parseNativeSSE(t, a.body)
	if a.status != http.StatusOK || len(evs) != 1 || len(recSSE) != 1 {
		t.Fatalf("status %d events %+v (recorded %+v)", a.status, evs, recSSE)
	}
	if evs[0].id != recSSE[0].id || evs[0].event != recSSE[0].event || evs[0].status != recSSE[0].status {
		t.Errorf("error event %+v, recorded %+v", evs[0], recSSE[0])
	}
	gotData, recData := decode(t, []byte(evs[0].data)), decode(t, []byte(recSSE[0].data))
	assertCovers(t, recData, gotData)
	if gotData["code"] != recData["code"] {
		t.Errorf("code %v, recorded %v", gotData["code"], recData["code"])
	}
}

// TestNativeTextAndPrompt covers the legacy prompt input and the
// result_format default.
func TestNativeTextAndPrompt(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		name, params string
		wantText     bool
	}{
		{"default is text", `{}`, true},
		{"explicit message", `{"result_format":"message"}`, false},
		{"thinking forces message", `{"enable_thinking":true}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, nativeURL(s), `{"model":"qwen-plus","input":{"prompt":"Name three colours."},"parameters":`+tt.params+`}`)
			got := decode(t, a.body)
			_, hasText := get(got, "output").(map[string]any)["text"]
			_, hasChoices := get(got, "output").(map[string]any)["choices"]
			if hasText != tt.wantText || hasChoices == tt.wantText {
				t.Errorf("output %v", got["output"])
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	s := start(t, Options{})
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		a := post(t, compatURL(s), `{"model":"qwen-plus","messages":[{"role":"user","content":"hi"}]}`)
		id := a.header.Get("X-Request-Id")
		if len(id) != 36 || strings.Count(id, "-") != 4 || seen[id] {
			t.Fatalf("request id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

// TestUnknownFieldsAccepted makes sure extras the service takes do not
// fail decoding.
func TestUnknownFieldsAccepted(t *testing.T) {
	s := start(t, Options{})
	a := post(t, compatURL(s), `{"model":"qwen-plus","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],
		"enable_thinking":false,"top_k":20,"enable_search":false,"presence_penalty":0.5,"logprobs":false,"vl_high_resolution_images":true,
		"stop":"###","seed":42,"n":1,"user":"u1","thinking_budget":100}`)
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &m); err != nil || m["choices"] == nil {
		t.Errorf("body %s: %v", a.body, err)
	}
}
