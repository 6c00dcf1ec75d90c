package readers

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxReader reads one sheet of an Excel workbook with excelize's streaming
// Rows iterator.
//
// Memory: the iterator decodes the sheet XML as a stream (excelize unpacks a
// sheet larger than 16 MB to a temporary file instead of memory), but the
// shared strings table, which holds the text of every cell in the workbook,
// is loaded whole (or, above 16 MB, indexed in a temporary file). That is
// accepted: it is bounded by the workbook, and Excel itself needs it.
type xlsxReader struct {
	name    string // base name of the file
	sheet   string
	remove  string // temporary copy of stdin to delete on Close, or ""
	f       *excelize.File
	rows    *excelize.Rows
	columns []string
	rowNum  int // Excel row number of the row the iterator is on
	total   int
	totalOK bool
	index   int
	reads   int
	err     error // sticky: io.EOF or a fatal error
}

var _ Reader = (*xlsxReader)(nil)

// xlsxOptions are the excelize options for reading.
//
// Cells come out formatted as Excel shows them (RawCellValue stays false):
// "12.50%", "1,234.57", "2024-03-05" for a yyyy-mm-dd date. The exception is
// Excel's built-in format 14 (and 22 with a time), the "system short date"
// most dates typed into Excel get: Excel shows it in the viewer's locale
// (3/5/2024 in the US, 2024/3/5 in China), and excelize falls back to the
// file format's nominal "mm-dd-yy", which no Excel shows and which is
// ambiguous. The unambiguous ISO form is what a model reads best.
//
// CultureInfo zh-CN gives the built-in formats 27-36 and 50-58 their
// meaning: those ids are reserved for East Asian locales, and files from a
// Chinese Excel use them for dates such as 2024年3月5日, which excelize
// would otherwise show as a bare serial number (45356).
var xlsxOptions = excelize.Options{ShortDatePattern: "yyyy-mm-dd", CultureInfo: excelize.CultureNameZhCN}

// openXLSX opens the workbook at path and reads the header of the sheet
// that opts.Sheet selects. name is used in keys and messages; remove, if
// set, is a temporary file that Close (or a failed open) deletes.
func openXLSX(ctx context.Context, path, name, remove string, opts Options) (_ *xlsxReader, err error) {
	r := &xlsxReader{name: name, remove: remove}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.f, err = excelize.OpenFile(path, xlsxOptions)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w (is it an .xlsx workbook? an old .xls must be saved as .xlsx first)", name, err)
	}
	if r.sheet, err = pickSheet(r.f.GetSheetList(), opts.Sheet, name); err != nil {
		return nil, err
	}

	// The dimension ("A1:F200") sits at the top of the sheet XML, so reading
	// it is cheap. Read it before the iterator opens the same sheet.
	lastRow := 0
	if ref, err := r.f.GetSheetDimension(r.sheet); err == nil {
		if _, end, ok := strings.Cut(ref, ":"); ok {
			_, lastRow, _ = excelize.CellNameToCoordinates(end)
		}
	}

	if r.rows, err = r.f.Rows(r.sheet); err != nil {
		return nil, fmt.Errorf("read %s sheet %s: %w", name, r.sheet, err)
	}
	header, err := r.nextNonEmpty()
	if err != nil {
		return nil, err
	}
	if header == nil {
		return nil, fmt.Errorf("sheet %s of %s is empty: expected a header row with the column names", r.sheet, name)
	}
	r.columns = headerNames(header)
	// An upper bound: blank rows inside the range are skipped by Read. A
	// single-cell or missing dimension says nothing (some writers always put
	// "A1" there), so Total stays unknown then.
	if lastRow >= r.rowNum {
		r.total, r.totalOK = lastRow-r.rowNum, true
	}
	return r, nil
}

// pickSheet resolves --sheet: a name (exact, then ignoring case as Excel
// does) or a 1-based index; "" is the first sheet in workbook order, which
// is not necessarily the one that was active when the file was saved.
func pickSheet(sheets []string, want, file string) (string, error) {
	if len(sheets) == 0 {
		return "", fmt.Errorf("%s has no sheets", file)
	}
	if want == "" {
		return sheets[0], nil
	}
	for _, s := range sheets {
		if s == want {
			return s, nil
		}
	}
	for _, s := range sheets {
		if strings.EqualFold(s, want) {
			return s, nil
		}
	}
	if i, err := strconv.Atoi(strings.TrimSpace(want)); err == nil && i >= 1 && i <= len(sheets) {
		return sheets[i-1], nil
	}
	quoted := make([]string, len(sheets))
	for i, s := range sheets {
		quoted[i] = strconv.Quote(s)
	}
	return "", fmt.Errorf("%s has no sheet %q; its sheets are %s (pass --sheet with a name or a 1-based index)", file, want, strings.Join(quoted, ", "))
}

// nextNonEmpty advances to the next row with a value and returns its cells
// (trailing empty cells dropped by excelize), or nil at the end.
func (r *xlsxReader) nextNonEmpty() ([]string, error) {
	for r.rows.Next() {
		// Next steps through every row number, including rows absent from
		// the file (for them Columns returns nothing), so counting the calls
		// gives the real Excel row number.
		r.rowNum++
		cells, err := r.rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("read %s sheet %s row %d: %w", r.name, r.sheet, r.rowNum, err)
		}
		if !blank(cells) {
			return cells, nil
		}
	}
	if err := r.rows.Error(); err != nil {
		return nil, fmt.Errorf("read %s sheet %s after row %d: %w", r.name, r.sheet, r.rowNum, err)
	}
	return nil, nil
}

// Columns returns the header names (deduplicated, never empty). The slice
// must not be modified.
func (r *xlsxReader) Columns() []string { return r.columns }

// Total returns the number of rows below the header within the sheet's
// recorded dimension. It is an upper bound when the sheet has blank rows,
// which Read skips, and unknown when the file records no dimension.
func (r *xlsxReader) Total() (int, bool) { return r.total, r.totalOK }

// Close closes the workbook (removing excelize's temporary files) and the
// temporary copy of stdin, if any.
func (r *xlsxReader) Close() error {
	var err error
	if r.rows != nil {
		err = r.rows.Close()
		r.rows = nil
	}
	if r.f != nil {
		if cerr := r.f.Close(); err == nil {
			err = cerr
		}
		r.f = nil
	}
	if r.remove != "" {
		if rerr := os.Remove(r.remove); rerr != nil && err == nil {
			err = rerr
		}
		r.remove = ""
	}
	return err
}

// Read returns the next non-empty row. Short rows are padded with ""; a row
// with values beyond the header's last column is returned as a *RowError.
func (r *xlsxReader) Read(ctx context.Context) (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	if r.reads%ctxCheckEvery == 0 {
		if err := ctx.Err(); err != nil {
			return Row{}, err
		}
	}
	r.reads++
	cells, err := r.nextNonEmpty()
	if err != nil {
		r.err = err
		return Row{}, err
	}
	if cells == nil {
		r.err = io.EOF
		return Row{}, r.err
	}
	n := len(r.columns)
	values := make([]string, n)
	copy(values, cells)
	row := Row{Index: r.index, Key: r.name + ":" + r.sheet + "!" + strconv.Itoa(r.rowNum), Values: values}
	r.index++
	if len(cells) > n && !blank(cells[n:]) {
		extra := n
		for extra < len(cells) && strings.TrimSpace(cells[extra]) == "" {
			extra++
		}
		cell, _ := excelize.CoordinatesToCellName(extra+1, r.rowNum)
		return row, &RowError{Row: row, Err: fmt.Errorf("%s sheet %s row %d: cell %s has a value but the header has only %d columns (add a header for it or clear the cell)", r.name, r.sheet, r.rowNum, cell, n)}
	}
	return row, nil
}
