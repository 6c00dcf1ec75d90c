package readers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// extractFile writes content to a file named name and runs the extractor
// for its extension with the default options.
func extractFile(t *testing.T, name string, content []byte, opt extractOptions) (string, error) {
	t.Helper()
	path := writeFile(t, name, content)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if opt.maxBytes == 0 {
		opt.maxBytes = DefaultMaxDocBytes
	}
	extract := extractorFor(docExt(name))
	if extract == nil {
		t.Fatalf("no extractor for %s", name)
	}
	return extract(context.Background(), f, int64(len(content)), opt)
}

func mustEncode(t *testing.T, enc interface{ Bytes([]byte) ([]byte, error) }, s string) []byte {
	t.Helper()
	b, err := enc.Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtractPlainEncodings(t *testing.T) {
	utf16LE := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()
	utf16BE := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder()
	tests := []struct {
		name    string
		file    string
		content []byte
		enc     string
	}{
		{"utf-8", "notes.txt", []byte(plainSample), ""},
		{"utf-8 with BOM", "notes.md", append(bytes.Clone(utf8BOM), plainSample...), ""},
		{"utf-16 LE with BOM (Notepad's Unicode)", "notes.txt", mustEncode(t, utf16LE, plainSample), ""},
		{"utf-16 BE with BOM", "notes.markdown", mustEncode(t, utf16BE, plainSample), ""},
		{"gb18030 detected", "notes.txt", mustEncode(t, simplifiedchinese.GB18030.NewEncoder(), plainSample), ""},
		{"gbk detected", "NOTES.TXT", mustEncode(t, simplifiedchinese.GBK.NewEncoder(), plainSample), ""},
		{"gb18030 forced", "notes.txt", mustEncode(t, simplifiedchinese.GB18030.NewEncoder(), plainSample), encodingGB18030},
		{"a BOM wins over a forced encoding", "notes.txt", mustEncode(t, utf16LE, plainSample), encodingGB18030},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extractFile(t, tt.file, tt.content, extractOptions{encoding: tt.enc})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "plain", got)
		})
	}
}

func TestExtractPlainErrors(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		opt     extractOptions
		want    error
		wantMsg string
	}{
		{"UTF-16 without BOM has NULs", []byte("h\x00i\x00"), extractOptions{}, nil, "contains NUL bytes|save it as UTF-8"},
		{"over the limit", []byte("0123456789"), extractOptions{maxBytes: 9}, errTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := extractFile(t, "a.txt", tt.content, tt.opt)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				return
			}
			checkErr(t, err, tt.wantMsg)
		})
	}
}

func TestExtractPlainForcedUTF8(t *testing.T) {
	// --encoding utf-8 reads a Latin-1 file without guessing GB18030; the
	// invalid byte becomes U+FFFD rather than breaking JSON output later.
	got, err := extractFile(t, "a.txt", []byte("caf\xe9"), extractOptions{encoding: encodingUTF8})
	if err != nil {
		t.Fatal(err)
	}
	if got != "caf\uFFFD" {
		t.Errorf("got %q, want %q", got, "caf\uFFFD")
	}
}

func TestExtractHTML(t *testing.T) {
	page, err := os.ReadFile("testdata/folder/page.html")
	if err != nil {
		t.Fatal(err)
	}
	got, err := extractFile(t, "page.html", page, extractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "page.html", got)
	for _, hidden := range []string{"title is not", "font-family", "notText", "still script", "Hidden navigation", "★", "Enable JavaScript", "template text", "svg text", "icon", "nested hidden", "still hidden", "late script", "a comment"} {
		if strings.Contains(got, hidden) {
			t.Errorf("text contains %q, which a reader does not see", hidden)
		}
	}
}

func TestExtractHTMLEncodings(t *testing.T) {
	const body = "<p>退货政策</p><p>七天无理由退货</p>"
	const want = "退货政策\n\n七天无理由退货"
	gbk := func(s string) []byte { return mustEncode(t, simplifiedchinese.GBK.NewEncoder(), s) }
	tests := []struct {
		name    string
		content []byte
	}{
		{"utf-8 without declaration", []byte(body)},
		{"utf-8 BOM", append(bytes.Clone(utf8BOM), body...)},
		{"meta charset gbk", gbk(`<html><head><meta charset="gbk"></head><body>` + body)},
		{"http-equiv gb2312", gbk(`<meta http-equiv="Content-Type" content="text/html; charset=gb2312">` + body)},
		{"undeclared GBK falls back to GB18030", gbk(body)},
		{"utf-16 LE BOM", mustEncode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder(), body)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extractFile(t, "p.htm", tt.content, extractOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	// A declared windows-1252 page is read as such, not as GB18030.
	got, err := extractFile(t, "p.html", []byte(`<meta charset="windows-1252"><p>caf`+"\xe9"+`</p>`), extractOptions{})
	if err != nil || got != "café" {
		t.Errorf("windows-1252 page: got %q, %v; want café", got, err)
	}
}

func TestExtractHTMLWithoutHeadEnd(t *testing.T) {
	// Browsers end <head> at <body> even without </head>; so must we.
	got, err := extractFile(t, "p.html", []byte("<html><head><title>T</title><body><p>Body text</p>"), extractOptions{})
	if err != nil || got != "Body text" {
		t.Errorf("got %q, %v; want %q", got, err, "Body text")
	}
}

func TestExtractDOCX(t *testing.T) {
	got, err := extractFile(t, "minutes.docx", docxFile(t, docxBody), extractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "minutes.docx", got)
	for _, left := range []string{"deleted", "PAGE", "Text box.\n\nText box."} {
		if strings.Contains(got, left) {
			t.Errorf("text contains %q, which is not visible text", left)
		}
	}
}

func TestExtractDOCXStrictNamespace(t *testing.T) {
	// Word's "Strict Open XML" uses another namespace for the same elements.
	doc := buildZip(t, [2]string{"word/document.xml", `<w:document xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main"><w:body><w:p><w:r><w:t>strict</w:t><w:tab/><w:t>ok</w:t></w:r></w:p></w:body></w:document>`})
	got, err := extractFile(t, "s.docx", doc, extractOptions{})
	if err != nil || got != "strict\tok" {
		t.Errorf("got %q, %v; want %q", got, err, "strict\tok")
	}
}

func TestExtractDOCXErrors(t *testing.T) {
	big := "<w:p><w:r><w:t>" + strings.Repeat("x", 2000) + "</w:t></w:r></w:p>"
	tests := []struct {
		name    string
		content []byte
		opt     extractOptions
		want    string
	}{
		{"not a zip", []byte("this is an old binary .doc"), extractOptions{}, "not a valid .docx|save it as .docx"},
		{"zip without a document", buildZip(t, [2]string{"xl/workbook.xml", "<workbook/>"}), extractOptions{}, "no word/document.xml"},
		{"broken XML", buildZip(t, [2]string{"word/document.xml", "<w:document><w:body><w:p>"}), extractOptions{}, "read word/document.xml in the .docx|unexpected EOF"},
		{"text over the limit", docxFile(t, big), extractOptions{maxBytes: 1000}, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := extractFile(t, "d.docx", tt.content, tt.opt)
			checkErr(t, err, tt.want)
		})
	}
}

func TestExtractPDF(t *testing.T) {
	for _, compress := range []bool{false, true} {
		name := map[bool]string{false: "plain streams", true: "flate streams"}[compress]
		t.Run(name, func(t *testing.T) {
			got, err := extractFile(t, "report.pdf", textPDF(compress), extractOptions{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "report.pdf", got)
		})
	}
}

func TestExtractPDFFormXObject(t *testing.T) {
	got, err := extractFile(t, "f.pdf", formPDF(), extractOptions{})
	if err != nil || got != "Letterhead in a form." {
		t.Errorf("got %q, %v; want the text drawn by the form", got, err)
	}
}

func TestExtractPDF20Header(t *testing.T) {
	doc := textPDF(false)
	copy(doc, "%PDF-2.0")
	got, err := extractFile(t, "v2.pdf", doc, extractOptions{})
	if err != nil || !strings.HasPrefix(got, "Quarterly report") {
		t.Errorf("PDF 2.0: got %q, %v", got, err)
	}
}

func TestExtractPDFErrors(t *testing.T) {
	truncated := textPDF(true)
	truncated = truncated[:len(truncated)/2]
	noPages := buildPDF([]pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [] /Count 0 >>"},
	}, false)
	badStream := buildPDF([]pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"},
		{dict: "<< /Filter /LZWDecode >>", stream: []byte("junk")},
	}, false)
	tests := []struct {
		name    string
		content []byte
		opt     extractOptions
		want    string
	}{
		{"scanned: images only", scannedPDF(), extractOptions{}, "no text layer (scanned PDF?) — OCR it first"},
		{"not a PDF", []byte("<html>saved web page</html>"), extractOptions{}, "not a readable PDF|invalid header"},
		{"truncated", truncated, extractOptions{}, "not a readable PDF"},
		{"no pages", noPages, extractOptions{}, "the PDF has no pages"},
		{"unsupported stream filter", badStream, extractOptions{}, "page 1: cannot read the page content"},
		{"text over the limit", textPDF(true), extractOptions{maxBytes: 20}, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := extractFile(t, "x.pdf", tt.content, tt.opt)
			checkErr(t, err, tt.want)
		})
	}
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"\n\n  \n", ""},
		{"a\r\nb\rc", "a\nb\nc"},
		{"a  \n\n\n\n b\t\n", "a\n\n b"},
		{"\uFEFFpage 1\fpage 2", "page 1\npage 2"},
		{"x\x00y\x07z", "xyz"},
		{"  indented\n\tcode", "  indented\n\tcode"},
	}
	for _, tt := range tests {
		if got := normalizeText(tt.in); got != tt.want {
			t.Errorf("normalizeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGarbled(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"Plain text, 中文，with punctuation.", false},
		{"\x01\x02\x03\x04ab", true},
		{"\uE001\uE002\uE003 a", true},
	}
	for _, tt := range tests {
		if got := garbled(tt.text); got != tt.want {
			t.Errorf("garbled(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
