package writers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// In-place editing (issue #6): a copy of an XLSX workbook with some cells'
// text replaced and everything else kept — other cells, sheets, styles,
// number formats, merged ranges, formulas, column widths, and any part
// excelize does not understand.
//
// What survives byte for byte (TestRewriteXLSX, TestRewriteForeign):
// parts excelize does not load — sheets that were neither edited nor
// listed, drawings, custom XML — travel unchanged. The parts it models
// (content types, relationships, workbook, styles) are re-encoded on every
// save with the same content, and an edited sheet is re-encoded from
// excelize's model: values, styles, formulas (shared ones too), merges,
// widths, heights, panes, conditional formatting, data validation and
// extension lists stay; Excel's x14ac:dyDescent row hints are dropped and
// inline strings become shared strings. The shared-string table grows by
// the new strings (replaced ones stay, unreferenced, which Excel accepts).
//
// Memory: excelize keeps the whole package in memory — every part's
// uncompressed XML up to 16 MB each (bigger ones spill to temporary
// files) — and decodes each sheet it edits or lists completely. Measured
// with BenchmarkRewriteXLSX (open, list a column, replace it, save): a peak
// heap of about 75–80 MB per 10,000 rows of 6 columns, i.e. about 1.3 KB
// per cell of the edited sheet, linear in rows (100,000 rows: ~770 MB and
// ~15 s on 2 cores). Sheets that are not edited cost only their XML.
// Writing streams to the destination (see streamZip) and adds no copy of
// the archive.

// maxCellChars is Excel's limit on a cell's text, in UTF-16 code units.
const maxCellChars = 32767

// CellEdit is one cell to overwrite with text.
type CellEdit struct {
	Sheet string // sheet name as shown on its tab
	Cell  string // A1-style reference, e.g. "B7"
	Value string // written as text, never as a formula, even if it starts with "="
}

// DataCell is one non-empty cell below the header row, as listed by
// [Workbook.DataCells].
type DataCell struct {
	Cell string // A1-style reference
	Row  int    // 1-based
	// Value is the stored value: the text of a string cell, a number as
	// written in the file (a date is its serial number), or a formula's
	// cached result.
	Value   string
	Type    excelize.CellType
	Formula string // "" unless the cell holds a formula
}

// IsFormula reports whether the cell holds a formula. Such a cell must not
// be overwritten: its text is computed.
func (c DataCell) IsFormula() bool { return c.Formula != "" || c.Type == excelize.CellTypeFormula }

// IsText reports whether the cell holds a constant string, the only kind of
// cell worth translating.
func (c DataCell) IsText() bool {
	return !c.IsFormula() && (c.Type == excelize.CellTypeSharedString || c.Type == excelize.CellTypeInlineString)
}

// IsNumber reports whether the cell holds a constant number, including
// dates and times stored as serial numbers.
func (c DataCell) IsNumber() bool {
	return !c.IsFormula() && (c.Type == excelize.CellTypeUnset || c.Type == excelize.CellTypeNumber || c.Type == excelize.CellTypeDate)
}

// Workbook is an XLSX file opened for in-place editing. Open it with
// [OpenWorkbook], read with HeaderColumn and DataCells, change cells with
// Set, write the result with SaveAs, and always Close it. A Workbook is not
// safe for concurrent use.
type Workbook struct {
	path   string
	f      *excelize.File
	sheets map[string]bool
	merges map[string][][4]int // sheet → merged ranges as col1, row1, col2, row2
}

// OpenWorkbook opens an .xlsx file. The whole package is read into memory
// (see the comment at the top of this file), which is why ctx is only
// checked before starting.
func OpenWorkbook(ctx context.Context, path string) (*Workbook, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !strings.EqualFold(filepath.Ext(path), ".xlsx") {
		return nil, fmt.Errorf("open %s: in-place editing needs an .xlsx workbook (save .xls or .xlsm files as .xlsx first)", path)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w (is it a valid, unencrypted .xlsx file?)", path, err)
	}
	w := &Workbook{path: path, f: f, sheets: map[string]bool{}, merges: map[string][][4]int{}}
	for _, s := range f.GetSheetList() {
		w.sheets[s] = true
	}
	return w, nil
}

// Sheets returns the sheet names in tab order.
func (w *Workbook) Sheets() []string { return w.f.GetSheetList() }

func (w *Workbook) checkSheet(sheet string) error {
	if !w.sheets[sheet] {
		return fmt.Errorf("%s: no sheet %q: the workbook has %s", w.path, sheet, quoteList(w.f.GetSheetList()))
	}
	return nil
}

// HeaderColumn returns the column letter(s) of the header cell in row 1 of
// sheet whose text is name (surrounding spaces ignored). A name that is not
// there, or that heads two columns, is an error listing the headers.
func (w *Workbook) HeaderColumn(sheet, name string) (string, error) {
	if err := w.checkSheet(sheet); err != nil {
		return "", err
	}
	rows, err := w.f.Rows(sheet)
	if err != nil {
		return "", fmt.Errorf("%s: sheet %q: %w", w.path, sheet, err)
	}
	var header []string
	if rows.Next() {
		header, err = rows.Columns(excelize.Options{RawCellValue: true})
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("%s: sheet %q: read header row: %w", w.path, sheet, err)
	}
	want := strings.TrimSpace(name)
	col := 0
	for i, h := range header {
		if strings.TrimSpace(h) != want {
			continue
		}
		if col != 0 {
			a, _ := excelize.ColumnNumberToName(col)
			b, _ := excelize.ColumnNumberToName(i + 1)
			return "", fmt.Errorf("%s: sheet %q: header %q heads both column %s and %s: rename one, or pass the column letter", w.path, sheet, name, a, b)
		}
		col = i + 1
	}
	if col == 0 {
		var names []string
		for _, h := range header {
			if h = strings.TrimSpace(h); h != "" {
				names = append(names, h)
			}
		}
		return "", fmt.Errorf("%s: sheet %q: no column headed %q in row 1; headers are %s", w.path, sheet, name, quoteList(names))
	}
	return excelize.ColumnNumberToName(col)
}

// DataCells yields the non-empty cells of column col ("B") from row 2 down,
// with their type and formula so the caller can leave formulas and numbers
// alone. Cells hidden under a merged range (all but its top-left cell) are
// not listed: they are not shown and cannot be set. An error ends the
// sequence.
//
// Values are read by streaming the sheet's XML; the types come from
// excelize's decoded sheet, which this loads (and which editing needs
// anyway).
func (w *Workbook) DataCells(ctx context.Context, sheet, col string) iter.Seq2[DataCell, error] {
	return func(yield func(DataCell, error) bool) {
		fail := func(err error) { yield(DataCell{}, fmt.Errorf("%s: sheet %q column %s: %w", w.path, sheet, col, err)) }
		if err := w.checkSheet(sheet); err != nil {
			yield(DataCell{}, err)
			return
		}
		colNum, err := excelize.ColumnNameToNumber(col)
		if err != nil {
			fail(err)
			return
		}
		// Rows first: on a sheet not yet loaded it streams the original
		// XML; created after loading, it would first re-encode the whole
		// sheet into a second copy.
		rows, err := w.f.Rows(sheet)
		if err != nil {
			fail(err)
			return
		}
		defer rows.Close()                           // read-only: a close error cannot lose data
		if _, err := w.mergesOf(sheet); err != nil { // loads the sheet
			fail(err)
			return
		}
		for row := 1; rows.Next(); row++ {
			if row%1024 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			vals, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				fail(fmt.Errorf("row %d: %w", row, err))
				return
			}
			if row == 1 || colNum > len(vals) {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(colNum, row) // both in range
			if w.hidden(sheet, colNum, row) {
				continue
			}
			c := DataCell{Cell: cell, Row: row, Value: vals[colNum-1]}
			if c.Type, err = w.f.GetCellType(sheet, cell); err == nil {
				c.Formula, err = w.f.GetCellFormula(sheet, cell)
			}
			if err != nil {
				fail(fmt.Errorf("cell %s: %w", cell, err))
				return
			}
			if c.Value == "" && c.Formula == "" {
				continue // present in the XML but empty
			}
			if !yield(c, nil) {
				return
			}
		}
		if err := rows.Error(); err != nil {
			fail(err)
		}
	}
}

// Set writes e.Value as text into the cell, keeping the cell's style (its
// style index; a cell that has none takes its row's or column's, as in
// Excel). Rich-text formatting inside the old text (one bold word) is not
// kept: the new text is plain. It
// refuses, with an error naming the cell: an unknown sheet or bad
// reference, a cell holding a formula, a cell hidden under a merged range
// (excelize would silently write the range's top-left cell instead), and
// text over Excel's 32,767-character limit (excelize would truncate it).
func (w *Workbook) Set(e CellEdit) error {
	if err := w.checkSheet(e.Sheet); err != nil {
		return err
	}
	where := fmt.Sprintf("%s: sheet %q cell %s", w.path, e.Sheet, e.Cell)
	col, row, err := excelize.CellNameToCoordinates(e.Cell)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if _, err := w.mergesOf(e.Sheet); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if w.hidden(e.Sheet, col, row) {
		return fmt.Errorf("%s: the cell is hidden under a merged range: set the range's top-left cell", where)
	}
	if n := len(utf16.Encode([]rune(e.Value))); n > maxCellChars {
		return fmt.Errorf("%s: text of %d characters is over Excel's limit of %d per cell", where, n, maxCellChars)
	}
	formula, err := w.f.GetCellFormula(e.Sheet, e.Cell)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if formula != "" {
		return fmt.Errorf("%s: the cell holds the formula =%s: overwriting it would destroy the formula", where, formula)
	}
	// SetCellStr keeps a cell's style index; only a cell without one
	// inherits its row's or column's style (excelize cell.go:
	// prepareCellStyle). TestRewriteXLSX checks the index is unchanged.
	if err := w.f.SetCellStr(e.Sheet, e.Cell, e.Value); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// mergesOf returns the merged ranges of sheet, decoded once: Set consults
// them for every edit.
func (w *Workbook) mergesOf(sheet string) ([][4]int, error) {
	if m, ok := w.merges[sheet]; ok {
		return m, nil
	}
	mcs, err := w.f.GetMergeCells(sheet, true)
	if err != nil {
		return nil, err
	}
	m := make([][4]int, 0, len(mcs))
	for _, mc := range mcs {
		c1, r1, err1 := excelize.CellNameToCoordinates(mc.GetStartAxis())
		c2, r2, err2 := excelize.CellNameToCoordinates(mc.GetEndAxis())
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("merged range %s: %w", mc[0], err)
		}
		m = append(m, [4]int{min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)})
	}
	w.merges[sheet] = m
	return m, nil
}

// hidden reports whether a cell lies inside a merged range without being
// its top-left cell. mergesOf must have run for sheet.
func (w *Workbook) hidden(sheet string, col, row int) bool {
	for _, r := range w.merges[sheet] {
		if col >= r[0] && col <= r[2] && row >= r[1] && row <= r[3] && (col != r[0] || row != r[1]) {
			return true
		}
	}
	return false
}

// SaveAs writes the workbook to dst, which must be an .xlsx path other
// than the source (an edit must never destroy the original). The file
// appears complete or not at all: it is written to a temporary file in
// dst's directory and renamed. ctx is checked before writing; the write
// itself cannot be interrupted.
func (w *Workbook) SaveAs(ctx context.Context, dst string) error {
	if err := checkDest(w.path, dst); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	out, err := openOutput(dst, FormatXLSX, nil)
	if err != nil {
		return err
	}
	zw := newStreamZip(out.tmp, math.MaxUint32)
	w.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	if _, err := w.f.WriteToBuffer(); err != nil { // the buffer stays empty: zw writes to out.tmp
		return errors.Join(fmt.Errorf("write %s: %w", dst, err), out.discard())
	}
	return out.commit()
}

// Close releases the temporary files excelize made for large parts.
func (w *Workbook) Close() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", w.path, err)
	}
	return nil
}

// checkDest refuses a destination that is not .xlsx or that is the source
// itself, under any name (relative path, symlink, hard link).
func checkDest(src, dst string) error {
	if !strings.EqualFold(filepath.Ext(dst), ".xlsx") {
		return fmt.Errorf("save %s: the output must be an .xlsx file", dst)
	}
	same := func() bool {
		a, errA := filepath.Abs(src)
		b, errB := filepath.Abs(dst)
		if errA == nil && errB == nil && a == b {
			return true
		}
		fa, errA := os.Stat(src)
		fb, errB := os.Stat(dst)
		return errA == nil && errB == nil && os.SameFile(fa, fb)
	}
	if same() {
		return fmt.Errorf("save %s: that is the input workbook: write the translation to a new file", dst)
	}
	return nil
}

// RewriteXLSX copies the workbook src to dst with the cells of edits
// replaced (see [Workbook.Set] for what is refused). It stops at the first
// refused edit and writes nothing then; cancelling ctx stops it between
// edits. dst must differ from src.
func RewriteXLSX(ctx context.Context, src, dst string, edits iter.Seq[CellEdit]) (err error) {
	if err := checkDest(src, dst); err != nil {
		return err
	}
	w, err := OpenWorkbook(ctx, src)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, w.Close()) }()
	n := 0
	for e := range edits {
		if n++; n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := w.Set(e); err != nil {
			return err
		}
	}
	return w.SaveAs(ctx, dst)
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
