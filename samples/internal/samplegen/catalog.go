package samplegen

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names of catalog.xlsx, in workbook order. The data sheet comes first
// because readers default to the first sheet.
const (
	SheetProducts = "商品"
	SheetNotes    = "说明"
	SheetRates    = "汇率"
)

// CatalogHeader is row 1 of the 商品 sheet.
var CatalogHeader = []string{"商品编号", "商品名称", "描述", "类目", "价格", "库存", "上架日期"}

// RatesHeader is row 1 of the 汇率 sheet.
var RatesHeader = []string{"货币", "代码", "汇率（1单位外币兑人民币）", "更新日期"}

// Number formats as a Chinese shop's spreadsheet would carry them.
const (
	fmtPrice = `"¥"#,##0.00`
	fmtDate  = "yyyy-mm-dd"
	fmtRate  = "0.0000"
)

// WriteCatalog builds the sample product catalogue workbook and writes it to
// w as .xlsx. The output only depends on the data in this package, so running
// it twice gives the same bytes (excelize writes zip entries in sorted order
// with no timestamps).
func WriteCatalog(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()

	if err := buildProducts(f); err != nil {
		return fmt.Errorf("sheet %s: %w", SheetProducts, err)
	}
	if err := buildNotes(f); err != nil {
		return fmt.Errorf("sheet %s: %w", SheetNotes, err)
	}
	if err := buildRates(f); err != nil {
		return fmt.Errorf("sheet %s: %w", SheetRates, err)
	}
	// Fixed properties instead of excelize's defaults keep the file looking
	// like an office document and keep the output reproducible.
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:          "商品目录",
		Creator:        "电商运营部",
		LastModifiedBy: "电商运营部",
		Created:        "2025-03-31T09:00:00Z",
		Modified:       "2025-03-31T09:00:00Z",
		Language:       "zh-CN",
	}); err != nil {
		return fmt.Errorf("document properties: %w", err)
	}
	f.SetActiveSheet(0)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

func buildProducts(f *excelize.File) error {
	// NewFile starts with one sheet; renaming it keeps 商品 first.
	if err := f.SetSheetName(f.GetSheetName(0), SheetProducts); err != nil {
		return err
	}
	s := SheetProducts
	if err := writeHeader(f, s, CatalogHeader); err != nil {
		return err
	}
	for i, p := range products {
		row := []any{p.sku, p.name, p.desc, p.category, p.price, p.stock, excelDate(p.listed)}
		if err := f.SetSheetRow(s, cell(1, i+2), &row); err != nil {
			return fmt.Errorf("row %d: %w", i+2, err)
		}
	}
	last := len(products) + 1
	if err := styleRange(f, s, cell(5, 2), cell(5, last), fmtPrice); err != nil {
		return err
	}
	if err := styleRange(f, s, cell(7, 2), cell(7, last), fmtDate); err != nil {
		return err
	}
	// excelize leaves <dimension ref="A1"> unless told; Excel writes the used
	// range, and readers may use it to size their progress bar.
	if err := f.SetSheetDimension(s, "A1:"+cell(len(CatalogHeader), last)); err != nil {
		return err
	}
	if err := setWidths(f, s, 12, 30, 60, 10, 12, 8, 12); err != nil {
		return err
	}
	// Frozen header row, as a real catalogue kept by hand usually has.
	return f.SetPanes(s, &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
	})
}

func buildNotes(f *excelize.File) error {
	s := SheetNotes
	if _, err := f.NewSheet(s); err != nil {
		return err
	}
	for i, line := range notes {
		if err := f.SetCellValue(s, cell(1, i+1), line); err != nil {
			return err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	if err := f.SetCellStyle(s, "A1", "A1", bold); err != nil {
		return err
	}
	if err := f.SetSheetDimension(s, "A1:"+cell(1, len(notes))); err != nil {
		return err
	}
	return f.SetColWidth(s, "A", "A", 90)
}

func buildRates(f *excelize.File) error {
	s := SheetRates
	if _, err := f.NewSheet(s); err != nil {
		return err
	}
	if err := writeHeader(f, s, RatesHeader); err != nil {
		return err
	}
	for i, r := range rates {
		row := []any{r.name, r.code, r.cny, excelDate(r.updated)}
		if err := f.SetSheetRow(s, cell(1, i+2), &row); err != nil {
			return fmt.Errorf("row %d: %w", i+2, err)
		}
	}
	last := len(rates) + 1
	if err := styleRange(f, s, cell(3, 2), cell(3, last), fmtRate); err != nil {
		return err
	}
	if err := styleRange(f, s, cell(4, 2), cell(4, last), fmtDate); err != nil {
		return err
	}
	if err := f.SetSheetDimension(s, "A1:"+cell(len(RatesHeader), last)); err != nil {
		return err
	}
	return setWidths(f, s, 10, 8, 26, 12)
}

func writeHeader(f *excelize.File, sheet string, header []string) error {
	row := make([]any, len(header))
	for i, h := range header {
		row[i] = h
	}
	if err := f.SetSheetRow(sheet, "A1", &row); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment: &excelize.Alignment{Horizontal: "center"},
	})
	if err != nil {
		return err
	}
	return f.SetCellStyle(sheet, "A1", cell(len(header), 1), bold)
}

// setWidths sets the widths of columns A, B, ... in order.
func setWidths(f *excelize.File, sheet string, widths ...float64) error {
	for i, wd := range widths {
		col := string(rune('A' + i))
		if err := f.SetColWidth(sheet, col, col, wd); err != nil {
			return err
		}
	}
	return nil
}

func styleRange(f *excelize.File, sheet, from, to, numFmt string) error {
	id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return err
	}
	return f.SetCellStyle(sheet, from, to, id)
}

// cell turns a 1-based column (A to Z is all these sheets use) and row number
// into an A1 reference.
func cell(col, row int) string { return string(rune('A'+col-1)) + strconv.Itoa(row) }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// excelDate is the Excel serial number of a date (1900 date system), which is
// what a date cell stores. Writing the number and a yyyy-mm-dd style, instead
// of a time.Time, avoids the extra default date style excelize would add. The
// epoch is 1899-12-30 because Excel counts the non-existent 1900-02-29; all
// dates here are far later, where that is exact.
func excelDate(t time.Time) float64 {
	return t.Sub(time.Date(1899, time.December, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}
