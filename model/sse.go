package model

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	ID    string
	Event string
	// Status is the HTTP status DashScope writes into a ":HTTP_STATUS/400"
	// comment line of each frame, 0 when there was none. An error frame
	// inside a 200 stream carries the real status only there.
	Status int
	Data   []byte
}

// sseReader reads server-sent events leniently enough for DashScope's
// native streams, which differ from the SSE spec in ways recorded in
// /work/shared/recorded-dashscope/README.md:
//   - no space after the colon ("data:{...}"), which the spec allows;
//   - frames not separated by blank lines: an "id" or "event" field, or an
//     HTTP_STATUS comment, after data has been read starts a new event;
//   - a leading empty line, a UTF-8 BOM, a last event without a final
//     newline.
//
// Lines may be of any length (a bufio.Scanner would cap them).
type sseReader struct {
	r       *bufio.Reader
	pending sseEvent
	started bool
	err     error
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReader(r)}
}

// Next returns the next event with data, or io.EOF after the last one, or
// the read error that cut the stream short (the partial event is dropped).
func (s *sseReader) Next() (sseEvent, error) {
	for s.err == nil {
		line, err := s.r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			s.err = err
			return sseEvent{}, err
		}
		if err == io.EOF {
			s.err = io.EOF
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		if ev, ok := s.line(line); ok {
			return ev, nil
		}
	}
	if s.err == io.EOF && len(s.pending.Data) > 0 {
		return s.take(), nil
	}
	return sseEvent{}, s.err
}

// line processes one line and reports a completed event, if any.
func (s *sseReader) line(line []byte) (sseEvent, bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if !s.started {
		s.started = true
		line = trimBOM(line)
	}
	if len(line) == 0 {
		if len(s.pending.Data) > 0 {
			return s.take(), true
		}
		s.pending = sseEvent{}
		return sseEvent{}, false
	}
	name, value, _ := bytes.Cut(line, []byte(":"))
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	var done sseEvent
	var ok bool
	if len(s.pending.Data) > 0 && (string(name) == "id" || string(name) == "event" || len(name) == 0 && bytes.HasPrefix(value, []byte("HTTP_STATUS/"))) {
		done, ok = s.take(), true
	}
	switch string(name) {
	case "":
		if st, found := bytes.CutPrefix(value, []byte("HTTP_STATUS/")); found {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(st))); err == nil {
				s.pending.Status = n
			}
		}
	case "id":
		s.pending.ID = string(value)
	case "event":
		s.pending.Event = string(value)
	case "data":
		if s.pending.Data != nil {
			s.pending.Data = append(s.pending.Data, '\n')
		}
		s.pending.Data = append(s.pending.Data, value...)
		if s.pending.Data == nil {
			s.pending.Data = []byte{}
		}
	}
	return done, ok
}

func (s *sseReader) take() sseEvent {
	ev := s.pending
	s.pending = sseEvent{}
	return ev
}
