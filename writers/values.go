package writers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// bufSize is the write buffer for CSV and JSONL: large enough that a row
// rarely costs a syscall, small enough not to matter per writer.
const bufSize = 64 << 10

// rowState is the bookkeeping every writer shares: the header, the count of
// rows written and whether the writer is finished.
type rowState struct {
	out    *output
	header []string
	rows   int  // data rows accepted so far
	done   bool // Close or Abort has been called
}

// begin checks that a row may be written and returns its 1-based number.
func (s *rowState) begin(values []any) (int, error) {
	row := s.rows + 1
	if s.done {
		return row, fmt.Errorf("write %s row %d: %w", s.out.name, row, ErrClosed)
	}
	if len(values) != len(s.header) {
		return row, fmt.Errorf("write %s row %d: got %d values for %d columns", s.out.name, row, len(values), len(s.header))
	}
	return row, nil
}

// finish marks the writer done; it reports whether it already was.
func (s *rowState) finish() (already bool) {
	already, s.done = s.done, true
	return already
}

// closedErr is Close's answer when the writer is already finished.
func (s *rowState) closedErr() error {
	return fmt.Errorf("close %s: %w", s.out.name, ErrClosed)
}

// typeErr reports a value of a type outside the Writer contract. It is a
// programming error upstream, but it must still name the cell.
func (s *rowState) typeErr(row, col int, v any) error {
	return fmt.Errorf("write %s row %d column %q: unsupported value type %T (want string, int64, int, float64, json.RawMessage or nil)",
		s.out.name, row, s.header[col], v)
}

// rawText turns JSON text into cell text for formats without JSON types:
// a JSON string becomes its decoded value (no quotes, real newlines), any
// other JSON (numbers, booleans, objects) stays as written.
func rawText(raw json.RawMessage) string {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var s string
		if err := json.Unmarshal(trimmed, &s); err == nil {
			return s
		}
	}
	return string(raw)
}

// formatFloat writes floats without exponent or trailing zeros, so 0.1
// stays "0.1" and 3 stays "3" in text formats.
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// isFinite reports whether v can be written as a JSON or spreadsheet number.
func isFinite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}
