package writers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// jsonlWriter writes one JSON object per line with the keys in header
// order. The object is assembled by hand because encoding a map would sort
// the keys and lose the column order users expect.
type jsonlWriter struct {
	rowState
	buf     *bufio.Writer
	keys    [][]byte      // `"key":` per column, encoded once
	scratch bytes.Buffer  // target of enc, reused per value
	enc     *json.Encoder // strings and floats, HTML escaping off
	line    []byte        // the row being built, reused
}

var _ Writer = (*jsonlWriter)(nil)

func newJSONLWriter(out *output, header []string) (*jsonlWriter, error) {
	w := &jsonlWriter{
		rowState: rowState{out: out, header: header},
		buf:      bufio.NewWriterSize(out.w, bufSize),
		keys:     make([][]byte, len(header)),
	}
	w.enc = json.NewEncoder(&w.scratch)
	// Model output is full of <, > and &; the \u003c escapes that
	// encoding/json uses by default are valid but unreadable in a terminal.
	w.enc.SetEscapeHTML(false)
	for i, name := range header {
		k, err := w.encode(name)
		if err != nil {
			return nil, fmt.Errorf("write %s header column %q: %w", out.name, name, err)
		}
		w.keys[i] = append(append([]byte(nil), k...), ':')
	}
	return w, nil
}

// encode returns the JSON encoding of v; the slice is valid until the next
// call.
func (w *jsonlWriter) encode(v any) ([]byte, error) {
	w.scratch.Reset()
	if err := w.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(w.scratch.Bytes(), []byte{'\n'}), nil
}

// Write implements Writer.
func (w *jsonlWriter) Write(values []any) error {
	row, err := w.begin(values)
	if err != nil {
		return err
	}
	line := append(w.line[:0], '{')
	for i, v := range values {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, w.keys[i]...)
		line, err = w.appendValue(line, v)
		if err != nil {
			if errors.Is(err, errUnsupported) {
				return w.typeErr(row, i, v)
			}
			return fmt.Errorf("write %s row %d column %q: %w", w.out.name, row, w.header[i], err)
		}
	}
	line = append(line, '}', '\n')
	w.line = line
	if _, err := w.buf.Write(line); err != nil {
		return fmt.Errorf("write %s row %d: %w", w.out.name, row, err)
	}
	w.rows = row
	return nil
}

var errUnsupported = errors.New("unsupported value type")

func (w *jsonlWriter) appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		b, err := w.encode(v)
		return append(dst, b...), err
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case float64:
		if !isFinite(v) {
			// JSON has no NaN or Infinity; a string keeps the information
			// where null would silently lose it.
			b, err := w.encode(formatFloat(v))
			return append(dst, b...), err
		}
		b, err := w.encode(v)
		return append(dst, b...), err
	case json.RawMessage:
		return w.appendRaw(dst, v)
	default:
		return dst, errUnsupported
	}
}

// appendRaw inserts JSON text as is, except that it is compacted: a
// pretty-printed object would otherwise split the record over several lines
// and break the one-object-per-line format. Text that is not valid JSON is
// kept as a JSON string rather than corrupting the line.
func (w *jsonlWriter) appendRaw(dst []byte, raw json.RawMessage) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return append(dst, "null"...), nil // as json.Marshal treats an empty RawMessage
	}
	w.scratch.Reset()
	// json.Compact validates as it goes and, unlike json.Marshal, does not
	// HTML-escape.
	if err := json.Compact(&w.scratch, raw); err == nil {
		return append(dst, w.scratch.Bytes()...), nil
	}
	b, err := w.encode(string(raw))
	return append(dst, b...), err
}

// Close implements Writer.
func (w *jsonlWriter) Close() error {
	if w.finish() {
		return w.closedErr()
	}
	if err := w.buf.Flush(); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", w.out.name, err), w.out.discard())
	}
	return w.out.commit()
}

// Abort implements Writer. Buffered rows are dropped, not flushed.
func (w *jsonlWriter) Abort() error {
	if w.finish() {
		return nil
	}
	return w.out.discard()
}
