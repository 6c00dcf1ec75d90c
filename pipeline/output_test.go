package pipeline

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"bulkgen/model"
	"bulkgen/readers"
)

func TestSchemaHeader(t *testing.T) {
	tests := []struct {
		name      string
		input     []string
		out       string
		reasoning bool
		want      []string
		wantErr   string
	}{
		{"plain", []string{"a", "b"}, "output", false,
			[]string{"a", "b", "output", "prompt_tokens", "completion_tokens", "total_tokens", "cost", "finish_reason", "error"}, ""},
		{"reasoning", []string{"a"}, "o", true,
			[]string{"a", "o", "prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens", "cost", "finish_reason", "error"}, ""},
		{"chained run prefixes added columns", []string{"a", "en", "prompt_tokens", "error"}, "label", false,
			[]string{"a", "en", "prompt_tokens", "error", "label", "label_prompt_tokens", "label_completion_tokens", "label_total_tokens", "label_cost", "label_finish_reason", "label_error"}, ""},
		{"output column exists", []string{"a", "output"}, "output", false, nil, "already an input column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSchema(tt.input, tt.out, tt.reasoning)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Header, tt.want) {
				t.Fatalf("header = %q\nwant     %q", s.Header, tt.want)
			}
		})
	}
}

func TestSchemaValues(t *testing.T) {
	s, _ := NewSchema([]string{"a", "n"}, "o", true)
	row := readers.Row{Values: []string{"x", "1.50"}, JSON: []json.RawMessage{nil, json.RawMessage("1.50")}}
	ok := Result{Row: row, Response: model.Response{Content: "hi", FinishReason: "stop",
		Usage: model.Usage{PromptTokens: 10, CompletionTokens: 4, TotalTokens: 14, ReasoningTokens: 2}}, Cost: 0.1 + 0.2, Priced: true}
	want := []any{"x", json.RawMessage("1.50"), "hi", int64(10), int64(4), int64(14), int64(2), 0.3, "stop", nil}
	if got := s.Values(ok); !reflect.DeepEqual(got, want) {
		t.Errorf("ok row = %#v\nwant %#v", got, want)
	}
	failed := Result{Row: readers.Row{Values: []string{"x", "2"}}, Err: errors.New("HTTP 400\nbad   thing")}
	want = []any{"x", "2", nil, nil, nil, nil, nil, nil, nil, "HTTP 400 bad thing"}
	if got := s.Values(failed); !reflect.DeepEqual(got, want) {
		t.Errorf("failed row = %#v\nwant %#v", got, want)
	}
	skipped := Result{Row: readers.Row{Values: []string{"", ""}}, Skipped: true}
	want = []any{"", "", nil, nil, nil, nil, nil, nil, FinishSkipped, nil}
	if got := s.Values(skipped); !reflect.DeepEqual(got, want) {
		t.Errorf("skipped row = %#v\nwant %#v", got, want)
	}
}

func TestSummaryLine(t *testing.T) {
	s := Summary(Snapshot{Written: 1234, OK: 1200, Failed: 30, Skipped: 4, PromptTokens: 1234567, CompletionTokens: 89, Requests: 1300, Retries: 70, Throttled: 12,
		Priced: true, Cost: 1.23456, FromStore: 3, SavedCost: 0.5}, "CNY")
	for _, want := range []string{"1,234 rows", "1,200 ok", "30 failed", "4 skipped", "1,234,567 in", "89 out", "12 throttled", "cost 1.2346 CNY", "0.5000 CNY saved", "3 from the store"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
}

// --omit-columns leaves input columns out of the header and the rows,
// frees their names for added columns, and names a column that is not
// there with the columns that are.
func TestSchemaOmitColumns(t *testing.T) {
	input := []string{"path", "text", "bytes"}
	s, err := NewSchemaWith(input, "text", SchemaOptions{Omit: []string{"text"}})
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"path", "bytes", "text", "prompt_tokens", "completion_tokens", "total_tokens", "cost", "finish_reason", "error"}
	if !reflect.DeepEqual(s.Header, wantHeader) {
		t.Fatalf("header = %q\nwant     %q", s.Header, wantHeader)
	}
	r := Result{Row: readers.Row{Values: []string{"a.md", "the whole document", "18"}},
		Response: model.Response{Content: "summary", FinishReason: "stop"}}
	got := s.Values(r)
	if len(got) != len(s.Header) || got[0] != "a.md" || got[1] != "18" || got[2] != "summary" {
		t.Fatalf("values = %#v", got)
	}

	_, err = NewSchemaWith(input, "o", SchemaOptions{Omit: []string{"txt"}})
	for _, want := range []string{`--omit-columns`, `no column "txt"`, `"path", "text", "bytes"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %s", err, want)
		}
	}
}

// The summary's first row error names the row once: reader errors that
// already start with the row's key are not prefixed again.
func TestFirstErrorNamesTheRowOnce(t *testing.T) {
	tests := []struct {
		key, err, want string
	}{
		{"docs/a.docx", "docs/a.docx: not a valid .docx", "docs/a.docx: not a valid .docx"},
		{"in.csv:12", "HTTP 400: bad request", "in.csv:12: HTTP 400: bad request"},
	}
	for _, tt := range tests {
		var s Stats
		s.rowWritten(Result{Row: readers.Row{Key: tt.key}, Err: errors.New(tt.err)})
		s.rowWritten(Result{Row: readers.Row{Key: "later"}, Err: errors.New("second")})
		if got := s.Snapshot().FirstError; got != tt.want {
			t.Errorf("FirstError = %q, want %q", got, tt.want)
		}
	}
}
