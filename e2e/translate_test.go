package e2e

// bulkgen translate (issue 6): new columns or in place, skip rules,
// identical cells once, glossary, packing and its fallback, and an
// in-place workbook that keeps everything it did not translate.

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"bulkgen/model/modeltest"
)

func TestTranslateColumnsSkipDedupeGlossary(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	in := writeFile(t, dir, "cat.csv", "sku,名称,说明,价格\n"+
		"SKU-0001,龙井茶礼盒,明前龙井，送礼佳品,¥598.00\n"+
		"SKU-0002,普洱茶饼,https://example.com/puer,168\n"+
		"SKU-0003,龙井茶礼盒,AB12345,99\n"+ // the same name again; a code
		"SKU-0004,,2025-03-12,12\n")
	gloss := writeFile(t, dir, "terms.csv", "source,target\n龙井,Longjing\n")
	out := filepath.Join(dir, "out.csv")
	res := bulkgen(t, sim, "", "translate", "-i", in, "--from", "zh", "--to", "en", "--columns", "名称,说明", "--glossary", gloss, "-o", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out)
	want := []string{"sku", "名称", "名称_en", "说明", "说明_en", "价格", "prompt_tokens"}
	for i, w := range want {
		if tb.header[i] != w {
			t.Fatalf("header %v, want it to start %v", tb.header, want)
		}
	}
	// Sent: 龙井茶礼盒 (once for two rows), 明前龙井…, 普洱茶饼. Not sent:
	// the URL, the code, the date, the empty cell.
	if got := sim.Stats().OK; got != 3 {
		t.Errorf("%d requests, want 3\n%s", got, res.stderr)
	}
	if a, b := tb.get(0, "名称_en"), tb.get(2, "名称_en"); a == "" || a != b {
		t.Errorf("identical cells translated differently: %q, %q", a, b)
	}
	if !strings.Contains(tb.get(0, "名称_en"), "Longjing") || !strings.Contains(tb.get(0, "说明_en"), "Longjing") {
		t.Errorf("glossary term not used: %q / %q", tb.get(0, "名称_en"), tb.get(0, "说明_en"))
	}
	for _, c := range []struct{ row int }{{1}, {2}, {3}} {
		if got := tb.get(c.row, "说明_en"); got != "" {
			t.Errorf("row %d: a cell that needs no translation was translated: %q", c.row+1, got)
		}
	}
	if !strings.Contains(res.stderr, "not sent (") || !strings.Contains(res.stderr, "1 url") || !strings.Contains(res.stderr, "1 code") {
		t.Errorf("summary does not count the skipped cells:\n%s", res.stderr)
	}
}

func TestTranslatePackAndFallback(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	const rows = 24
	in := writeFile(t, dir, "in.csv", packdropCSV(rows, false))
	out := filepath.Join(dir, "out.csv")
	res := bulkgen(t, sim, "", "translate", "-i", in, "--to", "en", "--columns", "名称", "--pack", "8", "-o", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out)
	for i := range tb.rows {
		got := tb.get(i, "名称_en")
		if !strings.Contains(got, fmt.Sprintf("商品名称%d号", i+1)) || !strings.HasPrefix(strings.TrimPrefix(got, "[simulated qwen-plus] "), "EN: ") {
			t.Errorf("row %d: %q is not its cell's translation", i+1, got)
		}
	}
	// 3 packs of 8; the pack with row 10 came back short and fell back to
	// its 8 cells one by one.
	if got := sim.Stats().OK; got != 3+8 {
		t.Errorf("%d requests, want 11 (3 packs + 8 fallbacks)\n%s", got, res.stderr)
	}
	if !strings.Contains(res.stderr, "3 packed requests, 1 fell back") {
		t.Errorf("summary:\n%s", res.stderr)
	}
}

// TestTranslateInPlaceKeepsTheWorkbook translates two columns of a
// workbook in place and checks that everything else survived.
func TestTranslateInPlaceKeepsTheWorkbook(t *testing.T) {
	sim := newSim(t, modeltest.Options{})
	dir := t.TempDir()
	src := filepath.Join(dir, "book.xlsx")
	f := excelize.NewFile()
	sheet := "商品"
	f.SetSheetName("Sheet1", sheet)
	f.SetSheetRow(sheet, "A1", &[]any{"编号", "名称", "描述", "价格", "合计"})
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"FFFF00"}, Pattern: 1}})
	money, _ := f.NewStyle(&excelize.Style{NumFmt: 8})
	for r := 2; r <= 6; r++ {
		f.SetSheetRow(sheet, fmt.Sprintf("A%d", r), &[]any{fmt.Sprintf("SKU-%04d", r), fmt.Sprintf("绿茶%d号", r), fmt.Sprintf("清香型绿茶，第%d批", r), 10.5 * float64(r)})
		f.SetCellFormula(sheet, fmt.Sprintf("E%d", r), fmt.Sprintf("D%d*2", r))
		f.SetCellStyle(sheet, fmt.Sprintf("B%d", r), fmt.Sprintf("B%d", r), bold)
		f.SetCellStyle(sheet, fmt.Sprintf("D%d", r), fmt.Sprintf("D%d", r), money)
	}
	f.MergeCell(sheet, "A8", "C8")
	f.SetCellValue(sheet, "A8", "备注：合并单元格")
	f.SetColWidth(sheet, "C", "C", 40)
	f.NewSheet("说明")
	f.SetCellValue("说明", "A1", "这一页不翻译")
	if err := f.SaveAs(src); err != nil {
		t.Fatal(err)
	}
	f.Close()

	out := filepath.Join(dir, "book_en.xlsx")
	res := bulkgen(t, sim, "", "translate", "-i", src, "--to", "en", "--columns", "名称,描述", "--in-place", "-o", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "holds the workbook in memory") {
		t.Errorf("no memory note for --in-place:\n%s", res.stderr)
	}
	g, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	orig, _ := excelize.OpenFile(src)
	defer orig.Close()
	for r := 2; r <= 6; r++ {
		for _, col := range []string{"B", "C"} {
			cell := fmt.Sprintf("%s%d", col, r)
			v, _ := g.GetCellValue(sheet, cell)
			if !strings.Contains(v, "EN: ") {
				t.Errorf("%s = %q, want a translation", cell, v)
			}
			so, _ := orig.GetCellStyle(sheet, cell)
			sn, _ := g.GetCellStyle(sheet, cell)
			if so != sn {
				t.Errorf("%s style %d, was %d", cell, sn, so)
			}
		}
		for _, col := range []string{"A", "D", "E"} {
			cell := fmt.Sprintf("%s%d", col, r)
			vo, _ := orig.GetCellValue(sheet, cell)
			vn, _ := g.GetCellValue(sheet, cell)
			fo, _ := orig.GetCellFormula(sheet, cell)
			fn, _ := g.GetCellFormula(sheet, cell)
			so, _ := orig.GetCellStyle(sheet, cell)
			sn, _ := g.GetCellStyle(sheet, cell)
			if vo != vn || fo != fn || so != sn {
				t.Errorf("%s changed: %q/%q/%d → %q/%q/%d", cell, vo, fo, so, vn, fn, sn)
			}
		}
	}
	if m, _ := g.GetMergeCells(sheet); len(m) != 1 || m[0].GetStartAxis() != "A8" {
		t.Errorf("merged cells %v", m)
	}
	if w, _ := g.GetColWidth(sheet, "C"); w != 40 {
		t.Errorf("column width %v", w)
	}
	// The other sheet's XML is byte for byte the same.
	if a, b := zipPart(t, src, "xl/worksheets/sheet2.xml"), zipPart(t, out, "xl/worksheets/sheet2.xml"); !bytes.Equal(a, b) {
		t.Errorf("the untranslated sheet changed:\n%s\n%s", a, b)
	}
}

func zipPart(t *testing.T, path, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, _ := io.ReadAll(rc)
			return b
		}
	}
	t.Fatalf("%s has no part %s", path, name)
	return nil
}

// TestTranslateInBatchMode: the same pack-and-fallback translation through
// the Batch API. What a translation sends depends on the answers, so the
// packs go in a first batch and the single cells of the pack whose reply
// did not fit in a second; the output equals the realtime run's, at the
// batch price, and no request is sent twice or in realtime.
func TestTranslateInBatchMode(t *testing.T) {
	sim := newSim(t, modeltest.Options{Batch: fastBatches})
	dir := t.TempDir()
	const rows = 24
	in := writeFile(t, dir, "in.csv", packdropCSV(rows, true))
	args := []string{"--to", "en", "--columns", "名称,备注", "--pack", "8", "--prices", pricesFile(t, dir)}
	rt := filepath.Join(dir, "realtime.csv")
	if res := bulkgen(t, sim, "", append([]string{"translate", "-i", in, "-o", rt, "--no-store"}, args...)...); res.code != 0 {
		t.Fatalf("realtime exit %d\n%s", res.code, res.stderr)
	}
	realtime := sim.Stats().OK

	out := filepath.Join(dir, "batch.csv")
	store := filepath.Join(dir, "s.db")
	res := bulkgen(t, sim, "", append([]string{"translate", "--mode", "batch", "--batch-poll", "20ms", "-i", in, "-o", out, "--store", store}, args...)...)
	if res.code != 0 {
		t.Fatalf("batch exit %d\n%s", res.code, res.stderr)
	}
	if sim.Stats().OK != realtime {
		t.Errorf("the batch run sent %d realtime requests", sim.Stats().OK-realtime)
	}
	if got := sim.Stats().BatchLines; got != realtime {
		t.Errorf("%d batch lines, want %d, the realtime run's requests\n%s", got, realtime, res.stderr)
	}
	if n := strings.Count(res.stderr, "batch request file"); n != 2 {
		t.Errorf("%d request files, want 2 (the packs, then the fallback's single cells)\n%s", n, res.stderr)
	}
	if !strings.Contains(res.stderr, "1 fell back") {
		t.Errorf("summary:\n%s", res.stderr)
	}
	a, bt := readTable(t, rt), readTable(t, out)
	sameTables(t, withoutColumn(t, a, "cost"), withoutColumn(t, bt, "cost"))
	for i := range a.rows {
		ca, _ := strconv.ParseFloat(a.get(i, "cost"), 64)
		cb, _ := strconv.ParseFloat(bt.get(i, "cost"), 64)
		if math.Abs(cb-ca/2) > 1e-9 {
			t.Errorf("row %d cost %v in batch, %v in realtime: want half", i+1, cb, ca)
		}
	}

	// A rerun finds everything in the store and submits nothing.
	before := sim.Stats().BatchLines
	res = bulkgen(t, sim, "", append([]string{"translate", "--mode", "batch", "--batch-poll", "20ms", "-i", in, "-o", filepath.Join(dir, "again.csv"), "--store", store}, args...)...)
	if res.code != 0 || sim.Stats().BatchLines != before {
		t.Errorf("rerun exit %d, %d lines submitted\n%s", res.code, sim.Stats().BatchLines-before, res.stderr)
	}
}

// A translation's requests depend on its answers, so batch export and
// import refuse translate jobs, say what to use instead, and write nothing.
func TestTranslateBatchExportRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "requests.jsonl")
	res := bulkgen(t, nil, "", "batch", "export", "-i", "../samples/catalog.xlsx", "-j", "../samples/translate_task.yaml", "-o", out)
	if res.code == 0 || !strings.Contains(res.stderr, "does not support translate jobs") || !strings.Contains(res.stderr, "--mode batch") {
		t.Errorf("exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a request file was written")
	}
}

// packdropCSV is rows products named 商品名称N号, the 10th marked so that
// the simulator drops a cell from the reply to its pack; with notes, a
// second column 备注 whose "现货" repeats (sent once) and every third row
// differs.
func packdropCSV(rows int, notes bool) string {
	var b strings.Builder
	b.WriteString("id,名称")
	if notes {
		b.WriteString(",备注")
	}
	b.WriteString("\n")
	for i := 1; i <= rows; i++ {
		name := fmt.Sprintf("商品名称%d号", i)
		if i == 10 {
			name += " [[sim:packdrop]]"
		}
		fmt.Fprintf(&b, "%d,%s", i, name)
		if notes {
			note := "现货"
			if i%3 == 0 {
				note = fmt.Sprintf("第%d批", i)
			}
			b.WriteString("," + note)
		}
		b.WriteString("\n")
	}
	return b.String()
}
