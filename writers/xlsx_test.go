package writers

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// openXLSX reopens written bytes with excelize.
func openXLSX(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reopen xlsx: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestXLSXRoundTrip(t *testing.T) {
	f := openXLSX(t, writeFile(t, "out.xlsx", Options{}, sampleHeader, sampleRows()))
	const sheet = "Sheet1"
	if got := f.GetSheetList(); len(got) != 1 || got[0] != sheet {
		t.Fatalf("sheets = %v, want [%s]", got, sheet)
	}

	tests := []struct {
		cell     string
		want     string // raw cell value
		wantType excelize.CellType
	}{
		// Header.
		{"A1", "id", excelize.CellTypeInlineString},
		{"G1", "名称", excelize.CellTypeInlineString},
		// Numbers are stored without a type attribute, which is how
		// OOXML marks numeric cells (CellTypeUnset in excelize).
		{"A2", "1", excelize.CellTypeUnset},
		{"C2", "42", excelize.CellTypeUnset},
		{"D2", "0.5", excelize.CellTypeUnset},
		{"A4", "3", excelize.CellTypeUnset}, // int
		{"C5", "9007199254740993", excelize.CellTypeUnset},
		{"D4", "0.0000001", excelize.CellTypeUnset},
		// Strings.
		{"B2", "plain", excelize.CellTypeInlineString},
		{"G2", "王小明", excelize.CellTypeInlineString},
		{"B3", "line1\nline2", excelize.CellTypeInlineString},
		{"B5", "<b>Tom & Jerry</b>", excelize.CellTypeInlineString},
		{"G4", " leading space", excelize.CellTypeInlineString},
		{"G6", "emoji 😀", excelize.CellTypeInlineString},
		// Formula-looking text stays text.
		{"B6", "=SUM(A1:A2)", excelize.CellTypeInlineString},
		// JSON: strings decoded, everything else as written.
		{"E2", `{"b": [1, 2], "a": "<x> & y"}`, excelize.CellTypeInlineString},
		{"E3", "decoded \"quoted\"\nnext", excelize.CellTypeInlineString},
		{"E4", "true", excelize.CellTypeInlineString},
		{"E5", "not json", excelize.CellTypeInlineString},
		// nil leaves the cell empty; "" is an empty text cell.
		{"F2", "", excelize.CellTypeUnset},
	}
	for _, tt := range tests {
		t.Run(tt.cell, func(t *testing.T) {
			got, err := f.GetCellValue(sheet, tt.cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("value = %q, want %q", got, tt.want)
			}
			typ, err := f.GetCellType(sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.wantType {
				t.Errorf("type = %v, want %v", typ, tt.wantType)
			}
			formula, err := f.GetCellFormula(sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			if formula != "" {
				t.Errorf("cell has formula %q, want none", formula)
			}
		})
	}

	t.Run("header bold, data not", func(t *testing.T) {
		for _, c := range []struct {
			cell string
			bold bool
		}{{"A1", true}, {"G1", true}, {"A2", false}, {"B3", false}} {
			id, err := f.GetCellStyle(sheet, c.cell)
			if err != nil {
				t.Fatal(err)
			}
			st, err := f.GetStyle(id)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Font != nil && st.Font.Bold; got != c.bold {
				t.Errorf("%s bold = %v, want %v", c.cell, got, c.bold)
			}
		}
	})

	t.Run("header frozen", func(t *testing.T) {
		p, err := f.GetPanes(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Freeze || p.YSplit != 1 || p.XSplit != 0 || p.TopLeftCell != "A2" {
			t.Errorf("panes = %+v, want header row frozen", p)
		}
	})

	t.Run("row count", func(t *testing.T) {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1+len(sampleRows()) {
			t.Errorf("got %d rows, want %d", len(rows), 1+len(sampleRows()))
		}
	})
}

func TestXLSXEmptyStringCell(t *testing.T) {
	// Row 3 of the sample has "" in column F: present but empty.
	f := openXLSX(t, writeFile(t, "out.xlsx", Options{}, sampleHeader, sampleRows()))
	got, err := f.GetCellValue("Sheet1", "F3")
	if err != nil || got != "" {
		t.Errorf("F3 = %q, %v; want empty", got, err)
	}
}

func TestXLSXColumnWidths(t *testing.T) {
	header := []string{"id", "long", "中文"}
	rows := [][]any{
		{int64(1), strings.Repeat("word ", 40), "你好你好你好你好你好"},
		{int64(2), "short", "x"},
	}
	data := writeFile(t, "out.xlsx", Options{}, header, rows)
	f := openXLSX(t, data)
	// Excel wants <col> elements in ascending order.
	if got := colOrder(t, data); !slices.IsSorted(got) || len(got) != len(header) {
		t.Errorf("<col min=...> order = %v, want ascending, one per column", got)
	}
	tests := []struct {
		col      string
		min, max float64
	}{
		{"A", minColWidth, minColWidth}, // short numbers: the floor
		{"B", maxColWidth, maxColWidth}, // long text: the cap
		{"C", 20 + 2, 20 + 2},           // 10 CJK characters are 20 wide
	}
	for _, tt := range tests {
		got, err := f.GetColWidth("Sheet1", tt.col)
		if err != nil {
			t.Fatal(err)
		}
		if got < tt.min || got > tt.max {
			t.Errorf("column %s width = %v, want in [%v, %v]", tt.col, got, tt.min, tt.max)
		}
	}
}

// TestXLSXManyRows crosses the width sample so that rows written directly
// and rows held back both land in order.
func TestXLSXManyRows(t *testing.T) {
	const n = widthSampleRows*2 + 7
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i + 1), fmt.Sprintf("row %d", i+1)}
	}
	f := openXLSX(t, writeFile(t, "out.xlsx", Options{}, []string{"n", "s"}, rows))
	got, err := f.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 {
		t.Fatalf("got %d rows, want %d", len(got), n+1)
	}
	for i := 1; i <= n; i++ {
		if got[i][0] != fmt.Sprint(i) || got[i][1] != fmt.Sprintf("row %d", i) {
			t.Fatalf("row %d = %v", i, got[i])
		}
	}
}

func TestXLSXSheetName(t *testing.T) {
	f := openXLSX(t, writeFile(t, "out.xlsx", Options{Sheet: "结果"}, []string{"a"}, [][]any{{"x"}}))
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "结果" {
		t.Fatalf("sheets = %v, want [结果]", got)
	}
	if v, err := f.GetCellValue("结果", "A2"); err != nil || v != "x" {
		t.Errorf("A2 = %q, %v", v, err)
	}
}

func TestXLSXBadSheetName(t *testing.T) {
	dir := t.TempDir()
	_, err := Create(filepath.Join(dir, "out.xlsx"), []string{"a"}, Options{Sheet: "a/b"}, nil)
	if err == nil || !strings.Contains(err.Error(), `sheet name "a/b"`) {
		t.Fatalf("err = %v, want a sheet name error", err)
	}
	if left := tmpLeftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestXLSXTruncation(t *testing.T) {
	limit := excelize.TotalCellChars
	warning := func(n int) string {
		return fmt.Sprintf(`row 1 column "v": text of %d characters truncated to Excel's %d limit`, n, limit)
	}
	longJSON, err := json.Marshal(strings.Repeat("z", limit+1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       any
		wantLen  int    // UTF-16 units kept
		wantWarn string // "" for none
	}{
		{"at limit", strings.Repeat("a", limit), limit, ""},
		{"over limit", strings.Repeat("a", limit+10), limit, warning(limit + 10)},
		{"chinese over limit", strings.Repeat("中", limit+1), limit, warning(limit + 1)},
		// An emoji is two UTF-16 units; it must not be split in half.
		{"surrogate pair at the edge", strings.Repeat("a", limit-1) + "😀b", limit - 1, warning(limit + 2)},
		{"invalid utf-8 after the edge", strings.Repeat("a", limit) + "\xff\xfe", limit, warning(limit + 2)},
		{"raw json string", json.RawMessage(longJSON), limit, warning(limit + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.xlsx")
			w, err := Create(path, []string{"v"}, Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]any{tt.in}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			warner, ok := w.(Warner)
			if !ok {
				t.Fatal("xlsx writer does not implement Warner")
			}
			warns := warner.Warnings()
			if tt.wantWarn == "" && len(warns) != 0 {
				t.Errorf("warnings = %q, want none", warns)
			}
			if tt.wantWarn != "" && (len(warns) != 1 || warns[0] != tt.wantWarn) {
				t.Errorf("warnings = %q, want [%q]", warns, tt.wantWarn)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := openXLSX(t, data).GetCellValue("Sheet1", "A2")
			if err != nil {
				t.Fatal(err)
			}
			if n := utf16Len(got); n != tt.wantLen {
				t.Errorf("cell has %d UTF-16 units, want %d", n, tt.wantLen)
			}
		})
	}
}

// TestXLSXOddText: characters XML cannot carry must not corrupt the file,
// and text that looks like excelize's own _xHHHH_ escapes must survive.
func TestXLSXOddText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"bell\x07", "bell\uFFFD"},
		{"bad \xff utf-8", "bad \uFFFD utf-8"},
		{"_x0041_", "_x0041_"},
		{"  spaces kept  ", "  spaces kept  "},
		{"crlf\r\nline", "crlf\r\nline"},
	}
	rows := make([][]any, len(tests))
	for i, tt := range tests {
		rows[i] = []any{tt.in}
	}
	f := openXLSX(t, writeFile(t, "out.xlsx", Options{}, []string{"v"}, rows))
	for i, tt := range tests {
		got, err := f.GetCellValue("Sheet1", fmt.Sprint("A", i+2))
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%q: read back %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestXLSXWarningsBounded(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "out.xlsx"), []string{"v"}, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", excelize.TotalCellChars+1)
	for range maxWarnings + 5 {
		if err := w.Write([]any{long}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	warns := w.(Warner).Warnings()
	if len(warns) != maxWarnings+1 {
		t.Fatalf("got %d warnings, want %d", len(warns), maxWarnings+1)
	}
	if want := "5 more cells truncated to Excel's 32767-character limit"; warns[maxWarnings] != want {
		t.Errorf("last warning = %q, want %q", warns[maxWarnings], want)
	}
	if !strings.HasPrefix(warns[maxWarnings-1], fmt.Sprintf("row %d ", maxWarnings)) {
		t.Errorf("warning %d = %q, want it to name row %d", maxWarnings, warns[maxWarnings-1], maxWarnings)
	}
}

func TestXLSXNonFiniteFloat(t *testing.T) {
	f := openXLSX(t, writeFile(t, "out.xlsx", Options{}, []string{"a", "b"}, [][]any{{math.NaN(), math.Inf(-1)}}))
	for cell, want := range map[string]string{"A2": "NaN", "B2": "-Inf"} {
		got, err := f.GetCellValue("Sheet1", cell)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", cell, got, err, want)
		}
	}
}

func TestXLSXRowLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.xlsx")
	w, err := Create(path, []string{"v"}, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Lower the limit instead of writing a million rows.
	w.(*xlsxWriter).maxDataRows = 2
	for i := range 2 {
		if err := w.Write([]any{int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	err = w.Write([]any{int64(3)})
	if err == nil || !strings.Contains(err.Error(), "row 3: Excel sheets hold at most 3 rows") || !strings.Contains(err.Error(), "write csv or jsonl instead") {
		t.Fatalf("err = %v, want the row limit error", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if left := tmpLeftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestXLSXTooManyColumns(t *testing.T) {
	header := make([]string, excelize.MaxColumns+1)
	for i := range header {
		header[i] = fmt.Sprint("c", i)
	}
	_, err := Create(filepath.Join(t.TempDir(), "out.xlsx"), header, Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "Excel allows at most 16384") {
		t.Fatalf("err = %v, want the column limit error", err)
	}
}

// TestXLSXZip64HeaderPatch lowers the ZIP64 threshold to zero so every
// entry counts as "over 4 GiB", and checks that each local header then
// says version 45 and that the workbook still opens.
func TestXLSXZip64HeaderPatch(t *testing.T) {
	for _, patch := range []bool{false, true} {
		t.Run(fmt.Sprint("patch=", patch), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.xlsx")
			w, err := Create(path, []string{"v"}, Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if patch {
				w.(*xlsxWriter).zip64Threshold = -1 // every entry, even empty ones
			}
			if err := w.Write([]any{"x"}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			want := uint16(20)
			if patch {
				want = 45
			}
			for _, zf := range zr.File {
				off, err := zf.DataOffset()
				if err != nil {
					t.Fatal(err)
				}
				hdr := off - 30 - int64(len(zf.Name))
				if got := binary.LittleEndian.Uint16(data[hdr+4:]); got != want {
					t.Errorf("%s: local header version %d, want %d", zf.Name, got, want)
				}
			}
			if v, err := openXLSX(t, data).GetCellValue("Sheet1", "A2"); err != nil || v != "x" {
				t.Errorf("A2 = %q, %v", v, err)
			}
		})
	}
}

func TestXLSXStdout(t *testing.T) {
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool) // where the stdout spool file goes
	got := writeStdout(t, Options{Format: "xlsx"}, sampleHeader, sampleRows())
	f := openXLSX(t, got)
	if v, err := f.GetCellValue("Sheet1", "G2"); err != nil || v != "王小明" {
		t.Errorf("G2 = %q, %v", v, err)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("files left in the temp dir: %v", left)
	}
}

// TestXLSXStdoutAbort: nothing reaches stdout and the spool file goes.
func TestXLSXStdoutAbort(t *testing.T) {
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool)
	var stdout bytes.Buffer
	w, err := Create(Stdout, []string{"v"}, Options{Format: "xlsx"}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]any{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout got %d bytes after Abort", stdout.Len())
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("files left in the temp dir: %v", left)
	}
}

// colOrder returns the min attribute of each <col> element of sheet1, in
// document order.
func colOrder(t *testing.T, data []byte) []int {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var mins []int
	dec := xml.NewDecoder(rc)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return mins
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "col" {
			for _, a := range se.Attr {
				if a.Name.Local == "min" {
					n, err := strconv.Atoi(a.Value)
					if err != nil {
						t.Fatal(err)
					}
					mins = append(mins, n)
				}
			}
		}
	}
}
