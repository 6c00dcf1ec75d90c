package modeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// startClocked runs a simulator on a fake clock.
func startClocked(t *testing.T, bo BatchOptions) (*Server, *fakeClock) {
	t.Helper()
	clk := newFakeClock() // limits_test.go
	return start(t, Options{Batch: bo, now: clk.Now}), clk
}

// call sends a request with a valid key and returns what came back.
func call(t testing.TB, method, u, contentType string, body io.Reader) answer {
	t.Helper()
	a, err := tryCall(context.Background(), method, u, contentType, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return a
}

func tryCall(ctx context.Context, method, u, contentType string, body io.Reader) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return answer{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := testClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, readErr: rerr}, nil
}

// decodeTB is decode for helpers that benchmarks share.
func decodeTB(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// multipartBody builds an upload body; an empty purpose or a nil data
// leaves that part out.
func multipartBody(t testing.TB, purpose, filename string, data []byte) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if purpose != "" {
		if err := mw.WriteField("purpose", purpose); err != nil {
			t.Fatal(err)
		}
	}
	if data != nil {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

// upload sends a file and returns the answer.
func upload(t testing.TB, s *Server, purpose string, data []byte) answer {
	t.Helper()
	ct, body := multipartBody(t, purpose, "input.jsonl", data)
	return call(t, http.MethodPost, s.CompatibleBaseURL()+"/files", ct, body)
}

// uploadOK uploads a batch input and returns its id.
func uploadOK(t testing.TB, s *Server, data string) string {
	t.Helper()
	a := upload(t, s, "batch", []byte(data))
	if a.status != http.StatusOK {
		t.Fatalf("upload: status %d: %s", a.status, a.body)
	}
	return str(decodeTB(t, a.body), "id")
}

func createBatch(t testing.TB, s *Server, body string) answer {
	t.Helper()
	return call(t, http.MethodPost, s.CompatibleBaseURL()+"/batches", "application/json", strings.NewReader(body))
}

// createOK creates a batch over fileID and returns its id.
func createOK(t testing.TB, s *Server, fileID string) string {
	t.Helper()
	a := createBatch(t, s, `{"input_file_id":"`+fileID+`","endpoint":"/v1/chat/completions","completion_window":"24h"}`)
	if a.status != http.StatusOK {
		t.Fatalf("create: status %d: %s", a.status, a.body)
	}
	return str(decodeTB(t, a.body), "id")
}

// getBatch returns the batch object.
func getBatch(t testing.TB, s *Server, id string) map[string]any {
	t.Helper()
	a := call(t, http.MethodGet, s.CompatibleBaseURL()+"/batches/"+id, "", nil)
	if a.status != http.StatusOK {
		t.Fatalf("get batch: status %d: %s", a.status, a.body)
	}
	return decodeTB(t, a.body)
}

func cancel(t testing.TB, s *Server, id string) answer {
	t.Helper()
	return call(t, http.MethodPost, s.CompatibleBaseURL()+"/batches/"+id+"/cancel", "", nil)
}

// content downloads a file's content; a missing id ("" or null) yields nil.
func content(t testing.TB, s *Server, id any) []byte {
	t.Helper()
	sid, _ := id.(string)
	if sid == "" {
		return nil
	}
	a := call(t, http.MethodGet, s.CompatibleBaseURL()+"/files/"+sid+"/content", "", nil)
	if a.status != http.StatusOK {
		t.Fatalf("content of %s: status %d: %s", sid, a.status, a.body)
	}
	return a.body
}

// resultLines decodes a result file by custom_id.
func resultLines(t *testing.T, b []byte) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		m := decode(t, l)
		out[str(m, "custom_id")] = m
	}
	return out
}

// counts returns request_counts as "total/completed/failed".
func counts(b map[string]any) string {
	return fmt.Sprintf("%d/%d/%d", num(b, "request_counts.total"), num(b, "request_counts.completed"), num(b, "request_counts.failed"))
}

// chatLine is one batch input line asking model to answer content.
func chatLine(customID, model, content string) string {
	body, _ := json.Marshal(map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": content}}})
	return `{"custom_id":"` + customID + `","method":"POST","url":"/v1/chat/completions","body":` + string(body) + "}"
}

// jsonl joins lines into a file.
func jsonl(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func fourLines() string {
	return jsonl(chatLine("a", "qwen-plus", "one"), chatLine("b", "qwen-plus", "two"),
		chatLine("c", "qwen-plus", "three"), chatLine("d", "qwen-plus", "four"))
}

// TestBatchLifecycle walks a batch through its states on a fake clock:
// nobody polls between the steps, the state follows from the time alone.
func TestBatchLifecycle(t *testing.T) {
	s, clk := startClocked(t, BatchOptions{LinesPerSecond: 2})
	id := createOK(t, s, uploadOK(t, s, fourLines()))
	created := clk.Now().Unix()

	// Validation ends at +50ms; lines are answered at +550ms, +1050ms,
	// +1550ms, +2050ms; finalizing ends at +2100ms.
	steps := []struct {
		advance       time.Duration
		status        string
		counts        string
		output, error bool
	}{
		{0, "validating", "0/0/0", false, false},
		{49 * time.Millisecond, "validating", "0/0/0", false, false},
		{time.Millisecond, "in_progress", "4/0/0", false, false},
		{500 * time.Millisecond, "in_progress", "4/1/0", false, false},
		{1000 * time.Millisecond, "in_progress", "4/3/0", false, false},
		{500 * time.Millisecond, "finalizing", "4/4/0", false, false},
		{49 * time.Millisecond, "finalizing", "4/4/0", false, false},
		{time.Millisecond, "completed", "4/4/0", true, false},
		{time.Hour, "completed", "4/4/0", true, false},
	}
	var elapsed time.Duration
	for _, st := range steps {
		clk.Advance(st.advance)
		elapsed += st.advance
		t.Run(fmt.Sprintf("at+%v", elapsed), func(t *testing.T) {
			b := getBatch(t, s, id)
			if got := str(b, "status"); got != st.status {
				t.Errorf("status %q, want %q", got, st.status)
			}
			if got := counts(b); got != st.counts {
				t.Errorf("request_counts %s, want %s", got, st.counts)
			}
			if got := get(b, "output_file_id") != nil; got != st.output {
				t.Errorf("output_file_id %v, want set=%v", get(b, "output_file_id"), st.output)
			}
			if got := get(b, "error_file_id") != nil; got != st.error {
				t.Errorf("error_file_id %v, want set=%v", get(b, "error_file_id"), st.error)
			}
			if num(b, "created_at") != int(created) {
				t.Errorf("created_at %d, want %d", num(b, "created_at"), created)
			}
		})
	}
	b := getBatch(t, s, id)
	if !strings.HasPrefix(str(b, "output_file_id"), "file-batch_output-") || !strings.HasPrefix(id, "batch_") {
		t.Errorf("ids %q %q do not look like the service's", id, str(b, "output_file_id"))
	}
	for _, k := range []string{"in_progress_at", "finalizing_at", "completed_at"} {
		if get(b, k) == nil {
			t.Errorf("%s is null in a completed batch", k)
		}
	}
	for _, k := range []string{"expires_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "errors"} {
		if get(b, k) != nil {
			t.Errorf("%s = %v in a completed batch, want null", k, get(b, k))
		}
	}
	out := resultLines(t, content(t, s, get(b, "output_file_id")))
	if len(out) != 4 {
		t.Fatalf("output has %d lines, want 4", len(out))
	}
	for cid, want := range map[string]string{"a": "one", "b": "two", "c": "three", "d": "four"} {
		l := out[cid]
		if num(l, "response.status_code") != 200 || get(l, "error") != nil || str(l, "id") != str(l, "response.request_id") ||
			!strings.HasSuffix(str(l, "response.body.choices.0.message.content"), want) {
			t.Errorf("line %s: %v", cid, l)
		}
	}
}

// TestBatchMatchesRealtime checks that a batch answers each line exactly
// as the real-time endpoint answers the same body, and bills the batch
// usage apart from the real-time usage.
func TestBatchMatchesRealtime(t *testing.T) {
	bodies := map[string]string{
		"plain":     `{"model":"qwen-plus","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Summarise: the quick brown fox jumps over the lazy dog."}]}`,
		"json":      `{"model":"qwen-plus","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"Classify as JSON: I love it"}]}`,
		"translate": `{"model":"qwen-plus","messages":[{"role":"user","content":"Translate into English:\n今天天气很好"}],"temperature":0.3,"seed":7}`,
		"n2":        `{"model":"qwen-plus","n":2,"max_tokens":5,"messages":[{"role":"user","content":"Write a long story about a dragon and a knight."}]}`,
		"stream":    `{"model":"qwen-plus","stream":true,"messages":[{"role":"user","content":"A streamed request is answered whole."}]}`,
	}
	thinking := map[string]string{
		"thinking": `{"model":"qwen3.5-plus","messages":[{"role":"user","content":"Think about it."}]}`,
	}
	for name, set := range map[string]map[string]string{"qwen-plus": bodies, "qwen3.5-plus": thinking} {
		t.Run(name, func(t *testing.T) {
			s := start(t, Options{Batch: BatchOptions{ValidateTime: -1, FinalizeTime: -1}})
			var lines []string
			want := map[string]map[string]any{}
			var prompt, completion int
			for cid, body := range set {
				lines = append(lines, `{"custom_id":"`+cid+`","method":"POST","url":"/v1/chat/completions","body":`+body+`}`)
				rt := strings.Replace(body, `"stream":true`, `"stream":false`, 1)
				a := post(t, compatURL(s), rt)
				if a.status != http.StatusOK {
					t.Fatalf("%s: realtime status %d: %s", cid, a.status, a.body)
				}
				want[cid] = decode(t, a.body)
				prompt += num(want[cid], "usage.prompt_tokens")
				completion += num(want[cid], "usage.completion_tokens")
			}
			before := s.Stats()
			id := createOK(t, s, uploadOK(t, s, jsonl(lines...)))
			b := getBatch(t, s, id)
			if str(b, "status") != "completed" {
				t.Fatalf("status %q, want completed at once with no step times", str(b, "status"))
			}
			out := resultLines(t, content(t, s, get(b, "output_file_id")))
			for cid, w := range want {
				got, _ := get(out[cid], "response.body").(map[string]any)
				if got == nil {
					t.Errorf("%s: no response body in %v", cid, out[cid])
					continue
				}
				for _, k := range []string{"id", "created"} {
					delete(got, k)
					delete(w, k)
				}
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(w)
				if !bytes.Equal(gj, wj) {
					t.Errorf("%s: batch answer differs from real time:\nbatch    %s\nrealtime %s", cid, gj, wj)
				}
			}
			after := s.Stats()
			if after.BatchPromptTokens-before.BatchPromptTokens != int64(prompt) ||
				after.BatchCompletionTokens-before.BatchCompletionTokens != int64(completion) {
				t.Errorf("batch usage %d+%d, want %d+%d", after.BatchPromptTokens-before.BatchPromptTokens,
					after.BatchCompletionTokens-before.BatchCompletionTokens, prompt, completion)
			}
			if after.PromptTokens != before.PromptTokens || after.CompletionTokens != before.CompletionTokens {
				t.Errorf("batch usage leaked into the real-time counters: %+v → %+v", before, after)
			}
			if after.BatchLines-before.BatchLines != int64(len(set)) {
				t.Errorf("BatchLines grew by %d, want %d", after.BatchLines-before.BatchLines, len(set))
			}
		})
	}
}

// TestBatchLineErrors checks the errors that fail one line and let the
// others run: they go to the error file, the rest to the output file.
func TestBatchLineErrors(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		// want maps custom_id to "ok" or the error code of its line; a
		// status is given for errors the real-time endpoint would answer.
		want   map[string]string
		status map[string]int
		faults int64
	}{
		{
			name: "duplicate custom_id",
			lines: []string{chatLine("1", "qwen-plus", "first"), chatLine("1", "qwen-plus", "again"),
				chatLine("2", "qwen-plus", "second")},
			// The first "1" runs, the second is the duplicate; both share the custom_id.
			want: map[string]string{"1": "ok+duplicate_custom_id", "2": "ok"},
		},
		{
			name:  "mismatched model",
			lines: []string{chatLine("1", "qwen-plus", "a"), chatLine("2", "qwen-max", "b"), chatLine("3", "qwen-plus", "c")},
			want:  map[string]string{"1": "ok", "2": "mismatched_model", "3": "ok"},
		},
		{
			name:  "model not found",
			lines: []string{chatLine("1", "gpt-4o", "a"), chatLine("2", "gpt-4o", "b")},
			want:  map[string]string{"1": "model_not_found", "2": "model_not_found"},
		},
		{
			name: "fault markers",
			lines: []string{chatLine("inspect", "qwen-plus", "bad [[sim:inspect]]"), chatLine("arrears", "qwen-plus", "x [[sim:arrearage]]"),
				chatLine("500", "qwen-plus", "ignored [[sim:500]]"), chatLine("429", "qwen-plus", "ignored [[sim:429]]"),
				chatLine("hang", "qwen-plus", "ignored [[sim:hang]]"), chatLine("counted", "qwen-plus", "once [[sim:inspect*1]]")},
			want: map[string]string{"inspect": "data_inspection_failed", "arrears": "Arrearage", "500": "ok", "429": "ok",
				"hang": "ok", "counted": "data_inspection_failed"},
			status: map[string]int{"inspect": 400, "arrears": 400, "counted": 400},
			faults: 3,
		},
		{
			name:  "CRLF line ends and blank lines",
			lines: []string{chatLine("1", "qwen-plus", "a") + "\r", "", "  ", chatLine("2", "qwen-plus", "b") + "\r"},
			want:  map[string]string{"1": "ok", "2": "ok"},
		},
		{
			name: "bodies the real-time endpoint refuses",
			lines: []string{
				`{"custom_id":"temp","method":"POST","url":"/v1/chat/completions","body":{"model":"qwen-plus","temperature":5,"messages":[{"role":"user","content":"x"}]}}`,
				`{"custom_id":"nojson","method":"POST","url":"/v1/chat/completions","body":{"model":"qwen-plus","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"x"}]}}`,
				`{"custom_id":"empty","method":"POST","url":"/v1/chat/completions","body":{"model":"qwen-plus","messages":[]}}`,
				chatLine("fine", "qwen-plus", "fine"),
			},
			want:   map[string]string{"temp": "invalid_parameter_error", "nojson": "invalid_parameter_error", "empty": "invalid_parameter_error", "fine": "ok"},
			status: map[string]int{"temp": 400, "nojson": 400, "empty": 400},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{Batch: BatchOptions{ValidateTime: -1, FinalizeTime: -1}})
			id := createOK(t, s, uploadOK(t, s, jsonl(tt.lines...)))
			b := getBatch(t, s, id)
			if str(b, "status") != "completed" {
				t.Fatalf("status %q, want completed", str(b, "status"))
			}
			got := map[string]string{}
			var outN, errN int
			for _, file := range []string{"output_file_id", "error_file_id"} {
				raw := content(t, s, get(b, file))
				for l := range bytes.SplitSeq(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
					if len(l) == 0 {
						continue
					}
					m := decode(t, l)
					cid := str(m, "custom_id")
					outcome := "ok"
					if file == "error_file_id" {
						errN++
						outcome = str(m, "error.code")
						if outcome == "" || str(m, "error.message") == "" {
							t.Errorf("error line without error.code/message: %s", l)
						}
						wantStatus, real := tt.status[cid]
						switch {
						case real && (num(m, "response.status_code") != wantStatus || str(m, "response.body.error.code") != outcome):
							t.Errorf("%s: response %v, want status %d with the real-time error body", cid, get(m, "response"), wantStatus)
						case !real && get(m, "response") != nil:
							t.Errorf("%s: response %v, want null for a batch-only error", cid, get(m, "response"))
						}
					} else {
						outN++
						if get(m, "error") != nil || num(m, "response.status_code") != 200 {
							t.Errorf("output line %s", l)
						}
					}
					if prev, ok := got[cid]; ok {
						outcome = prev + "+" + outcome
					}
					got[cid] = outcome
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("outcomes %v, want %v", got, tt.want)
			}
			total := 0
			for _, l := range tt.lines {
				if strings.TrimSpace(l) != "" {
					total++
				}
			}
			if c := counts(b); c != fmt.Sprintf("%d/%d/%d", total, outN, errN) || outN+errN != total {
				t.Errorf("request_counts %s, output %d + error %d lines, want %d in all", c, outN, errN, total)
			}
			if f := s.Stats().Faults; f != tt.faults {
				t.Errorf("Stats.Faults %d, want %d", f, tt.faults)
			}
		})
	}
}

// TestBatchValidationFailures checks inputs that fail the whole batch:
// status failed after validating, with one error per bad line.
func TestBatchValidationFailures(t *testing.T) {
	ok := chatLine("1", "qwen-plus", "fine")
	tests := []struct {
		name  string
		opts  BatchOptions
		input string
		want  []string // "code@line" or "code" for whole-file errors
	}{
		{"empty file", BatchOptions{}, "\n \n", []string{"empty_file"}},
		{"too many lines", BatchOptions{MaxFileLines: 2}, jsonl(ok, chatLine("2", "qwen-plus", "b"), chatLine("3", "qwen-plus", "c")),
			[]string{"too_many_requests_in_file"}},
		{"line too large", BatchOptions{MaxLineBytes: 150}, jsonl(ok, chatLine("2", "qwen-plus", strings.Repeat("x", 200))),
			[]string{"line_too_large@2"}},
		{"not JSON", BatchOptions{}, jsonl(ok, `{"custom_id":`), []string{"invalid_json_line@2"}},
		{"missing custom_id", BatchOptions{}, jsonl(`{"method":"POST","url":"/v1/chat/completions","body":{}}`), []string{"missing_required_parameter@1"}},
		{"numeric custom_id", BatchOptions{}, jsonl(`{"custom_id":1,"method":"POST","url":"/v1/chat/completions","body":{}}`), []string{"invalid_custom_id@1"}},
		{"GET method", BatchOptions{}, jsonl(`{"custom_id":"1","method":"GET","url":"/v1/chat/completions","body":{}}`), []string{"invalid_method@1"}},
		{"missing body", BatchOptions{}, jsonl(`{"custom_id":"1","method":"POST","url":"/v1/chat/completions"}`), []string{"missing_required_parameter@1"}},
		{"unknown url on two lines", BatchOptions{},
			jsonl(strings.Replace(ok, "/v1/chat/completions", "/v1/chat/completion", 1), "", ok, strings.Replace(ok, "/v1/chat/completions", "/v2/x", 1)),
			[]string{"url_not_found@1", "url_not_found@4"}},
		{"url of another endpoint", BatchOptions{}, jsonl(ok, strings.Replace(ok, "/v1/chat/completions", "/v1/embeddings", 1)),
			[]string{"mismatched_url@2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := startClocked(t, tt.opts)
			id := createOK(t, s, uploadOK(t, s, tt.input))
			if b := getBatch(t, s, id); str(b, "status") != "validating" || get(b, "errors") != nil {
				t.Errorf("before validation: status %q errors %v", str(b, "status"), get(b, "errors"))
			}
			clk.Advance(DefaultBatchStep)
			b := getBatch(t, s, id)
			if str(b, "status") != "failed" || get(b, "failed_at") == nil || get(b, "in_progress_at") != nil || counts(b) != "0/0/0" {
				t.Errorf("status %q failed_at %v in_progress_at %v counts %s", str(b, "status"), get(b, "failed_at"), get(b, "in_progress_at"), counts(b))
			}
			if get(b, "output_file_id") != nil || get(b, "error_file_id") != nil {
				t.Errorf("a failed batch has files: %v %v", get(b, "output_file_id"), get(b, "error_file_id"))
			}
			var got []string
			data, _ := get(b, "errors.data").([]any)
			for _, e := range data {
				code := str(e, "code")
				if str(e, "message") == "" {
					t.Errorf("error without message: %v", e)
				}
				if l, ok := get(e, "line").(float64); ok {
					code += fmt.Sprintf("@%d", int(l))
				}
				got = append(got, code)
			}
			if str(b, "errors.object") != "list" || !slices.Equal(got, tt.want) {
				t.Errorf("errors %v (object %q), want %v", got, str(b, "errors.object"), tt.want)
			}
		})
	}
}

// TestCreateBatchErrors checks the requests POST /batches refuses at once.
func TestCreateBatchErrors(t *testing.T) {
	s := start(t, Options{})
	input := uploadOK(t, s, jsonl(chatLine("1", "qwen-plus", "x")))
	a := upload(t, s, "file-extract", []byte("some text"))
	extract := str(decode(t, a.body), "id")
	body := func(file, endpoint, window, extra string) string {
		return `{"input_file_id":"` + file + `","endpoint":"` + endpoint + `","completion_window":"` + window + `"` + extra + `}`
	}
	const ep = "/v1/chat/completions"
	tests := []struct {
		name   string
		body   string
		status int
		param  string
	}{
		{"24h", body(input, ep, "24h", ""), 200, ""},
		{"336h", body(input, ep, "336h", ""), 200, ""},
		{"1d", body(input, ep, "1d", ""), 200, ""},
		{"14d with metadata", body(input, ep, "14d", `,"metadata":{"ds_name":"任务","ds_description":"d"}`), 200, ""},
		{"23h", body(input, ep, "23h", ""), 400, "completion_window"},
		{"337h", body(input, ep, "337h", ""), 400, "completion_window"},
		{"15d", body(input, ep, "15d", ""), 400, "completion_window"},
		{"bare number", body(input, ep, "24", ""), 400, "completion_window"},
		{"minutes", body(input, ep, "1440m", ""), 400, "completion_window"},
		{"no window", body(input, ep, "", ""), 400, "completion_window"},
		{"embeddings endpoint", body(input, "/v1/embeddings", "24h", ""), 400, "endpoint"},
		{"no endpoint", body(input, "", "24h", ""), 400, "endpoint"},
		{"no input file", body("", ep, "24h", ""), 400, "input_file_id"},
		{"unknown input file", body("file-batch-nope", ep, "24h", ""), 400, "input_file_id"},
		{"file-extract input", body(extract, ep, "24h", ""), 400, "input_file_id"},
		{"long ds_name", body(input, ep, "24h", `,"metadata":{"ds_name":"`+strings.Repeat("名", 101)+`"}`), 400, "metadata"},
		{"numeric metadata", body(input, ep, "24h", `,"metadata":{"n":1}`), 400, "metadata"},
		{"not JSON", `{"input_file_id":`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := createBatch(t, s, tt.body)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			m := decode(t, a.body)
			if tt.status != 200 {
				assertAPIError(t, m, "invalid_request_error", tt.param)
			} else if str(m, "status") != "validating" {
				t.Errorf("status %q", str(m, "status"))
			}
		})
	}
}

// assertAPIError checks the Files and Batches error shape: message and
// type set, param as given (null when ""), code null, no request_id.
func assertAPIError(t *testing.T, m map[string]any, typ, param string) {
	t.Helper()
	e, _ := get(m, "error").(map[string]any)
	if e == nil || str(e, "message") == "" || str(e, "type") != typ {
		t.Errorf("error body %v, want message and type %q", m, typ)
		return
	}
	if p, ok := e["param"]; !ok || param == "" && p != nil || param != "" && p != param {
		t.Errorf("param %v (present %v), want %q", p, ok, param)
	}
	if c, ok := e["code"]; !ok || c != nil {
		t.Errorf("code %v (present %v), want null", c, ok)
	}
	if _, ok := m["request_id"]; ok {
		t.Errorf("unexpected request_id in %v", m)
	}
}

// TestBatchExpiry checks the completion window: lines answered in time
// stay in the output file, the rest go to the error file as batch_expired.
func TestBatchExpiry(t *testing.T) {
	tests := []struct {
		name       string
		window     time.Duration
		counts     string
		output     int
		inProgress bool
	}{
		// Validation ends at +50ms; at +1s floor(0.95*2) = 1 line is done.
		{"while in progress", time.Second, "4/1/3", 1, true},
		{"while validating", 10 * time.Millisecond, "4/0/4", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := startClocked(t, BatchOptions{LinesPerSecond: 2, CompletionWindow: tt.window})
			id := createOK(t, s, uploadOK(t, s, fourLines()))
			clk.Advance(tt.window - time.Millisecond)
			if st := str(getBatch(t, s, id), "status"); st == "expired" {
				t.Fatalf("expired before the window ended")
			}
			clk.Advance(time.Millisecond)
			b := getBatch(t, s, id)
			if str(b, "status") != "expired" || get(b, "expired_at") == nil || counts(b) != tt.counts {
				t.Fatalf("status %q expired_at %v counts %s, want expired %s", str(b, "status"), get(b, "expired_at"), counts(b), tt.counts)
			}
			if str(b, "completion_window") != "24h" {
				t.Errorf("completion_window %q, want the requested 24h", str(b, "completion_window"))
			}
			if (get(b, "in_progress_at") != nil) != tt.inProgress {
				t.Errorf("in_progress_at %v", get(b, "in_progress_at"))
			}
			out := resultLines(t, content(t, s, get(b, "output_file_id")))
			errs := resultLines(t, content(t, s, get(b, "error_file_id")))
			if len(out) != tt.output || len(errs) != 4-tt.output {
				t.Fatalf("output %d lines, error %d lines, want %d and %d", len(out), len(errs), tt.output, 4-tt.output)
			}
			for cid, l := range errs {
				if str(l, "error.code") != "batch_expired" || get(l, "response") != nil {
					t.Errorf("error line %s: %v", cid, l)
				}
			}
			if tt.output == 1 && out["a"] == nil {
				t.Errorf("the first line is not the one answered: %v", out)
			}
			clk.Advance(time.Hour)
			if c := counts(getBatch(t, s, id)); c != tt.counts {
				t.Errorf("counts changed after expiry: %s", c)
			}
		})
	}
}

// TestBatchCancel checks cancelling: answered lines stay in the output
// file, the rest go to the error file as batch_cancelled.
func TestBatchCancel(t *testing.T) {
	s, clk := startClocked(t, BatchOptions{LinesPerSecond: 2})
	id := createOK(t, s, uploadOK(t, s, fourLines()))
	clk.Advance(DefaultBatchStep + 1100*time.Millisecond) // 2 lines done

	a := cancel(t, s, id)
	if a.status != http.StatusOK {
		t.Fatalf("cancel: status %d: %s", a.status, a.body)
	}
	b := decode(t, a.body)
	// As recorded, the cancel answer still shows cancelling_at null.
	if str(b, "status") != "cancelling" || get(b, "cancelling_at") != nil || counts(b) != "4/2/0" {
		t.Errorf("cancel answer: status %q cancelling_at %v counts %s", str(b, "status"), get(b, "cancelling_at"), counts(b))
	}
	b = getBatch(t, s, id)
	if str(b, "status") != "cancelling" || get(b, "cancelling_at") == nil || get(b, "output_file_id") != nil {
		t.Errorf("after cancel: status %q cancelling_at %v output %v", str(b, "status"), get(b, "cancelling_at"), get(b, "output_file_id"))
	}
	clk.Advance(time.Hour) // lines must not progress after the cancel
	b = getBatch(t, s, id)
	if str(b, "status") != "cancelled" || get(b, "cancelled_at") == nil || counts(b) != "4/2/2" {
		t.Fatalf("status %q cancelled_at %v counts %s, want cancelled 4/2/2", str(b, "status"), get(b, "cancelled_at"), counts(b))
	}
	out := resultLines(t, content(t, s, get(b, "output_file_id")))
	errs := resultLines(t, content(t, s, get(b, "error_file_id")))
	if out["a"] == nil || out["b"] == nil || len(out) != 2 {
		t.Errorf("output %v, want lines a and b", out)
	}
	if str(errs["c"], "error.code") != "batch_cancelled" || str(errs["d"], "error.code") != "batch_cancelled" || len(errs) != 2 {
		t.Errorf("error file %v, want c and d batch_cancelled", errs)
	}
	if st := s.Stats(); st.BatchLines != 2 {
		t.Errorf("BatchLines %d, want the 2 answered lines", st.BatchLines)
	}

	tests := []struct {
		name   string
		setup  func() string
		status int
		want   string
	}{
		{"again", func() string { return id }, 200, "cancelled"},
		{"while validating", func() string { return createOK(t, s, uploadOK(t, s, fourLines())) }, 200, "cancelling"},
		{"completed", func() string {
			id := createOK(t, s, uploadOK(t, s, fourLines()))
			clk.Advance(time.Hour)
			return id
		}, 400, ""},
		{"failed", func() string {
			id := createOK(t, s, uploadOK(t, s, "not json\n"))
			clk.Advance(time.Hour)
			return id
		}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.setup()
			a := cancel(t, s, id)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.status != 200 {
				assertAPIError(t, decode(t, a.body), "invalid_request_error", "")
				return
			}
			if st := str(decode(t, a.body), "status"); st != tt.want {
				t.Errorf("status %q, want %q", st, tt.want)
			}
			if tt.want == "cancelling" {
				clk.Advance(time.Hour)
				b := getBatch(t, s, id)
				if str(b, "status") != "cancelled" || counts(b) != "0/0/0" || get(b, "output_file_id") != nil || get(b, "error_file_id") != nil {
					t.Errorf("cancelled while validating: %v", b)
				}
			}
		})
	}
	if a := cancel(t, s, "batch_nope"); a.status != http.StatusNotFound {
		t.Errorf("cancel of an unknown batch: status %d", a.status)
	}
}

// TestListBatches checks paging and the DashScope filters.
func TestListBatches(t *testing.T) {
	s, clk := startClocked(t, BatchOptions{LinesPerSecond: 1})
	f1 := uploadOK(t, s, fourLines())
	f2 := uploadOK(t, s, fourLines())
	created := clk.Now().In(beijing) // b1's created_at
	mk := func(file, name string) string {
		a := createBatch(t, s, `{"input_file_id":"`+file+`","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"ds_name":"`+name+`"}}`)
		if a.status != http.StatusOK {
			t.Fatalf("create: %s", a.body)
		}
		clk.Advance(time.Hour) // distinct created_at, and every batch completes
		return str(decode(t, a.body), "id")
	}
	b1 := mk(f1, "测试任务")
	b2 := mk(f2, "other")
	b3 := mk(f1, "任务三")
	cancelled := createOK(t, s, f2)
	if a := cancel(t, s, cancelled); a.status != 200 {
		t.Fatalf("cancel: %s", a.body)
	}
	// cancelled is still cancelling: the clock has not moved since.

	tests := []struct {
		query   string
		want    []string
		hasMore bool
		status  int
	}{
		{"", []string{cancelled, b3, b2, b1}, false, 200},
		{"limit=2", []string{cancelled, b3}, true, 200},
		{"limit=2&after=" + b3, []string{b2, b1}, false, 200},
		{"limit=1&after=" + b1, nil, false, 200},
		{"after=batch_unknown", nil, false, 200},
		{"input_file_ids=" + f1, []string{b3, b1}, false, 200},
		{"input_file_ids=" + url.QueryEscape(f1+","+f2), []string{cancelled, b3, b2, b1}, false, 200},
		{"limit=2&input_file_ids=hello", nil, false, 200},
		{"input_file_ids=" + f1 + "&limit=1", []string{b3}, true, 200},
		{"status=completed", []string{b3, b2, b1}, false, 200},
		{"status=" + url.QueryEscape("cancelling,failed"), []string{cancelled}, false, 200},
		{"ds_name=" + url.QueryEscape("任务"), []string{b3, b1}, false, 200},
		{"create_after=" + created.Add(time.Second).Format("20060102150405"), []string{cancelled, b3, b2}, false, 200},
		{"create_before=" + created.Add(time.Second).Format("20060102150405"), []string{b1}, false, 200},
		{"limit=0", nil, false, 400},
		{"limit=101", nil, false, 400},
		{"status=done", nil, false, 400},
		{"create_after=2026-04-17", nil, false, 400},
		{"input_file_ids=" + strings.Repeat("f,", 21), nil, false, 400},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := call(t, http.MethodGet, s.CompatibleBaseURL()+"/batches?"+tt.query, "", nil)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			m := decode(t, a.body)
			if tt.status != 200 {
				assertAPIError(t, m, "invalid_request_error", strings.SplitN(tt.query, "=", 2)[0])
				return
			}
			var got []string
			data, isList := m["data"].([]any)
			for _, b := range data {
				got = append(got, str(b, "id"))
			}
			if !slices.Equal(got, tt.want) || m["has_more"] != tt.hasMore || str(m, "object") != "list" {
				t.Errorf("ids %v has_more %v, want %v %v", got, m["has_more"], tt.want, tt.hasMore)
			}
			if len(tt.want) == 0 {
				if isList || m["data"] != nil || m["first_id"] != nil || m["last_id"] != nil {
					t.Errorf("empty list %v, want data, first_id and last_id null as recorded", m)
				}
			} else if str(m, "first_id") != tt.want[0] || str(m, "last_id") != tt.want[len(tt.want)-1] {
				t.Errorf("first_id %v last_id %v", m["first_id"], m["last_id"])
			}
		})
	}
}

// TestBatchHook checks that the hook sees every operation, can hold a
// request while its client goes away (the operation still happens, as on
// a server whose answer was lost), and can fail a request with 500.
func TestBatchHook(t *testing.T) {
	t.Run("ops", func(t *testing.T) {
		var mu sync.Mutex
		var ops []string
		s := start(t, Options{Batch: BatchOptions{ValidateTime: -1, FinalizeTime: -1, Hook: func(_ context.Context, op string) error {
			mu.Lock()
			ops = append(ops, op)
			mu.Unlock()
			return nil
		}}})
		base := s.CompatibleBaseURL()
		file := uploadOK(t, s, fourLines())
		id := createOK(t, s, file)
		out := str(getBatch(t, s, id), "output_file_id")
		call(t, http.MethodGet, base+"/batches", "", nil)
		cancel(t, s, id)
		call(t, http.MethodGet, base+"/files", "", nil)
		call(t, http.MethodGet, base+"/files/"+out, "", nil)
		content(t, s, out)
		call(t, http.MethodDelete, base+"/files/"+file, "", nil)
		want := []string{"upload", "create", "retrieve", "list", "cancel", "list-files", "get-file", "content", "delete"}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(ops, want) {
			t.Errorf("hook saw %v, want %v", ops, want)
		}
	})

	t.Run("blocks while the client goes away", func(t *testing.T) {
		entered := make(chan struct{})
		release := make(chan struct{})
		s := start(t, Options{Batch: BatchOptions{Hook: func(_ context.Context, op string) error {
			if op == "create" {
				close(entered)
				<-release
			}
			return nil
		}}})
		file := uploadOK(t, s, fourLines())
		ctx, kill := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := tryCall(ctx, http.MethodPost, s.CompatibleBaseURL()+"/batches", "application/json",
				strings.NewReader(`{"input_file_id":"`+file+`","endpoint":"/v1/chat/completions","completion_window":"24h"}`))
			done <- err
		}()
		<-entered
		kill()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("client: %v, want it cancelled while the hook held the request", err)
		}
		close(release)
		// The client restarts and finds the batch it never heard about.
		deadline := time.Now().Add(10 * time.Second)
		for {
			a := call(t, http.MethodGet, s.CompatibleBaseURL()+"/batches?input_file_ids="+file, "", nil)
			data, _ := decode(t, a.body)["data"].([]any)
			if len(data) == 1 && str(data[0], "input_file_id") == file {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the held create never took effect: %s", a.body)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if st := s.Stats(); st.BatchesCreated != 1 {
			t.Errorf("BatchesCreated %d, want 1", st.BatchesCreated)
		}
	})

	t.Run("errors", func(t *testing.T) {
		var failing sync.Map // op → true
		s := start(t, Options{Batch: BatchOptions{Hook: func(_ context.Context, op string) error {
			if _, ok := failing.Load(op); ok {
				return errors.New("injected")
			}
			return nil
		}}})
		base := s.CompatibleBaseURL()
		file := uploadOK(t, s, fourLines())
		id := createOK(t, s, file)
		tests := []struct {
			op  string
			req func() answer
		}{
			{"upload", func() answer { return upload(t, s, "batch", []byte(fourLines())) }},
			{"create", func() answer { return createBatch(t, s, `{"input_file_id":"`+file+`"}`) }},
			{"retrieve", func() answer { return call(t, http.MethodGet, base+"/batches/"+id, "", nil) }},
			{"list", func() answer { return call(t, http.MethodGet, base+"/batches", "", nil) }},
			{"cancel", func() answer { return cancel(t, s, id) }},
			{"list-files", func() answer { return call(t, http.MethodGet, base+"/files", "", nil) }},
			{"get-file", func() answer { return call(t, http.MethodGet, base+"/files/"+file, "", nil) }},
			{"content", func() answer { return call(t, http.MethodGet, base+"/files/"+file+"/content", "", nil) }},
			{"delete", func() answer { return call(t, http.MethodDelete, base+"/files/"+file, "", nil) }},
		}
		for _, tt := range tests {
			t.Run(tt.op, func(t *testing.T) {
				failing.Store(tt.op, true)
				defer failing.Delete(tt.op)
				before := s.Stats()
				a := tt.req()
				if a.status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500: %s", a.status, a.body)
				}
				if m := decode(t, a.body); str(m, "error.code") != "internal_error" || str(m, "error.type") != "internal_error" {
					t.Errorf("body %s", a.body)
				}
				after := s.Stats()
				if after.FilesUploaded != before.FilesUploaded || after.BatchesCreated != before.BatchesCreated {
					t.Errorf("a failed %s took effect: %+v", tt.op, after)
				}
			})
		}
		// Nothing was cancelled or deleted.
		if st := str(getBatch(t, s, id), "status"); st == "cancelling" || st == "cancelled" {
			t.Errorf("status %q after a failed cancel", st)
		}
		if a := call(t, http.MethodGet, base+"/files/"+file, "", nil); a.status != 200 {
			t.Errorf("file gone after a failed delete: %d", a.status)
		}
	})
}

// TestBatchStatsGrow checks that the batch counters follow the clock
// while a batch runs.
func TestBatchStatsGrow(t *testing.T) {
	s, clk := startClocked(t, BatchOptions{LinesPerSecond: 1})
	createOK(t, s, uploadOK(t, s, fourLines()))
	var lines, prompt []int64
	for range 6 {
		st := s.Stats()
		lines = append(lines, st.BatchLines)
		prompt = append(prompt, st.BatchPromptTokens)
		clk.Advance(time.Second)
	}
	if !slices.Equal(lines, []int64{0, 0, 1, 2, 3, 4}) {
		t.Errorf("BatchLines over time %v", lines)
	}
	for i := 1; i < len(prompt); i++ {
		if (prompt[i] > prompt[i-1]) != (lines[i] > lines[i-1]) {
			t.Errorf("BatchPromptTokens %v do not follow BatchLines %v", prompt, lines)
			break
		}
	}
	st := s.Stats()
	if st.FilesUploaded != 1 || st.BatchesCreated != 1 || st.BatchCompletionTokens == 0 || st.PromptTokens != 0 || st.OK != 0 {
		t.Errorf("stats %+v", st)
	}
}

// BenchmarkBatch measures creating a batch of 10,000 lines and reading its
// output file, which generates every answer again.
func BenchmarkBatch(b *testing.B) {
	s := NewServer(Options{Batch: BatchOptions{ValidateTime: -1, FinalizeTime: -1}})
	defer s.Close()
	var lines []string
	for i := range 10_000 {
		lines = append(lines, chatLine(fmt.Sprint(i), "qwen-plus", fmt.Sprintf("Summarise row %d: the quick brown fox jumps over the lazy dog.", i)))
	}
	file := uploadOK(b, s, jsonl(lines...))
	for b.Loop() {
		id := createOK(b, s, file)
		out := content(b, s, get(getBatch(b, s, id), "output_file_id"))
		if len(out) == 0 {
			b.Fatal("empty output")
		}
	}
}
