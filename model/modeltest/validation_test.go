package modeltest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		key    string // Options.APIKey
		header string // Authorization; "" sends none
		want   int
	}{
		{"configured key", testKey, "Bearer " + testKey, 200},
		{"wrong key", testKey, "Bearer sk-other", 401},
		{"missing header", testKey, "", 401},
		{"any key accepted", "", "Bearer anything", 200},
		{"empty bearer", "", "Bearer ", 401},
		{"not bearer", "", "Basic dXNlcjpwYXNz", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{APIKey: tt.key})
			a := post(t, compatURL(s), compatReq, "Authorization", tt.header)
			if a.status != tt.want {
				t.Fatalf("compatible: status %d, want %d", a.status, tt.want)
			}
			if tt.want == 401 {
				m := decode(t, a.body)
				if str(m, "error.code") != "invalid_api_key" || str(m, "error.type") != "invalid_request_error" ||
					str(m, "error.message") != "Incorrect API key provided. " {
					t.Errorf("compatible body %s", a.body)
				}
			}
			a = post(t, nativeURL(s), nativeReq, "Authorization", tt.header)
			if a.status != tt.want {
				t.Fatalf("native: status %d, want %d", a.status, tt.want)
			}
			if tt.want == 401 {
				m := decode(t, a.body)
				if str(m, "code") != "InvalidApiKey" || str(m, "message") != "Invalid API-key provided." {
					t.Errorf("native body %s", a.body)
				}
			}
		})
	}
}

func TestModels(t *testing.T) {
	tests := []struct {
		name   string
		models []string
		model  string
		want   int
	}{
		{"default set takes qwen names", nil, "qwen3-235b-a22b", 200},
		{"default set takes deepseek", nil, "deepseek-v3", 200},
		{"default set refuses others", nil, "gpt-4o", 404},
		{"explicit list", []string{"qwen-max"}, "qwen-max", 200},
		{"explicit list refuses others", []string{"qwen-max"}, "qwen-plus", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{Models: tt.models})
			a := post(t, compatURL(s), `{"model":"`+tt.model+`","messages":[{"role":"user","content":"hi"}]}`)
			if a.status != tt.want {
				t.Fatalf("compatible: status %d: %s", a.status, a.body)
			}
			if tt.want == 404 {
				m := decode(t, a.body)
				want := "The model `" + tt.model + "` does not exist or you do not have access to it."
				if str(m, "error.code") != "model_not_found" || str(m, "error.message") != want {
					t.Errorf("compatible body %s", a.body)
				}
			}
			a = post(t, nativeURL(s), `{"model":"`+tt.model+`","input":{"prompt":"hi"}}`)
			if a.status != tt.want {
				t.Fatalf("native: status %d: %s", a.status, a.body)
			}
			if tt.want == 404 && str(decode(t, a.body), "code") != "ModelNotFound" {
				t.Errorf("native body %s", a.body)
			}
		})
	}
}

// TestValidation sends requests the service refuses with 400.
func TestValidation(t *testing.T) {
	s := start(t, Options{})
	user := `"messages":[{"role":"user","content":"hi"}]`
	long := strings.Repeat("word ", 40000) // 40 000 tokens, over qwen-max's 30 720
	tests := []struct {
		name, body, msg string
	}{
		{"malformed JSON", `{"model":"qwen-plus",`, "not valid JSON"},
		{"wrong type", `{"model":"qwen-plus",` + user + `,"temperature":"hot"}`, `Field "temperature" has the wrong type`},
		{"missing model", `{` + user + `}`, `"model" missing`},
		{"no messages", `{"model":"qwen-plus","messages":[]}`, "Content length must be greater than 0"},
		{"empty user content", `{"model":"qwen-plus","messages":[{"role":"user","content":""}]}`, "Content length must be greater than 0"},
		{"bad role", `{"model":"qwen-plus","messages":[{"role":"robot","content":"hi"}]}`, "Role of messages[0]"},
		{"temperature 2", `{"model":"qwen-plus",` + user + `,"temperature":2}`, "Range of temperature should be [0.0, 2.0)"},
		{"negative temperature", `{"model":"qwen-plus",` + user + `,"temperature":-0.1}`, "temperature"},
		{"top_p 0", `{"model":"qwen-plus",` + user + `,"top_p":0}`, "Range of top_p should be (0.0, 1.0]"},
		{"top_p above 1", `{"model":"qwen-plus",` + user + `,"top_p":1.01}`, "top_p"},
		{"max_tokens 0", `{"model":"qwen-plus",` + user + `,"max_tokens":0}`, "Range of max_tokens should be [1, 16384]"},
		{"max_tokens too large", `{"model":"qwen-max",` + user + `,"max_tokens":9000}`, "Range of max_tokens should be [1, 8192]"},
		{"n 5", `{"model":"qwen-plus",` + user + `,"n":5}`, "Range of n should be [1, 4]"},
		{"seed negative", `{"model":"qwen-plus",` + user + `,"seed":-1}`, "Range of seed"},
		{"seed too large", `{"model":"qwen-plus",` + user + `,"seed":2147483648}`, "Range of seed"},
		{"bad response_format", `{"model":"qwen-plus",` + user + `,"response_format":{"type":"yaml"}}`, "response_format"},
		{"json without keyword", `{"model":"qwen-plus",` + user + `,"response_format":{"type":"json_object"}}`,
			"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."},
		{"input too long", `{"model":"qwen-max","messages":[{"role":"user","content":"` + long + `"}]}`, "Range of input length should be [1, 30720]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, compatURL(s), tt.body)
			m := decode(t, a.body)
			if a.status != http.StatusBadRequest || str(m, "error.type") != "invalid_request_error" ||
				!strings.Contains(str(m, "error.message"), tt.msg) {
				t.Errorf("status %d body %s, want message containing %q", a.status, a.body, tt.msg)
			}
			if c := str(m, "error.code"); c != "invalid_parameter_error" && c != "BadRequest.EmptyModel" {
				t.Errorf("code %q", c)
			}
		})
	}
}

func TestNativeValidation(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		name, body, code, msg string
	}{
		{"no input", `{"model":"qwen-plus"}`, "BadRequest.EmptyInput", "input"},
		{"empty model", `{"input":{"prompt":"hi"}}`, "BadRequest.EmptyModel", "model"},
		{"bad result_format", `{"model":"qwen-plus","input":{"prompt":"hi"},"parameters":{"result_format":"xml"}}`, "InvalidParameter", "result_format"},
		{"temperature", `{"model":"qwen-plus","input":{"prompt":"hi"},"parameters":{"temperature":3}}`, "InvalidParameter", "temperature"},
		{"max_completion_tokens", `{"model":"qwen-plus","input":{"prompt":"hi"},"parameters":{"max_completion_tokens":-1}}`, "InvalidParameter", "max_tokens"},
		{"json keyword", `{"model":"qwen-plus","input":{"messages":[{"role":"user","content":"hi"}]},"parameters":{"response_format":{"type":"json_object"}}}`,
			"InvalidParameter", "must contain the word 'json'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, nativeURL(s), tt.body)
			m := decode(t, a.body)
			if a.status != http.StatusBadRequest || str(m, "code") != tt.code || !strings.Contains(str(m, "message"), tt.msg) {
				t.Errorf("status %d body %s", a.status, a.body)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	s := start(t, Options{})
	tests := []struct {
		name, method, path string
		body               string
		status             int
		compat             bool
	}{
		{"GET on compatible", http.MethodGet, CompatiblePath, "", 405, true},
		{"GET on native", http.MethodGet, NativePath, "", 405, false},
		{"unknown compatible path", http.MethodPost, "/compatible-mode/v1/embeddings", "{}", 404, true},
		{"unknown native path", http.MethodPost, "/api/v1/services/aigc/image-generation/generation", "{}", 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s.URL()+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testKey)
			resp, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			m := decode(t, b)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.compat && str(m, "error.message") == "" || !tt.compat && str(m, "message") == "" {
				t.Errorf("body %s", b)
			}
			if tt.status == 405 && resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	s := start(t, Options{})
	big := `{"model":"qwen-plus","messages":[{"role":"user","content":"` + strings.Repeat("a", MaxBodyBytes) + `"}]}`
	for _, url := range []string{compatURL(s), nativeURL(s)} {
		a := post(t, url, big)
		m := decode(t, a.body)
		if a.status != http.StatusRequestEntityTooLarge ||
			str(m, "code") != "BadRequest.TooLarge" && str(m, "error.code") != "BadRequest.TooLarge" {
			t.Errorf("%s: status %d body %s", url, a.status, a.body)
		}
	}
}
