package readers

import (
	"archive/zip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/net/html/charset"
)

// Namespaces of WordprocessingML: the Transitional one that Word writes, and
// the Strict one it can save as.
const (
	nsWordTransitional = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsWordStrict       = "http://purl.oclc.org/ooxml/wordprocessingml/main"
	nsMarkupCompat     = "http://schemas.openxmlformats.org/markup-compatibility/2006"
)

// docxMainPart is the main document part. Word always stores it under this
// name; other producers could point elsewhere from _rels/.rels, but none
// that matter do.
const docxMainPart = "word/document.xml"

// extractDOCX returns the paragraphs of a Word document in order, separated
// by blank lines: the text runs (w:t) of each paragraph (w:p), with w:tab as
// a tab and w:br and w:cr as line breaks. Table cells are separated by tabs
// and rows by line breaks. Deleted text of tracked changes, field codes and
// the fallback copies of text boxes are left out, so nothing appears twice.
// Headers, footers, footnotes and comments are not part of the main
// document and are not read.
//
// A .docx is a zip of XML parts; encoding/xml and archive/zip are all it
// takes to read the text, and the XML is decoded as a stream, token by token.
func extractDOCX(ctx context.Context, f *os.File, size int64, opt extractOptions) (string, error) {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return "", fmt.Errorf("not a valid .docx (%v): it must be a Word 2007 or later document, which is a zip archive; an old .doc renamed to .docx is not one, so open it in Word and save it as .docx", err)
	}
	var part *zip.File
	for _, zf := range zr.File {
		if zf.Name == docxMainPart {
			part = zf
			break
		}
	}
	if part == nil {
		return "", fmt.Errorf("not a Word document: the zip archive has no %s (is it another Office file renamed to .docx?)", docxMainPart)
	}
	// The XML is several times larger than its text, but a part that
	// inflates far beyond the size limit is a zip bomb, not a document.
	limit := 4 * opt.maxBytes
	if part.UncompressedSize64 > uint64(limit) {
		return "", errTooLarge
	}
	rc, err := part.Open()
	if err != nil {
		return "", fmt.Errorf("open %s in the .docx: %w", docxMainPart, err)
	}
	defer rc.Close()
	text, err := docxText(ctx, io.LimitReader(rc, limit), int(opt.maxBytes))
	if err != nil {
		return "", fmt.Errorf("read %s in the .docx: %w", docxMainPart, err)
	}
	return text, nil
}

// docxText extracts the text of a WordprocessingML document part.
func docxText(ctx context.Context, r io.Reader, limit int) (string, error) {
	out := textBuilder{limit: limit}
	d := xml.NewDecoder(r)
	// Word writes UTF-8, but XML allows other encodings if declared.
	d.CharsetReader = charset.NewReaderLabel
	var (
		inText bool // inside w:t
		skip   int  // depth inside elements whose text is left out
		tables int  // open w:tbl elements
		cell   int  // cells seen in the current table row
		// cellPara is set when a paragraph of a table cell has ended: a
		// further paragraph of the same cell is joined with a space, so
		// that each table row stays on one line.
		cellPara bool
		tokens   int
	)
	for {
		tokens++
		if tokens%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return "", err
			}
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out.String()
		}
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if skip > 0 || leftOutDOCX(tok.Name) {
				skip++
				continue
			}
			if !wordNS(tok.Name.Space) {
				continue
			}
			switch tok.Name.Local {
			case "t":
				inText = true
			case "tab", "ptab":
				out.write("\t")
			case "br", "cr":
				out.lineBreak()
			case "noBreakHyphen":
				out.write("-")
			case "tbl":
				tables++
				out.paragraph()
			case "tr":
				cell = 0
				out.lineBreak()
			case "tc":
				if cell > 0 {
					out.write("\t")
				}
				cell++
				cellPara = false
			}
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			if !wordNS(tok.Name.Space) {
				continue
			}
			switch tok.Name.Local {
			case "t":
				inText = false
			case "p":
				if tables > 0 {
					cellPara = true
				} else {
					out.paragraph()
				}
			case "tbl":
				tables--
				cellPara = false
				out.paragraph()
			}
		case xml.CharData:
			if inText && skip == 0 && len(tok) > 0 {
				if cellPara {
					out.write(" ")
					cellPara = false
				}
				out.write(string(tok))
			}
		}
	}
}

// wordNS reports whether space is a WordprocessingML namespace.
func wordNS(space string) bool { return space == nsWordTransitional || space == nsWordStrict }

// leftOutDOCX reports whether the content of an element is not part of the
// document's visible text: deleted runs of tracked changes (w:del holds
// w:delText), field instructions (w:instrText, e.g. "PAGE \* MERGEFORMAT"),
// and mc:Fallback, which repeats the content of mc:Choice (text boxes are
// stored twice, as DrawingML and as VML, for older Word versions).
func leftOutDOCX(n xml.Name) bool {
	if n.Space == nsMarkupCompat {
		return n.Local == "Fallback"
	}
	if !wordNS(n.Space) {
		return false
	}
	switch n.Local {
	case "del", "delText", "instrText", "delInstrText":
		return true
	}
	return false
}
