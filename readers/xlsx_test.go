package readers

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// catalogXLSX builds a workbook with three sheets: Products (formats,
// absent and blank rows, a ragged row), Orders (set as the active sheet, to
// show that the default is the first sheet, not the active one) and Empty.
func catalogXLSX(t testing.TB) string {
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
	_, err := f.NewSheet("Orders")
	must(err)
	_, err = f.NewSheet("Empty")
	must(err)
	f.SetActiveSheet(1)

	style := func(s excelize.Style) int {
		id, err := f.NewStyle(&s)
		must(err)
		return id
	}
	custom := func(code string) int { return style(excelize.Style{CustomNumFmt: &code}) }
	set := func(sheet, cell string, v any, styleID int) {
		t.Helper()
		must(f.SetCellValue(sheet, cell, v))
		if styleID != 0 {
			must(f.SetCellStyle(sheet, cell, cell, styleID))
		}
	}
	day := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	must(f.SetSheetRow("Products", "A1", &[]any{"sku", "name", "price", "added", "share", "updated", "上架日期", "", "name"}))
	set("Products", "A2", "P-1", 0)
	set("Products", "B2", "Kettle", 0)
	set("Products", "C2", 1234.5, style(excelize.Style{NumFmt: 4})) // #,##0.00
	set("Products", "D2", day, style(excelize.Style{NumFmt: 14}))   // system short date
	set("Products", "E2", 0.125, style(excelize.Style{NumFmt: 10})) // 0.00%
	set("Products", "F2", day, custom("d-mmm-yy"))                  // as typed
	set("Products", "G2", day, style(excelize.Style{NumFmt: 31}))   // yyyy年m月d日 in a Chinese Excel
	set("Products", "H2", 7, 0)
	set("Products", "I2", "dup", 0)
	// Rows 3 and 4 are absent.
	must(f.SetSheetRow("Products", "A5", &[]any{"P-5", "Short row"}))
	must(f.SetSheetRow("Products", "A6", &[]any{"", ""})) // present but blank
	set("Products", "A7", "P-7", 0)
	set("Products", "K7", "stray", 0) // beyond the 9 header columns
	set("Products", "A8", "P-8", 0)
	set("Products", "J8", " ", 0) // beyond the header, but blank
	must(f.SetSheetDimension("Products", "A1:K8"))

	must(f.SetSheetRow("Orders", "A1", &[]any{"order_id", "amount"}))
	set("Orders", "A2", 1, 0)
	set("Orders", "B2", 42, 0)
	must(f.SetCellFormula("Orders", "B2", "=6*7")) // keeps 42 as the cached value

	path := filepath.Join(t.TempDir(), "catalog.xlsx")
	must(f.SaveAs(path))
	return path
}

func TestXLSXProducts(t *testing.T) {
	r, err := Open(catalogXLSX(t), Options{}, nil)
	checkErr(t, err, "")
	defer r.Close()
	wantCols := []string{"sku", "name", "price", "added", "share", "updated", "上架日期", "column_8", "name_2"}
	if got := r.Columns(); !reflect.DeepEqual(got, wantCols) {
		t.Errorf("Columns() = %q, want %q", got, wantCols)
	}
	if n, ok := r.Total(); n != 7 || !ok {
		t.Errorf("Total() = %d, %v; want 7, true (rows 2-8 of the dimension A1:K8)", n, ok)
	}
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{
		ok(0, "catalog.xlsx:Products!2", "P-1", "Kettle", "1,234.50", "2024-03-05", "12.50%", "5-Mar-24", "2024年3月5日", "7", "dup"),
		ok(1, "catalog.xlsx:Products!5", "P-5", "Short row", "", "", "", "", "", "", ""),
		bad(2, "catalog.xlsx:Products!7", "catalog.xlsx sheet Products row 7: cell K7 has a value but the header has only 9 columns (add a header for it or clear the cell)",
			"P-7", "", "", "", "", "", "", "", ""),
		ok(3, "catalog.xlsx:Products!8", "P-8", "", "", "", "", "", "", "", ""),
	})
}

func TestXLSXSheetSelection(t *testing.T) {
	path := catalogXLSX(t)
	tests := []struct {
		sheet, wantFirstKey, wantErr string
	}{
		{"", "catalog.xlsx:Products!2", ""},
		{"Orders", "catalog.xlsx:Orders!2", ""},
		{"orders", "catalog.xlsx:Orders!2", ""},
		{"2", "catalog.xlsx:Orders!2", ""},
		{"1", "catalog.xlsx:Products!2", ""},
		{"3", "", "sheet Empty of catalog.xlsx is empty: expected a header row"},
		{"Nope", "", `catalog.xlsx has no sheet "Nope"; its sheets are "Products", "Orders", "Empty" (pass --sheet with a name or a 1-based index)`},
		{"4", "", `catalog.xlsx has no sheet "4"; its sheets are "Products", "Orders", "Empty"`},
	}
	for _, tt := range tests {
		t.Run("sheet="+tt.sheet, func(t *testing.T) {
			r, err := Open(path, Options{Sheet: tt.sheet}, nil)
			if err != nil {
				checkErr(t, err, tt.wantErr)
				return
			}
			defer r.Close()
			checkErr(t, nil, tt.wantErr)
			got, err := readAll(t, r)
			checkErr(t, err, "")
			if len(got) == 0 || got[0].Key != tt.wantFirstKey {
				t.Fatalf("first row = %+v, want key %s", got, tt.wantFirstKey)
			}
		})
	}
}

func TestXLSXFormulaCachedValue(t *testing.T) {
	r, err := Open(catalogXLSX(t), Options{Sheet: "Orders"}, nil)
	checkErr(t, err, "")
	defer r.Close()
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{ok(0, "catalog.xlsx:Orders!2", "1", "42")})
}

// handmadeXLSX writes a workbook the way Excel does, which excelize's writer
// does not: formulas with cached results (t="str" for text), a header that
// is not on row 1, absent rows, and a sheet whose rows carry no r attribute.
func handmadeXLSX(t testing.TB) string {
	t.Helper()
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook ` + ns + ` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/><sheet name="NoRefs" sheetId="2" r:id="rId2"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet ` + ns + `><dimension ref="A2:C12"/><sheetData>
<row r="2"><c r="A2" t="inlineStr"><is><t>name</t></is></c><c r="B2" t="inlineStr"><is><t>qty</t></is></c><c r="C2" t="inlineStr"><is><t>label</t></is></c></row>
<row r="4"><c r="A4" t="inlineStr"><is><t>apple</t></is></c><c r="B4"><f>2*3</f><v>6</v></c><c r="C4" t="str"><f>A4&amp;"!"</f><v>apple!</v></c></row>
<row r="5"><c r="A5"><f>""</f><v></v></c></row>
<row r="12"><c r="A12" t="inlineStr"><is><t>pear</t></is></c><c r="C12"><v>0.1</v></c></row>
</sheetData></worksheet>`,
		"xl/worksheets/sheet2.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet ` + ns + `><sheetData>
<row><c t="inlineStr"><is><t>h</t></is></c></row>
<row><c><v>1</v></c></row>
<row><c><v>2</v></c></row>
</sheetData></worksheet>`,
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "book.xlsx", buf.Bytes())
}

func TestXLSXHandmade(t *testing.T) {
	path := handmadeXLSX(t)
	r, err := Open(path, Options{}, nil)
	checkErr(t, err, "")
	defer r.Close()
	if got, want := r.Columns(), []string{"name", "qty", "label"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %q, want %q", got, want)
	}
	if n, ok := r.Total(); n != 10 || !ok {
		t.Errorf("Total() = %d, %v; want 10, true (rows 3-12)", n, ok)
	}
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{
		ok(0, "book.xlsx:Data!4", "apple", "6", "apple!"),
		ok(1, "book.xlsx:Data!12", "pear", "", "0.1"),
	})

	r2, err := Open(path, Options{Sheet: "NoRefs"}, nil)
	checkErr(t, err, "")
	defer r2.Close()
	if n, ok := r2.Total(); ok {
		t.Errorf("Total() = %d, true for a sheet without a dimension; want ok=false", n)
	}
	got, err = readAll(t, r2)
	checkErr(t, err, "")
	diffResults(t, got, []result{ok(0, "book.xlsx:NoRefs!2", "1"), ok(1, "book.xlsx:NoRefs!3", "2")})
}

func TestXLSXStdin(t *testing.T) {
	content, err := os.ReadFile(catalogXLSX(t))
	checkErr(t, err, "")
	r, err := Open("-", Options{Format: "xlsx", Sheet: "Orders"}, bytes.NewReader(content))
	checkErr(t, err, "")
	spooled := r.(*xlsxReader).remove
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{ok(0, "stdin:Orders!2", "1", "42")})
	checkErr(t, r.Close(), "")
	if _, err := os.Stat(spooled); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close should remove the spooled copy of stdin %q; Stat = %v", spooled, err)
	}
}

func TestXLSXNotAWorkbook(t *testing.T) {
	_, err := Open(writeFile(t, "fake.xlsx", []byte("a,b\n1,2\n")), Options{}, nil)
	checkErr(t, err, "open fake.xlsx: |is it an .xlsx workbook?")
}
