package samplegen

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
)

// WriteChecklistDOCX writes the Word sample: a listing checklist with a
// title, headings, paragraphs with a tab and line breaks, and a table, as a
// minimal but complete .docx (content types, relationships, styles, the
// main document and core properties) that Word and LibreOffice open.
func WriteChecklistDOCX(w io.Writer) error {
	var body strings.Builder
	p := func(style string, runs ...string) {
		body.WriteString("<w:p>")
		if style != "" {
			fmt.Fprintf(&body, `<w:pPr><w:pStyle w:val="%s"/></w:pPr>`, style)
		}
		for _, r := range runs {
			body.WriteString(r)
		}
		body.WriteString("</w:p>")
	}
	p("Title", docxRun("新品上架检查清单 / New Product Listing Checklist"))
	p("", docxRun("版本："), docxTab(), docxRun("1.2"), docxBr(), docxRun("更新："), docxTab(), docxRun("2025-03-20"), docxBr(), docxRun("负责人："), docxTab(), docxRun("陈晓（商品组）"))
	p("", docxRun("本清单适用于所有新品在店铺上架前后的检查。每一项完成后，请在商品管理表中勾选，并注明完成日期。"))
	p("", docxRun("This checklist applies to every new product before and after it goes live. Tick each item in the product sheet when it is done and note the date."))
	p("Heading1", docxRun("一、上架前 / Before listing"))
	p("", docxRun("1. 商品名称不超过 30 个字，写清规格与重量，例如“西湖龙井明前特级礼盒 250g”。"))
	p("", docxRun("2. 主图 5 张：白底图 1 张、细节图 2 张、场景图 2 张；尺寸 800×800 像素以上。"))
	p("", docxRun("3. 详情页写明产地、保质期与储存方法；服装类附尺码表，并注明“宽松版型”或“修身版型”。"))
	p("", docxRun("4. Prepare the English name and description for the overseas store; they are translated in bulk and 10% are checked by hand."))
	p("", docxRun("各环节分工如下："))
	body.WriteString(docxTable([][]string{
		{"步骤 Step", "负责人 Owner", "截止 Deadline"},
		{"拍摄主图 Photos", "周婷", "上架前 3 天"},
		{"撰写详情页 Description", "陈晓", "上架前 2 天"},
		{"英文翻译 Translation", "张伟、王磊", "上架前 1 天"},
		{"客服话术 FAQ replies", "李静", "上架当天"},
	}))
	p("Heading1", docxRun("二、上架后 / After listing"))
	p("", docxRun("上架后 24 小时内检查："), docxBr(), docxRun("• 价格与库存是否与商品表一致；"), docxBr(), docxRun("• 搜索商品名称能否找到；"), docxBr(), docxRun("• 手机端详情页图片是否加载正常。"))
	p("", docxRun("Within the first week, read every review and question. Repeated questions go into the customer-service quick replies; repeated complaints go to the weekly meeting."))
	p("", docxRun("如有疑问，请联系商品组陈晓。Questions: contact Chen Xiao, product team."))

	document := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>` +
		body.String() +
		`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="720" w:footer="720" w:gutter="0"/></w:sectPr></w:body></w:document>`

	parts := []struct{ name, content string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
			`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
			`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
			`</Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
			`</Relationships>`},
		{"docProps/core.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
			`<dc:title>新品上架检查清单</dc:title><dc:creator>陈晓</dc:creator><dc:language>zh-CN</dc:language>` +
			`<dcterms:created xsi:type="dcterms:W3CDTF">2025-03-20T10:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">2025-03-20T10:00:00Z</dcterms:modified>` +
			`</cp:coreProperties>`},
		{"word/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
			`</Relationships>`},
		{"word/document.xml", document},
		{"word/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
			`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:pPr><w:spacing w:after="120"/></w:pPr><w:rPr><w:sz w:val="21"/></w:rPr></w:style>` +
			`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:rPr><w:b/><w:sz w:val="36"/></w:rPr></w:style>` +
			`<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:pPr><w:keepNext/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="28"/></w:rPr></w:style>` +
			`<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4"/><w:left w:val="single" w:sz="4"/><w:bottom w:val="single" w:sz="4"/><w:right w:val="single" w:sz="4"/><w:insideH w:val="single" w:sz="4"/><w:insideV w:val="single" w:sz="4"/></w:tblBorders></w:tblPr></w:style>` +
			`</w:styles>`},
	}
	// A fixed time stamp keeps the output the same on every run.
	modified := time.Date(2025, time.March, 20, 10, 0, 0, 0, time.UTC)
	zw := zip.NewWriter(w)
	for _, part := range parts {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: part.name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, part.content); err != nil {
			return err
		}
	}
	return zw.Close()
}

// docxRun is a WordprocessingML text run; docxTab and docxBr are a tab and
// a line break.
func docxRun(text string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(text)) // writing to a bytes.Buffer cannot fail
	return `<w:r><w:t xml:space="preserve">` + b.String() + `</w:t></w:r>`
}

func docxTab() string { return "<w:r><w:tab/></w:r>" }
func docxBr() string  { return "<w:r><w:br/></w:r>" }

// docxTable is a WordprocessingML table with a bold first row.
func docxTable(rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr>`)
	for i, row := range rows {
		b.WriteString("<w:tr>")
		for _, cell := range row {
			r := docxRun(cell)
			if i == 0 {
				r = strings.Replace(r, "<w:r>", "<w:r><w:rPr><w:b/></w:rPr>", 1)
			}
			b.WriteString("<w:tc><w:p>" + r + "</w:p></w:tc>")
		}
		b.WriteString("</w:tr>")
	}
	b.WriteString("</w:tbl>")
	return b.String()
}

// pdfLine is one line of text on a PDF page: position in points from the
// bottom left, bold or not, font size.
type pdfLine struct {
	x, y float64
	bold bool
	size float64
	text string
}

// WriteReportPDF writes the PDF sample: a two-page sales report with a
// text layer (Helvetica, ASCII text), the way a simple report generator
// writes one: Flate-compressed content streams, one text object per block,
// wrapped paragraphs with TL and T*, and table cells placed with Td.
func WriteReportPDF(w io.Writer) error {
	page1 := pdfPage(
		[]pdfLine{
			{72, 760, true, 18, "Q1 2025 Sales Report"},
			{72, 738, false, 10, "Online store, mainland China - prepared by the operations team, 8 April 2025"},
		},
		pdfParagraph(72, 700, 10, 14, "Summary",
			"Gross merchandise value (GMV) for the first quarter was 1.52 million yuan, 18% more than in Q1 2024. "+
				"Tea was the strongest category again: the pre-sale of the Mingqian Longjing gift box alone brought in "+
				"183,000 yuan. Returns fell from 4.1% to 3.4% after the T-shirt size chart was corrected in March."),
		pdfTable(72, 560, []float64{0, 150, 260, 360}, [][]string{
			{"Category", "GMV (yuan)", "Orders", "Return rate"},
			{"Tea", "624,000", "2,310", "1.2%"},
			{"Electronics", "478,000", "3,905", "4.8%"},
			{"Clothing", "281,000", "2,744", "6.1%"},
			{"Kitchen", "137,000", "1,022", "2.9%"},
		}),
		pdfParagraph(72, 440, 10, 14, "Customer service",
			"Customer service answered 23,400 questions. The median first response time was 36 seconds. "+
				"Most questions were about delivery times during the Spring Festival holiday and about the size of the T-shirts."),
	)
	page2 := pdfPage(
		nil,
		pdfParagraph(72, 760, 10, 14, "Outlook for Q2",
			"The overseas store opens in May with 40 products. Their English names and descriptions were translated in bulk "+
				"and checked by hand. We expect tea and kitchenware to sell best abroad, and plan to keep a safety stock "+
				"of two units per SKU to avoid overselling."),
		pdfParagraph(72, 640, 10, 14, "Risks",
			"Spring tea prices rose by about 10% this year. If the price of the Longjing gift box stays at 598 yuan, "+
				"its margin falls from 42% to 35%. A decision on the price is due at the weekly meeting on 16 April."),
		[]pdfLine{{72, 60, false, 8, "Page 2 of 2 - internal, do not forward"}},
	)

	objs := []pdfObj{
		{dict: "<< /Type /Catalog /Pages 2 0 R /Lang (en-GB) >>"},
		{dict: "<< /Type /Pages /Kids [5 0 R 7 0 R] /Count 2 /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> >>"},
		{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"},
		{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>"},
		{stream: page1},
		{dict: "<< /Type /Page /Parent 2 0 R /Contents 8 0 R >>"},
		{stream: page2},
		{dict: "<< /Title (Q1 2025 Sales Report) /Author (Operations team) /Producer (bulkgen samplegen) /CreationDate (D:20250408100000Z) >>"},
	}
	return writePDF(w, objs, "/Info 9 0 R")
}

// pdfObj is one indirect object: a dictionary, or a stream (compressed on
// writing).
type pdfObj struct {
	dict   string
	stream []byte
}

// pdfPage builds the content stream of a page from blocks of text
// operators.
func pdfPage(header []pdfLine, blocks ...any) []byte {
	var b bytes.Buffer
	writeLines := func(lines []pdfLine) {
		for _, l := range lines {
			fmt.Fprintf(&b, "BT /%s %g Tf %g %g Td (%s) Tj ET\n", pdfFontName(l.bold), l.size, l.x, l.y, pdfEscape(l.text))
		}
	}
	writeLines(header)
	for _, blk := range blocks {
		switch blk := blk.(type) {
		case []pdfLine:
			writeLines(blk)
		case []byte:
			b.Write(blk)
		}
	}
	return b.Bytes()
}

func pdfFontName(bold bool) string {
	if bold {
		return "F2"
	}
	return "F1"
}

// pdfParagraph is a bold heading and a paragraph wrapped at about 90
// characters, in one text object that moves down with T*.
func pdfParagraph(x, y, size, leading float64, heading, text string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "BT /F2 %g Tf %g %g Td (%s) Tj ET\n", size+2, x, y, pdfEscape(heading))
	fmt.Fprintf(&b, "BT /F1 %g Tf %g TL %g %g Td\n", size, leading, x, y-leading-6)
	for i, line := range wrap(text, 90) {
		if i > 0 {
			b.WriteString("T* ")
		}
		fmt.Fprintf(&b, "(%s) Tj\n", pdfEscape(line))
	}
	b.WriteString("ET\n")
	return b.Bytes()
}

// pdfTable places the cells of a table with Td at the given column
// offsets, 16 points per row; the first row is bold.
func pdfTable(x, y float64, cols []float64, rows [][]string) []byte {
	var b bytes.Buffer
	for i, row := range rows {
		b.WriteString("BT ")
		fmt.Fprintf(&b, "/%s 10 Tf %g %g Td", pdfFontName(i == 0), x, y-16*float64(i))
		prev := 0.0
		for j, cell := range row {
			fmt.Fprintf(&b, " %g 0 Td (%s) Tj", cols[j]-prev, pdfEscape(cell))
			prev = cols[j]
		}
		b.WriteString(" ET\n")
	}
	return b.Bytes()
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// pdfEscape escapes a PDF literal string.
func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s)
}

// writePDF writes objects 1..n (object 1 is the catalog) with a correct
// cross-reference table; trailerExtra goes into the trailer dictionary.
func writePDF(w io.Writer, objs []pdfObj, trailerExtra string) error {
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
		var z bytes.Buffer
		zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
		if err != nil {
			return err
		}
		zw.Write(o.stream) // writing to a bytes.Buffer cannot fail
		if err := zw.Close(); err != nil {
			return err
		}
		fmt.Fprintf(&b, "<< /Length %d /Filter /FlateDecode >>\nstream\n", z.Len())
		b.Write(z.Bytes())
		b.WriteString("\nendstream\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailerExtra, xref)
	_, err := w.Write(b.Bytes())
	return err
}

// WriteLegacyDOC writes what a Word 97-2003 .doc looks like to a .docx
// reader: an OLE2 compound file (its signature, a header, then sectors),
// not a zip archive. It is not a working .doc, only the start of one with
// the document text in UTF-16 as Word stores it; that is enough for the
// folder reader to refuse it the way it refuses a real one.
func WriteLegacyDOC(w io.Writer) error {
	var b bytes.Buffer
	b.Write([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}) // OLE2 signature
	b.Write(make([]byte, 16))                                       // CLSID
	for _, v := range []uint16{0x003E, 0x0003, 0xFFFE, 0x0009, 0x0006} {
		binary.Write(&b, binary.LittleEndian, v) // version, byte order, sector sizes
	}
	b.Write(make([]byte, 512-b.Len()))
	text := "供应商合同（2019 版）Supplier contract, 2019 edition. 本合同一式两份。"
	for _, u := range utf16.Encode([]rune(text)) {
		binary.Write(&b, binary.LittleEndian, u)
	}
	b.Write(make([]byte, 1536-b.Len()))
	_, err := w.Write(b.Bytes())
	return err
}
