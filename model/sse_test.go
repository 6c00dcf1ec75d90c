package model

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readAllEvents(r io.Reader) ([]sseEvent, error) {
	s := newSSEReader(r)
	var out []sseEvent
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	type ev struct {
		id, event, data string
		status          int
	}
	tests := []struct {
		name string
		in   string
		want []ev
	}{
		{"spec framing", "id: 1\nevent: result\ndata: {\"a\":1}\n\nid: 2\ndata: {\"a\":2}\n\n",
			[]ev{{"1", "result", `{"a":1}`, 0}, {"2", "", `{"a":2}`, 0}}},
		{"dashscope framing", "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"a\":1}\n\n",
			[]ev{{"1", "result", `{"a":1}`, 200}}},
		// README limit 8: frames follow each other without blank lines.
		{"no blank lines", "id:1\nevent:result\ndata:A\nid:2\nevent:result\ndata:B\nid:3\nevent:error\ndata:C",
			[]ev{{"1", "result", "A", 0}, {"2", "result", "B", 0}, {"3", "error", "C", 0}}},
		{"no blank lines, event only", "event:result\ndata:A\nevent:result\ndata:B\n",
			[]ev{{"", "result", "A", 0}, {"", "result", "B", 0}}},
		{"status comment starts a frame", "data:A\n:HTTP_STATUS/400\ndata:B\n",
			[]ev{{"", "", "A", 0}, {"", "", "B", 400}}},
		{"leading empty line and BOM", "\ufeff\nid:1\ndata:A\n\n", []ev{{"1", "", "A", 0}}},
		{"BOM on first field", "\ufeffid:1\ndata:A\n\n", []ev{{"1", "", "A", 0}}},
		{"CRLF", "id: 1\r\ndata: A\r\n\r\ndata: B\r\n\r\n", []ev{{"1", "", "A", 0}, {"", "", "B", 0}}},
		{"multi-line data", "data: a\ndata: b\n\n", []ev{{"", "", "a\nb", 0}}},
		{"comments and unknown fields", ": ping\nretry: 10\nfoo: bar\ndata: x\n\n", []ev{{"", "", "x", 0}}},
		{"event without data is dropped", "id:1\nevent:result\n\nid:2\ndata:B\n\n", []ev{{"2", "", "B", 0}}},
		{"no final newline", "id:1\ndata:A", []ev{{"1", "", "A", 0}}},
		{"long line", "data:" + strings.Repeat("x", 1<<20) + "\n\n", []ev{{"", "", strings.Repeat("x", 1<<20), 0}}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time, so events split across reads are covered.
			got, err := readAllEvents(iotest.OneByteReader(strings.NewReader(tc.in)))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.ID != w.id || g.Event != w.event || string(g.Data) != w.data || g.Status != w.status {
					t.Errorf("event %d = {%q %q %.40q %d}, want {%q %q %.40q %d}",
						i, g.ID, g.Event, g.Data, g.Status, w.id, w.event, w.data, w.status)
				}
			}
		})
	}
}

func TestSSEReaderReadError(t *testing.T) {
	// A body cut short: the partial event must not be delivered.
	r := io.MultiReader(strings.NewReader("id:1\ndata:A\n\nid:2\ndata:{\"half"), iotest.ErrReader(io.ErrUnexpectedEOF))
	got, err := readAllEvents(r)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
	if len(got) != 1 || string(got[0].Data) != "A" {
		t.Errorf("events before the error = %+v, want just A", got)
	}
}
