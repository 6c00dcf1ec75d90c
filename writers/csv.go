package writers

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// utf8BOM makes Excel open a CSV as UTF-8 instead of the legacy code page,
// which is what garbles Chinese text on double-click.
const utf8BOM = "\xEF\xBB\xBF"

// csvWriter writes CSV or TSV (encoding/csv with a tab separator). Lines end
// in LF; encoding/csv quotes fields that contain the separator, quotes,
// line breaks or a leading space.
type csvWriter struct {
	rowState
	buf    *bufio.Writer
	cw     *csv.Writer
	record []string // reused across rows
}

var _ Writer = (*csvWriter)(nil)

func newCSVWriter(out *output, header []string, comma rune, bom bool) (*csvWriter, error) {
	buf := bufio.NewWriterSize(out.w, bufSize)
	// csv.NewWriter reuses buf as is because it is already a large enough
	// *bufio.Writer, so there is a single layer of buffering.
	cw := csv.NewWriter(buf)
	cw.Comma = comma
	w := &csvWriter{
		rowState: rowState{out: out, header: header},
		buf:      buf,
		cw:       cw,
		record:   make([]string, len(header)),
	}
	if bom {
		if _, err := buf.WriteString(utf8BOM); err != nil {
			return nil, fmt.Errorf("write %s header: %w", out.name, err)
		}
	}
	if err := cw.Write(header); err != nil {
		return nil, fmt.Errorf("write %s header: %w", out.name, err)
	}
	return w, nil
}

// Write implements Writer.
func (w *csvWriter) Write(values []any) error {
	row, err := w.begin(values)
	if err != nil {
		return err
	}
	for i, v := range values {
		switch v := v.(type) {
		case string:
			w.record[i] = v
		case int64:
			w.record[i] = strconv.FormatInt(v, 10)
		case int:
			w.record[i] = strconv.Itoa(v)
		case float64:
			w.record[i] = formatFloat(v)
		case json.RawMessage:
			w.record[i] = rawText(v)
		case nil:
			w.record[i] = ""
		default:
			return w.typeErr(row, i, v)
		}
	}
	if err := w.cw.Write(w.record); err != nil {
		return fmt.Errorf("write %s row %d: %w", w.out.name, row, err)
	}
	w.rows = row
	return nil
}

// Close implements Writer.
func (w *csvWriter) Close() error {
	if w.finish() {
		return w.closedErr()
	}
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", w.out.name, err), w.out.discard())
	}
	return w.out.commit()
}

// Abort implements Writer. Buffered rows are dropped, not flushed.
func (w *csvWriter) Abort() error {
	if w.finish() {
		return nil
	}
	return w.out.discard()
}
