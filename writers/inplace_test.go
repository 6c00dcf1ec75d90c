package writers

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// inplaceCols is the used range compared cell by cell.
const inplaceCols, inplaceRows = 8, 12

// buildInplaceWorkbook writes the fixture of the in-place tests: two
// sheets with a header fill, a number format, a date, a formula with a
// number result and one with a text result, a shared string used twice,
// merged ranges, column widths and a row height.
func buildInplaceWorkbook(t testing.TB, path string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "Products"))
	_, err := f.NewSheet("Notes")
	must(err)

	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFFF00"}}})
	must(err)
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	must(err)
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	must(err)
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	must(err)

	p := "Products"
	must(f.SetSheetRow(p, "A1", &[]any{"SKU", "名称", "描述", "价格", "上架日期", "总价", "标记", "备注"}))
	must(f.SetCellStyle(p, "A1", "H1", header))
	rows := [][]any{
		{"SKU-2024-0001", "红色连衣裙", "夏季新款，纯棉", 598.0, time.Date(2025, 3, 12, 0, 0, 0, 0, time.UTC), nil, "新品", "限时"},
		{"SKU-2024-0002", "蓝色衬衫", "红色连衣裙", 1234.5, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), nil, "", ""},
		{"SKU-2024-0003", "  白色T恤 ", 12345, 99.0, time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC), nil, "新品", "含税"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		must(f.SetSheetRow(p, cell, &r))
		n := i + 2
		must(f.SetCellFormula(p, fmt.Sprintf("F%d", n), fmt.Sprintf("D%d*2", n)))
		must(f.SetCellStyle(p, fmt.Sprintf("C%d", n), fmt.Sprintf("C%d", n), wrap))
		must(f.SetCellStyle(p, fmt.Sprintf("D%d", n), fmt.Sprintf("D%d", n), money))
		must(f.SetCellStyle(p, fmt.Sprintf("E%d", n), fmt.Sprintf("E%d", n), date))
	}
	// A text-valued formula in the column being translated.
	must(f.SetCellFormula(p, "B5", `"合计："&TEXT(SUM(D2:D4),"0")`))
	must(f.SetCellStr(p, "A5", "合计"))
	// H2:H3 merged, and a title across B7:C7. (A hidden cell with a value
	// cannot be made with excelize; TestRewriteForeign has one.)
	must(f.MergeCell(p, "H2", "H3"))
	must(f.SetCellStr(p, "B7", "说明：价格含税"))
	must(f.MergeCell(p, "B7", "C7"))
	must(f.SetColWidth(p, "B", "B", 24))
	must(f.SetColWidth(p, "C", "C", 40))
	must(f.SetRowHeight(p, 1, 30))

	n := "Notes"
	must(f.SetSheetRow(n, "A1", &[]any{"名称", "内容"}))
	must(f.SetSheetRow(n, "A2", &[]any{"红色连衣裙", "不要翻译这个工作表"}))
	must(f.SetCellStyle(n, "A1", "B1", header))
	must(f.SetColWidth(n, "B", "B", 33))
	must(f.MergeCell(n, "A4", "B4"))
	must(f.SaveAs(path))
}

func ptr[T any](v T) *T { return &v }

func TestWorkbookDataCells(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.xlsx")
	buildInplaceWorkbook(t, src)
	w, err := OpenWorkbook(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	if got := w.Sheets(); !reflect.DeepEqual(got, []string{"Products", "Notes"}) {
		t.Errorf("Sheets() = %q", got)
	}
	for name, want := range map[string]string{"名称": "B", " 描述 ": "C", "备注": "H"} {
		if got, err := w.HeaderColumn("Products", name); err != nil || got != want {
			t.Errorf("HeaderColumn(%q) = %q, %v; want %q", name, got, err, want)
		}
	}

	type cell struct {
		Cell, Value, Formula    string
		Text, Number, IsFormula bool
	}
	list := func(col string) []cell {
		var got []cell
		for c, err := range w.DataCells(context.Background(), "Products", col) {
			if err != nil {
				t.Fatal(err)
			}
			if c.Row != rowOf(t, c.Cell) {
				t.Errorf("%s: Row = %d", c.Cell, c.Row)
			}
			got = append(got, cell{c.Cell, c.Value, c.Formula, c.IsText(), c.IsNumber(), c.IsFormula()})
		}
		return got
	}
	tests := []struct {
		col  string
		want []cell
	}{
		{"B", []cell{
			{"B2", "红色连衣裙", "", true, false, false},
			{"B3", "蓝色衬衫", "", true, false, false},
			{"B4", "  白色T恤 ", "", true, false, false},
			{"B5", "", `"合计："&TEXT(SUM(D2:D4),"0")`, false, false, true},
			{"B7", "说明：价格含税", "", true, false, false},
		}},
		{"C", []cell{ // C7 is hidden under B7:C7
			{"C2", "夏季新款，纯棉", "", true, false, false},
			{"C3", "红色连衣裙", "", true, false, false},
			{"C4", "12345", "", false, true, false},
		}},
		{"E", []cell{
			{"E2", "45728", "", false, true, false},
			{"E3", "45748", "", false, true, false},
			{"E4", "45797", "", false, true, false},
		}},
		{"F", []cell{
			{"F2", "", "D2*2", false, false, true},
			{"F3", "", "D3*2", false, false, true},
			{"F4", "", "D4*2", false, false, true},
		}},
		{"H", []cell{
			{"H2", "限时", "", true, false, false},
			{"H4", "含税", "", true, false, false},
		}},
		{"Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.col, func(t *testing.T) {
			if got := list(tt.col); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DataCells(%s):\n got %+v\nwant %+v", tt.col, got, tt.want)
			}
		})
	}

	// Stopping early and a cancelled context.
	for range w.DataCells(context.Background(), "Products", "B") {
		break
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range w.DataCells(ctx, "Products", "A") {
		// Only 6 rows: the context is checked every 1024 rows, so this
		// just must not misbehave.
	}
}

func rowOf(t *testing.T, cell string) int {
	t.Helper()
	_, r, err := excelize.CellNameToCoordinates(cell)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWorkbookErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.xlsx")
	buildInplaceWorkbook(t, src)
	w, err := OpenWorkbook(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unknown header", func() error { _, err := w.HeaderColumn("Products", "Name"); return err }(),
			`in.xlsx: sheet "Products": no column headed "Name" in row 1; headers are "SKU", "名称", "描述", "价格", "上架日期", "总价", "标记", "备注"`},
		{"unknown sheet", func() error { _, err := w.HeaderColumn("Sheet1", "名称"); return err }(),
			`in.xlsx: no sheet "Sheet1": the workbook has "Products", "Notes"`},
		{"bad column", firstErr(w.DataCells(context.Background(), "Products", "B7")),
			`in.xlsx: sheet "Products" column B7: invalid column name "B7"`},
		{"data cells of unknown sheet", firstErr(w.DataCells(context.Background(), "Nope", "B")),
			`in.xlsx: no sheet "Nope"`},
		{"set formula", w.Set(CellEdit{"Products", "F2", "x"}),
			`in.xlsx: sheet "Products" cell F2: the cell holds the formula =D2*2: overwriting it would destroy the formula`},
		{"set hidden merged cell", w.Set(CellEdit{"Products", "C7", "x"}),
			`in.xlsx: sheet "Products" cell C7: the cell is hidden under a merged range: set the range's top-left cell`},
		{"set bad reference", w.Set(CellEdit{"Products", "7B", "x"}),
			`in.xlsx: sheet "Products" cell 7B: cannot convert cell "7B" to coordinates: invalid cell name "7B"`},
		{"set unknown sheet", w.Set(CellEdit{"Nope", "A1", "x"}),
			`in.xlsx: no sheet "Nope"`},
		{"set too long", w.Set(CellEdit{"Products", "B2", strings.Repeat("😀", 16384)}),
			`in.xlsx: sheet "Products" cell B2: text of 32768 characters is over Excel's limit of 32767 per cell`},
		{"save over the input", w.SaveAs(context.Background(), src),
			`save ` + src + `: that is the input workbook: write the translation to a new file`},
		{"save as csv", w.SaveAs(context.Background(), filepath.Join(dir, "out.csv")),
			`the output must be an .xlsx file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %s", tt.err, tt.want)
			}
		})
	}

	dup := filepath.Join(dir, "dup.xlsx")
	f := excelize.NewFile()
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"名称", "x", "名称"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(dup); err != nil {
		t.Fatal(err)
	}
	wd, err := OpenWorkbook(context.Background(), dup)
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Close()
	_, err = wd.HeaderColumn("Sheet1", "名称")
	if want := `header "名称" heads both column A and C: rename one, or pass the column letter`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("duplicate header: error = %v, want %s", err, want)
	}

	for _, tt := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.xlsx"), "no such file or directory"},
		{filepath.Join(dir, "in.xls"), "in-place editing needs an .xlsx workbook"},
		{writeText(t, dir, "fake.xlsx", "a,b\n1,2\n"), "is it a valid, unencrypted .xlsx file?"},
	} {
		if _, err := OpenWorkbook(context.Background(), tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenWorkbook(%s) error = %v, want it to contain %q", tt.path, err, tt.want)
		}
	}
}

func firstErr(seq func(func(DataCell, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeText(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRewriteXLSX(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.xlsx"), filepath.Join(dir, "out", "out.xlsx")
	buildInplaceWorkbook(t, src)
	srcBytes := readBytes(t, src)

	// Translate the text cells of 名称 and 描述, as the pipeline will.
	w, err := OpenWorkbook(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]string{}
	for _, header := range []string{"名称", "描述"} {
		col, err := w.HeaderColumn("Products", header)
		if err != nil {
			t.Fatal(err)
		}
		for c, err := range w.DataCells(context.Background(), "Products", col) {
			if err != nil {
				t.Fatal(err)
			}
			if c.IsText() {
				edits[c.Cell] = "EN " + strings.TrimSpace(c.Value)
			}
		}
	}
	w.Close()
	// A value that looks like a formula stays text.
	edits["B3"] = "=1+1"
	want := map[string]string{"B2": "EN 红色连衣裙", "B3": "=1+1", "B4": "EN 白色T恤", "B7": "EN 说明：价格含税", "C2": "EN 夏季新款，纯棉", "C3": "EN 红色连衣裙"}
	if !reflect.DeepEqual(edits, want) {
		t.Fatalf("edits = %q, want %q", edits, want)
	}
	seq := func(yield func(CellEdit) bool) {
		for _, cell := range slices.Sorted(mapsKeys(edits)) {
			if !yield(CellEdit{"Products", cell, edits[cell]}) {
				return
			}
		}
	}
	if err := RewriteXLSX(context.Background(), src, dst, seq); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(readBytes(t, src), srcBytes) {
		t.Fatal("the source file changed")
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != outputMode {
		t.Errorf("stat %s: %v, %v; want mode %v", dst, fi, err, os.FileMode(outputMode))
	}
	assertNoTemp(t, filepath.Dir(dst))

	a, b := openX(t, src), openX(t, dst)
	for _, sheet := range []string{"Products", "Notes"} {
		for row := 1; row <= inplaceRows; row++ {
			for col := 1; col <= inplaceCols; col++ {
				cell, _ := excelize.CoordinatesToCellName(col, row)
				before, after := cellState(t, a, sheet, cell), cellState(t, b, sheet, cell)
				if v, ok := edits[cell]; ok && sheet == "Products" {
					before.value, before.typ = v, excelize.CellTypeSharedString
				}
				if cell == "C7" && sheet == "Products" {
					before.value = edits["B7"] // excelize reads a hidden merged cell as its range's top-left
				}
				if before != after {
					t.Errorf("%s!%s: got %+v, want %+v", sheet, cell, after, before)
				}
			}
		}
		// GetRows streams each cell's own value, where GetCellValue
		// reports a hidden merged cell as its range's top-left.
		ra, err1 := a.GetRows(sheet, excelize.Options{RawCellValue: true})
		rb, err2 := b.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if sheet == "Products" {
			for cell, v := range edits {
				c, r, _ := excelize.CellNameToCoordinates(cell)
				ra[r-1][c-1] = v
			}
		}
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("%s rows:\n got %q\nwant %q", sheet, rb, ra)
		}
		for col := 'A'; col <= 'H'; col++ {
			wa, _ := a.GetColWidth(sheet, string(col))
			wb, err := b.GetColWidth(sheet, string(col))
			if err != nil || wa != wb {
				t.Errorf("%s column %c width = %v, %v; want %v", sheet, col, wb, err, wa)
			}
		}
		ma, _ := a.GetMergeCells(sheet, true)
		mb, err := b.GetMergeCells(sheet, true)
		if err != nil || !reflect.DeepEqual(ma, mb) || len(ma) == 0 {
			t.Errorf("%s merged ranges = %v, %v; want %v", sheet, mb, err, ma)
		}
	}
	if h, err := b.GetRowHeight("Products", 1); err != nil || h != 30 {
		t.Errorf("row 1 height = %v, %v; want 30", h, err)
	}
	if got, _ := b.GetCellValue("Products", "E2"); got != "2025-03-12" {
		t.Errorf("E2 formatted = %q, want the date format kept", got)
	}
	if got, _ := b.GetCellValue("Products", "D3"); got != "1,234.50" {
		t.Errorf("D3 formatted = %q, want the number format kept", got)
	}

	// Which parts of the package changed: the untouched sheet must be
	// byte-identical; the list is a golden file so that an excelize
	// upgrade that re-encodes more is noticed.
	pa, pb := zipParts(t, src), zipParts(t, dst)
	if !slices.Equal(pa["xl/worksheets/sheet2.xml"], pb["xl/worksheets/sheet2.xml"]) {
		t.Error("the untouched sheet's XML changed")
	}
	goldenAt(t, filepath.Join("testdata", "inplace", "changed_parts.golden"), []byte(diffParts(pa, pb)))
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

type cellInfo struct {
	value, formula string
	typ            excelize.CellType
	style          int
}

func cellState(t *testing.T, f *excelize.File, sheet, cell string) cellInfo {
	t.Helper()
	var c cellInfo
	var err1, err2, err3, err4 error
	c.value, err1 = f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	c.formula, err2 = f.GetCellFormula(sheet, cell)
	c.typ, err3 = f.GetCellType(sheet, cell)
	c.style, err4 = f.GetCellStyle(sheet, cell)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatalf("%s!%s: %v", sheet, cell, err)
	}
	if c.typ == excelize.CellTypeInlineString {
		c.typ = excelize.CellTypeSharedString // how the text is stored is not the content
	}
	return c
}

func openX(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zipParts(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	parts := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		parts[zf.Name] = b
	}
	return parts
}

// diffParts lists each part as "same", "changed", "added" or "removed".
func diffParts(a, b map[string][]byte) string {
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	var lines []string
	for n := range names {
		pa, inA := a[n]
		pb, inB := b[n]
		state := "same"
		switch {
		case !inA:
			state = "added"
		case !inB:
			state = "removed"
		case !slices.Equal(pa, pb):
			state = "changed"
		}
		lines = append(lines, fmt.Sprintf("%-8s %s", state, n))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

func goldenAt(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestRewriteXLSXRefusals(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.xlsx")
	buildInplaceWorkbook(t, src)
	link := filepath.Join(dir, "link.xlsx")
	if err := os.Symlink(src, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.xlsx")
	if err := os.Link(src, hard); err != nil {
		t.Fatal(err)
	}
	srcBytes := readBytes(t, src)
	one := func(e CellEdit) func(func(CellEdit) bool) {
		return func(yield func(CellEdit) bool) { yield(e) }
	}
	ok := one(CellEdit{"Products", "B2", "dress"})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	many := func(yield func(CellEdit) bool) {
		for i := range 1000 {
			if !yield(CellEdit{"Products", fmt.Sprintf("A%d", 20+i), "x"}) {
				return
			}
		}
	}

	tests := []struct {
		name     string
		ctx      context.Context
		src, dst string
		edits    func(func(CellEdit) bool)
		want     string
	}{
		{"same path", context.Background(), src, src, ok, "that is the input workbook"},
		{"same file, relative path", context.Background(), src, filepath.Join(dir, ".", "x", "..", "in.xlsx"), ok, "that is the input workbook"},
		{"symlink to the input", context.Background(), src, link, ok, "that is the input workbook"},
		{"hard link to the input", context.Background(), src, hard, ok, "that is the input workbook"},
		{"refused edit writes nothing", context.Background(), src, filepath.Join(dir, "out1.xlsx"), one(CellEdit{"Products", "F2", "x"}), "holds the formula"},
		{"cancelled before opening", cancelled, src, filepath.Join(dir, "out2.xlsx"), ok, "context canceled"},
		{"cancelled between edits", cancelledAfter(2), src, filepath.Join(dir, "out3.xlsx"), many, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := RewriteXLSX(tt.ctx, tt.src, tt.dst, tt.edits)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if tt.dst != src && tt.dst != link && tt.dst != hard {
				if _, err := os.Stat(tt.dst); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists after a failed rewrite (%v)", tt.dst, err)
				}
			}
		})
	}
	if !slices.Equal(readBytes(t, src), srcBytes) {
		t.Error("the source file changed")
	}
	assertNoTemp(t, dir)
}

// cancelledAfter returns a context whose Err turns non-nil after n calls
// (RewriteXLSX checks once on opening, then every 256 edits),
// so the test cancels in the middle of the edits without goroutines or
// timing.
func cancelledAfter(n int) context.Context {
	return &countdownCtx{Context: context.Background(), left: n}
}

type countdownCtx struct {
	context.Context
	left int
}

func (c *countdownCtx) Err() error {
	if c.left--; c.left < 0 {
		return context.Canceled
	}
	return nil
}

// zipDir packs the files under dir (but not *.md) into an .xlsx at dst,
// [Content_Types].xml first as Excel writes it.
func zipDir(t *testing.T, dir, dst string) {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) != ".md" {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmpBool(b == "[Content_Types].xml", a == "[Content_Types].xml", strings.Compare(a, b))
	})
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(out)
	for _, n := range names {
		w, err := zw.Create(n)
		if err == nil {
			_, err = w.Write(readBytes(t, filepath.Join(dir, filepath.FromSlash(n))))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(zw.Close(), out.Close()); err != nil {
		t.Fatal(err)
	}
}

func cmpBool(a, b bool, then int) int {
	switch {
	case a && !b:
		return -1
	case b && !a:
		return 1
	}
	return then
}

// TestRewriteForeign edits a workbook written the way Excel writes one
// (testdata/inplace/foreign): Excel's namespaces and attributes, rich text,
// an inline string, shared formulas, a value hidden under a merged range,
// conditional formatting with an x14 extension, data validation, a frozen
// pane and a part excelize knows nothing about. The re-encoded sheet is a
// golden file, so what excelize keeps and drops is on record.
func TestRewriteForeign(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "foreign.xlsx"), filepath.Join(dir, "out.xlsx")
	zipDir(t, filepath.Join("testdata", "inplace", "foreign"), src)

	w, err := OpenWorkbook(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, col := range []string{"B", "C", "D"} {
		for c, err := range w.DataCells(context.Background(), "Data", col) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s %q text=%v number=%v formula=%q", c.Cell, c.Value, c.IsText(), c.IsNumber(), c.Formula))
		}
	}
	want := []string{
		`B2 "红色连衣裙" text=true number=false formula=""`,
		`B3 "蓝色衬衫" text=true number=false formula=""`,
		`B4 " 白色T恤 " text=true number=false formula=""`,
		`B5 "合并标题" text=true number=false formula=""`,
		`C2 "10.5" text=false number=true formula=""`,
		`C3 "3" text=false number=true formula=""`,
		`C4 "4" text=false number=true formula=""`,
		`D2 "21" text=false number=false formula="C2*2"`,
		`D3 "6" text=false number=false formula="C3*2"`,
		`D4 "8" text=false number=false formula="C4*2"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("data cells:\n got %q\nwant %q", got, want)
	}
	edits := map[string]string{"B2": "Red dress", "B3": "Blue shirt", "B4": " White T-shirt ", "B5": "Merged title"}
	for _, cell := range []string{"B2", "B3", "B4", "B5"} {
		if err := w.Set(CellEdit{"Data", cell, edits[cell]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.SaveAs(context.Background(), dst); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	b := openX(t, dst)
	rows, err := b.GetRows("Data", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{
		{"编号", "名称", "价格", "总价"},
		{"1", "Red dress", "10.5", "21"},
		{"2", "Blue shirt", "3", "6"},
		{"3", " White T-shirt ", "4", "8"},
		{"", "Merged title", "隐藏值"}, // the hidden C5 keeps its value
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("rows:\n got %q\nwant %q", rows, wantRows)
	}
	for cell, want := range map[string]string{"D2": "C2*2", "D3": "C3*2", "D4": "C4*2"} {
		if f, err := b.GetCellFormula("Data", cell); err != nil || f != want {
			t.Errorf("%s formula = %q, %v; want %q", cell, f, err, want)
		}
	}
	for cell, want := range map[string]int{"B2": 0, "B5": 3, "C2": 2, "A1": 1} {
		if s, err := b.GetCellStyle("Data", cell); err != nil || s != want {
			t.Errorf("%s style = %d, %v; want %d", cell, s, err, want)
		}
	}

	pa, pb := zipParts(t, src), zipParts(t, dst)
	// Parts excelize does not load travel as bytes. The ones it models
	// (content types, relationships, workbook, styles) are re-encoded on
	// every save, with the same content: the golden list records that.
	for _, part := range []string{"xl/worksheets/sheet2.xml", "customXml/item1.xml"} {
		if !slices.Equal(pa[part], pb[part]) {
			t.Errorf("%s changed", part)
		}
	}
	goldenAt(t, filepath.Join("testdata", "inplace", "foreign_changed_parts.golden"), []byte(diffParts(pa, pb)))
	goldenAt(t, filepath.Join("testdata", "inplace", "foreign_sheet1.golden.xml"), pb["xl/worksheets/sheet1.xml"])
}

// BenchmarkRewriteXLSX measures the whole in-place flow on a sheet of n
// rows × 6 columns (code, name, a 40-character description, number, date,
// formula): open, list the description column, replace every description,
// save. peak-MB is the largest heap in use seen while it runs (sampled
// every millisecond, so a lower bound), MB/10k-rows the same per 10,000
// rows. The process's resident size is higher than the heap: Go keeps
// freed memory for a while.
func BenchmarkRewriteXLSX(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			src, dst := filepath.Join(dir, "in.xlsx"), filepath.Join(dir, "out.xlsx")
			buildBenchWorkbook(b, src, n)
			fi, err := os.Stat(src)
			if err != nil {
				b.Fatal(err)
			}
			var peak uint64
			b.ResetTimer()
			for b.Loop() {
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				stop := sampleHeap(&peak, base.HeapInuse)
				err := rewriteColumn(src, dst, "C")
				stop()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
			b.ReportMetric(float64(peak)/1e6, "peak-MB")
			b.ReportMetric(float64(peak)/1e6/(float64(n)/10_000), "MB/10k-rows")
		})
	}
}

// rewriteColumn is the flow the translate command runs.
func rewriteColumn(src, dst, col string) error {
	ctx := context.Background()
	w, err := OpenWorkbook(ctx, src)
	if err != nil {
		return err
	}
	defer w.Close()
	for c, err := range w.DataCells(ctx, "Sheet1", col) {
		if err != nil {
			return err
		}
		if c.IsText() {
			if err := w.Set(CellEdit{"Sheet1", c.Cell, "Translated: " + c.Value}); err != nil {
				return err
			}
		}
	}
	return w.SaveAs(ctx, dst)
}

// sampleHeap records the largest HeapInuse above base into *peak until the
// returned stop is called.
func sampleHeap(peak *uint64, base uint64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base && m.HeapInuse-base > *peak {
				*peak = m.HeapInuse - base
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func buildBenchWorkbook(b *testing.B, path string, n int) {
	b.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		b.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"SKU", "名称", "描述", "价格", "日期", "总价"}); err != nil {
		b.Fatal(err)
	}
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := i + 2
		cell, _ := excelize.CoordinatesToCellName(1, r)
		row := []any{
			fmt.Sprintf("SKU-%07d", i),
			fmt.Sprintf("商品名称%d", i),
			fmt.Sprintf("这是第%d件商品的描述，纯棉面料，夏季新款，舒适透气。", i),
			float64(i%1000) + 0.5,
			excelize.Cell{StyleID: dateStyle, Value: day.AddDate(0, 0, i%365)},
			excelize.Cell{Formula: fmt.Sprintf("D%d*2", r)},
		}
		if err := sw.SetRow(cell, row); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
}
