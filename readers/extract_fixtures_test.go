package readers

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/folder/")

// golden compares got with testdata/folder/<name>.golden, or rewrites the
// file when the tests run with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "folder", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("text differs from %s (run go test -update after checking)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// pdfObject is one indirect object of a test PDF: a dictionary, and for a
// stream its data.
type pdfObject struct {
	dict   string
	stream []byte
}

// buildPDF writes a PDF with the given objects (object i+1 is objs[i]; the
// catalog must be object 1) and a correct cross-reference table, the way a
// minimal PDF producer does. Streams are Flate-compressed when compress is
// set, as nearly all real PDFs are.
func buildPDF(objs []pdfObject, compress bool) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		if o.stream == nil {
			b.WriteString(o.dict + "\nendobj\n")
			continue
		}
		data, filter := o.stream, ""
		if compress {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(data)
			zw.Close()
			data, filter = z.Bytes(), " /Filter /FlateDecode"
		}
		d := strings.TrimSuffix(strings.TrimSpace(o.dict), ">>")
		fmt.Fprintf(&b, "%s /Length %d%s >>\nstream\n", d, len(data), filter)
		b.Write(data)
		b.WriteString("\nendstream\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// textPDF is a two-page PDF with a text layer that exercises the layout:
// a title, a paragraph of two lines (Td, TL and T*), a TJ array whose
// spacing separates words, a line in a composite (Type0) font with a
// ToUnicode map (how CJK text is stored), text scaled by the CTM, and a
// second page with a table row whose cells are placed apart with Td.
func textPDF(compress bool) []byte {
	page1 := strings.Join([]string{
		"BT /F1 14 Tf 72 720 Td (Quarterly report) Tj ET",
		"BT /F1 10 Tf 72 690 Td 12 TL (First line of the paragraph,) Tj T* (its second line.) Tj ET",
		"BT /F1 10 Tf 72 640 Td [(Words) -300 (placed) -300 (apart) 20 (, kerned.)] TJ ET",
		"BT /F2 10 Tf 1 0 0 1 72 628 Tm <00010002> Tj <0003> Tj ET",
		"q 0.5 0 0 0.5 0 0 cm BT /F1 20 Tf 144 1200 Td (Scaled by the CTM.) Tj ET Q",
	}, "\n")
	page2 := "BT /F1 10 Tf 72 720 Td (Page two.) Tj ET\nBT /F1 10 Tf 72 700 Td (Tea) Tj 150 0 Td (624,000) Tj 100 0 Td (1.2%) Tj ET"
	cmap := strings.Join([]string{
		"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
		"/CMapName /Test-UCS def 1 begincodespacerange <0000> <FFFF> endcodespacerange",
		"3 beginbfchar <0001> <4E2D> <0002> <6587> <0003> <6D4B> endbfchar",
		"endcmap CMapName currentdict /CMap defineresource pop end end",
	}, "\n")
	return buildPDF([]pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 7 0 R >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 8 0 R >>"},
		{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"},
		{dict: "<< /Type /Font /Subtype /Type0 /BaseFont /NotoSansSC /Encoding /Identity-H /DescendantFonts [9 0 R] /ToUnicode 10 0 R >>"},
		{dict: "<< >>", stream: []byte(page1)},
		{dict: "<< >>", stream: []byte(page2)},
		{dict: "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NotoSansSC /DW 1000 /W [1 [1000 1000]] >>"},
		{dict: "<< >>", stream: []byte(cmap)},
	}, compress)
}

// scannedPDF is what a scanner produces: one page that only draws an image.
func scannedPDF() []byte {
	return buildPDF([]pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>"},
		{dict: "<< >>", stream: []byte("q 612 0 0 792 0 0 cm /Im1 Do Q")},
		{dict: "<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 >>", stream: []byte{0, 255, 255, 0}},
	}, true)
}

// formPDF draws its text through a form XObject, as some producers do for
// repeated content such as letterheads.
func formPDF() []byte {
	return buildPDF([]pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Fm1 5 0 R >> >> /Contents 4 0 R >>"},
		{dict: "<< >>", stream: []byte("BT ET q 1 0 0 1 72 700 cm /Fm1 Do Q")},
		{dict: "<< /Type /XObject /Subtype /Form /BBox [0 0 500 100] /Resources << /Font << /F1 6 0 R >> >> >>", stream: []byte("BT /F1 12 Tf 0 0 Td (Letterhead in a form.) Tj ET")},
		{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"},
	}, false)
}

// buildZip writes a zip archive of the given files in order, with a fixed
// time so that the bytes do not change between runs.
func buildZip(t testing.TB, files ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate, Modified: time.Date(2025, 3, 31, 9, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// docxFile builds a .docx whose main document has the given body XML.
func docxFile(t testing.TB, body string) []byte {
	t.Helper()
	return buildZip(t,
		[2]string{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		[2]string{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		[2]string{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" mc:Ignorable="wps"><w:body>` + body + `<w:sectPr/></w:body></w:document>`},
	)
}

// docxBody exercises what Word writes: runs split mid-word, tabs, line
// breaks, a table with a two-paragraph cell, tracked changes, a field, a
// text box stored twice (mc:Choice and mc:Fallback) and empty paragraphs.
const docxBody = `<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>会议</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>纪要</w:t></w:r><w:r><w:t xml:space="preserve"> / Minutes</w:t></w:r></w:p>
<w:p/>
<w:p><w:r><w:t>Date:</w:t></w:r><w:r><w:tab/><w:t>2025-03-12</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">First line</w:t><w:br/><w:t>second line after a break, with a non</w:t><w:noBreakHyphen/><w:t>breaking hyphen.</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Kept </w:t></w:r><w:del w:id="1" w:author="A"><w:r><w:delText>deleted </w:delText></w:r></w:del><w:ins w:id="2" w:author="A"><w:r><w:t>inserted</w:t></w:r></w:ins><w:r><w:t xml:space="preserve"> text. Page </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Item</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Owner</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>Ship v2</w:t></w:r></w:p><w:p><w:r><w:t>(by April)</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>王芳</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>Text box.</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Text box.</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>
<w:p><w:r><w:t>Last paragraph &amp; done.</w:t></w:r></w:p>
<w:p/><w:p/>`

// plainSample is the text that the encoding tests save in several
// encodings; every one must read back as plain.golden.
const plainSample = "\r\n\r\n周会纪要 Weekly notes  \r\n\r\n\r\n\r\n一、上周进展：订单同步上线。\r\n\tIndented line stays indented.\r\n\r\nEnd.\r\n\r\n"
