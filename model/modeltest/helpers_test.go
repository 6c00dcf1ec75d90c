package modeltest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

const testKey = "sk-test"

// start runs a simulator for one test.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// answer is what a plain net/http client saw.
type answer struct {
	status int
	header http.Header
	body   []byte
	// readErr is the error reading the body, nil when it was complete.
	readErr error
}

// post sends body to url with a valid key unless headers override
// Authorization; headers are name, value pairs.
func post(t *testing.T, url, body string, headers ...string) answer {
	t.Helper()
	a, err := tryPost(context.Background(), url, body, headers...)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return a
}

var testClient = &http.Client{Timeout: 20 * time.Second}

func tryPost(ctx context.Context, url, body string, headers ...string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, readErr: rerr}, nil
}

func compatURL(s *Server) string { return s.CompatibleBaseURL() + "/chat/completions" }
func nativeURL(s *Server) string {
	return s.NativeBaseURL() + "/services/aigc/text-generation/generation"
}

// sse asks the native endpoint for a stream.
var sse = []string{"Accept", "text/event-stream"}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return m
}

// get walks a decoded JSON value along a dotted path; numeric parts index
// arrays.
func get(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[part]
		case []any:
			i := 0
			for _, c := range part {
				i = i*10 + int(c-'0')
			}
			if i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path string) string {
	s, _ := get(v, path).(string)
	return s
}

func num(v any, path string) int {
	f, _ := get(v, path).(float64)
	return int(f)
}

// keyPaths lists every key path of a decoded JSON value with the JSON
// kind found there ("output.choices[].message.content": "string").
func keyPaths(v any, prefix string, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = kind(c)
			keyPaths(c, p, out)
		}
	case []any:
		for _, c := range t {
			keyPaths(c, prefix+"[]", out)
		}
	}
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "?"
}

// assertCovers checks that got has every key path of want, with the same
// JSON kind.
func assertCovers(t *testing.T, want, got map[string]any) {
	t.Helper()
	wp, gp := map[string]string{}, map[string]string{}
	keyPaths(want, "", wp)
	keyPaths(got, "", gp)
	var missing []string
	for p, k := range wp {
		if g, ok := gp[p]; !ok {
			missing = append(missing, p+" (missing)")
		} else if g != k {
			missing = append(missing, p+" ("+g+", recorded "+k+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("simulator answer lacks recorded key paths:\n  %s\nanswer: %v", strings.Join(missing, "\n  "), got)
	}
}

// fixture reads a recorded body from testdata/recorded, without the BOM
// some of them carry.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
}

// nativeEvent is one parsed native SSE event.
type nativeEvent struct {
	id, event, status string
	data              string
	// spaced is set when a field had a space after its colon.
	spaced bool
}

// parseNativeSSE splits a native stream into events. A new "id:" line also
// starts an event, so that recordings without blank lines parse too.
func parseNativeSSE(t *testing.T, body []byte) []nativeEvent {
	t.Helper()
	var evs []nativeEvent
	var cur *nativeEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			cur = nil
			continue
		}
		if strings.HasPrefix(line, "id:") || cur == nil {
			evs = append(evs, nativeEvent{})
			cur = &evs[len(evs)-1]
		}
		name, value, _ := strings.Cut(line, ":")
		if strings.HasPrefix(value, " ") {
			cur.spaced = true
		}
		switch name {
		case "id":
			cur.id = value
		case "event":
			cur.event = value
		case "data":
			cur.data = value
		case "":
			cur.status = value
		default:
			t.Errorf("unexpected SSE line %q", line)
		}
	}
	return evs
}

// compatEvents returns the data of each event of an OpenAI-style stream and
// checks its framing.
func compatEvents(t *testing.T, body []byte) []string {
	t.Helper()
	s := string(body)
	if !strings.HasSuffix(s, "data: [DONE]\n\n") {
		t.Errorf("stream does not end with data: [DONE]: %q", tail(s))
	}
	var out []string
	for _, ev := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("malformed event %q", ev)
		}
		out = append(out, data)
	}
	return out
}

func tail(s string) string {
	if len(s) > 80 {
		return s[len(s)-80:]
	}
	return s
}
