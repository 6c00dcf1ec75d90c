package writers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

const (
	// defaultSheet is the sheet excelize.NewFile starts with.
	defaultSheet = "Sheet1"
	// widthSampleRows is how many data rows are held back to size the
	// columns: excelize's StreamWriter only accepts column widths before
	// the first row, and the header alone says little about the content.
	widthSampleRows = 100
	// Column widths in Excel character units.
	minColWidth = 8
	maxColWidth = 60
	// maxSizedCols bounds how many columns get a computed width; wider
	// sheets keep Excel's default for the rest.
	maxSizedCols = 256
	// maxWarnings bounds Warnings so a file where every cell is truncated
	// does not hold one message per row in memory.
	maxWarnings = 100
)

// xlsxWriter writes one worksheet with excelize's StreamWriter, which spills
// rows to a temporary file beyond 16 MB, so memory stays flat. The header
// row is bold and frozen. Strings are written as inline text cells, never
// as formulas, even when they start with "=".
//
// It implements Warner: text longer than Excel's 32,767-character cell
// limit is truncated and reported there.
type xlsxWriter struct {
	rowState
	file    *excelize.File
	sw      *excelize.StreamWriter
	bold    int
	cells   []any   // reused per row
	pending [][]any // first rows, held back to size the columns
	started bool    // header and column widths written

	maxDataRows    int   // Excel's row limit minus the header; tests lower it
	zip64Threshold int64 // see streamZip; tests lower it

	warnings []string
	dropped  int // warnings beyond maxWarnings
}

var (
	_ Writer = (*xlsxWriter)(nil)
	_ Warner = (*xlsxWriter)(nil)
)

func newXLSXWriter(out *output, header []string, sheet string) (*xlsxWriter, error) {
	if len(header) > excelize.MaxColumns {
		return nil, fmt.Errorf("create %s: %d columns, but Excel allows at most %d: write csv or jsonl instead", out.name, len(header), excelize.MaxColumns)
	}
	if sheet == "" {
		sheet = defaultSheet
	}
	f := excelize.NewFile()
	w, err := func() (*xlsxWriter, error) {
		if sheet != defaultSheet {
			if err := f.SetSheetName(defaultSheet, sheet); err != nil {
				return nil, fmt.Errorf("create %s: sheet name %q: %w (names have at most 31 characters and none of : \\ / ? * [ ])", out.name, sheet, err)
			}
		}
		bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
		if err != nil {
			return nil, fmt.Errorf("create %s: header style: %w", out.name, err)
		}
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return nil, fmt.Errorf("create %s: sheet %q: %w", out.name, sheet, err)
		}
		// Freeze the header so it stays visible while scrolling.
		if err := sw.SetPanes(&excelize.Panes{
			Freeze:      true,
			YSplit:      1,
			TopLeftCell: "A2",
			ActivePane:  "bottomLeft",
			Selection:   []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
		}); err != nil {
			return nil, fmt.Errorf("create %s: freeze header: %w", out.name, err)
		}
		return &xlsxWriter{
			rowState:    rowState{out: out, header: header},
			file:        f,
			sw:          sw,
			bold:        bold,
			cells:       make([]any, len(header)),
			maxDataRows: excelize.TotalRows - 1,
			// Entries above 4 GiB need ZIP64 headers.
			zip64Threshold: math.MaxUint32,
		}, nil
	}()
	if err != nil {
		_ = f.Close() // nothing was spilled yet; the construction error matters
		return nil, err
	}
	return w, nil
}

// Warnings implements Warner. It returns one entry per truncated cell, up to
// 100, plus a final count of the rest.
func (w *xlsxWriter) Warnings() []string {
	out := append([]string(nil), w.warnings...)
	if w.dropped > 0 {
		out = append(out, fmt.Sprintf("%d more cells truncated to Excel's %d-character limit", w.dropped, excelize.TotalCellChars))
	}
	return out
}

// Write implements Writer.
func (w *xlsxWriter) Write(values []any) error {
	row, err := w.begin(values)
	if err != nil {
		return err
	}
	if row > w.maxDataRows {
		return fmt.Errorf("write %s row %d: Excel sheets hold at most %d rows (%d data rows plus the header): write csv or jsonl instead",
			w.out.name, row, w.maxDataRows+1, w.maxDataRows)
	}
	cells := w.cells
	if !w.started {
		// Held-back rows need their own slice.
		cells = make([]any, len(values))
	}
	for i, v := range values {
		switch v := v.(type) {
		case string:
			cells[i] = w.text(row, i, v)
		case int64:
			cells[i] = v
		case int:
			cells[i] = int64(v)
		case float64:
			if isFinite(v) {
				cells[i] = v
			} else {
				// NaN/Inf are not valid cell numbers; excelize would write a
				// file Excel refuses to open.
				cells[i] = formatFloat(v)
			}
		case json.RawMessage:
			cells[i] = w.text(row, i, rawText(v))
		case nil:
			cells[i] = nil
		default:
			return w.typeErr(row, i, v)
		}
	}
	if !w.started {
		w.rows = row
		w.pending = append(w.pending, cells)
		if len(w.pending) < widthSampleRows {
			return nil
		}
		return w.start()
	}
	if err := w.setRow(row, cells); err != nil {
		return err
	}
	w.rows = row
	return nil
}

// text applies Excel's cell text limit, which counts UTF-16 code units.
// excelize would truncate silently; doing it here lets us say so.
func (w *xlsxWriter) text(row, col int, s string) string {
	if len(s) <= excelize.TotalCellChars {
		return s // fast path: bytes >= UTF-16 units
	}
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > excelize.TotalCellChars {
			total := utf16Len(s)
			w.warn(fmt.Sprintf("row %d column %q: text of %d characters truncated to Excel's %d limit",
				row, w.header[col], total, excelize.TotalCellChars))
			return s[:i]
		}
	}
	return s
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func (w *xlsxWriter) warn(msg string) {
	if len(w.warnings) < maxWarnings {
		w.warnings = append(w.warnings, msg)
		return
	}
	w.dropped++
}

// start sizes the columns from the header and the held-back rows, then
// writes them.
func (w *xlsxWriter) start() error {
	w.started = true
	// Walk right to left: excelize puts each new <col> in front of the
	// ones already set, and Excel wants them in ascending order. The
	// cost is quadratic in the column count, hence the cap.
	for i := min(len(w.header), maxSizedCols) - 1; i >= 0; i-- {
		cw := displayWidth(w.header[i]) + 3 // bold text is wider
		for _, r := range w.pending {
			cw = max(cw, cellWidth(r[i]))
		}
		cw = min(max(cw+2, minColWidth), maxColWidth)
		if err := w.sw.SetColWidth(i+1, i+1, float64(cw)); err != nil {
			return fmt.Errorf("write %s: column width: %w", w.out.name, err)
		}
	}
	head := make([]any, len(w.header))
	for i, name := range w.header {
		head[i] = excelize.Cell{StyleID: w.bold, Value: name}
	}
	if err := w.sw.SetRow("A1", head); err != nil {
		return fmt.Errorf("write %s header: %w", w.out.name, err)
	}
	first := w.rows - len(w.pending) + 1
	for i, cells := range w.pending {
		if err := w.setRow(first+i, cells); err != nil {
			return err
		}
	}
	w.pending = nil
	return nil
}

// setRow writes data row number row (1-based) below the header.
func (w *xlsxWriter) setRow(row int, cells []any) error {
	ref, err := excelize.CoordinatesToCellName(1, row+1)
	if err == nil {
		err = w.sw.SetRow(ref, cells)
	}
	if err != nil {
		return fmt.Errorf("write %s row %d: %w", w.out.name, row, err)
	}
	return nil
}

// Close implements Writer.
func (w *xlsxWriter) Close() error {
	if w.finish() {
		return w.closedErr()
	}
	if err := w.save(); err != nil {
		return errors.Join(err, w.out.discard())
	}
	return w.out.commit()
}

func (w *xlsxWriter) save() error {
	// excelize.File.Close removes the StreamWriter's spill file, so it must
	// run whatever happens.
	err := w.saveWorkbook()
	if cerr := w.file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", w.out.name, cerr)
	}
	return err
}

func (w *xlsxWriter) saveWorkbook() error {
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", w.out.name, err)
	}
	// WriteToBuffer drives the streamZip below, which writes straight into
	// the output file; the returned buffer stays empty.
	zw := newStreamZip(w.out.tmp, w.zip64Threshold)
	w.file.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	if _, err := w.file.WriteToBuffer(); err != nil {
		return fmt.Errorf("write %s: %w", w.out.name, err)
	}
	return nil
}

// Abort implements Writer.
func (w *xlsxWriter) Abort() error {
	if w.finish() {
		return nil
	}
	return errors.Join(w.file.Close(), w.out.discard())
}

// cellWidth estimates the display width of a cell value: its longest line,
// with CJK characters counting double.
func cellWidth(v any) int {
	switch v := v.(type) {
	case string:
		n := 0
		for line := range strings.Lines(v) {
			n = max(n, displayWidth(line))
			if n >= maxColWidth {
				break // enough: the column is capped anyway
			}
		}
		return n
	case excelize.Cell:
		return cellWidth(v.Value)
	case nil:
		return 0
	default:
		return len(fmt.Sprint(v))
	}
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
		if n >= maxColWidth {
			return n
		}
	}
	return n
}
