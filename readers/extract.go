package readers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
)

// extractFunc extracts the text of one document. f is open at offset 0 and
// size is its length (at most opt.maxBytes).
type extractFunc func(ctx context.Context, f *os.File, size int64, opt extractOptions) (string, error)

// extractorFor returns the extractor for a lower-case extension without the
// dot, or nil when the folder reader skips such files. Every other file in a
// folder is skipped: a folder of documents usually also holds images,
// spreadsheets and the like, and those are not an error.
//
//	.txt .md .markdown   plain text: UTF-8 with or without BOM, UTF-16 with BOM, else GB18030
//	.html .htm           the visible text (no <head>, <script>, <style>)
//	.docx                the paragraphs of the main document, in order
//	.pdf                 the text layer (a scanned PDF without one is a *RowError)
func extractorFor(ext string) extractFunc {
	switch ext {
	case "txt", "md", "markdown":
		return extractPlain
	case "html", "htm":
		return extractHTML
	case "docx":
		return extractDOCX
	case "pdf":
		return extractPDF
	}
	return nil
}

// supportedDocExts lists the extensions of extractorFor for messages, in a
// fixed order.
const supportedDocExts = ".txt .md .markdown .html .htm .docx .pdf"

// DefaultMaxDocBytes is the size limit of one document when
// Options.MaxDocBytes is 0. A document is read whole, so this bounds the
// memory of a folder run; 50 MB is far more text than any model context
// holds (a long book is a few MB), so anything larger is more likely a
// mistake (a PDF of scans, a log file) than a document to summarise.
const DefaultMaxDocBytes = 50 << 20

// extractOptions carries what the extractors need besides the file.
type extractOptions struct {
	// maxBytes caps the file size and also the decompressed or extracted
	// text, so that a small zip or PDF stream that inflates enormously (a
	// "zip bomb") cannot blow up memory either.
	maxBytes int64
	// encoding is encodingUTF8, encodingGB18030 or "" to detect; it only
	// applies to plain text files.
	encoding string
}

// errTooLarge is returned by extractors when the text outgrows maxBytes.
var errTooLarge = errors.New("too large")

// readAllLimited reads r to the end, failing with errTooLarge past limit.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// textBuilder collects extracted text with the structure the extractors
// know about (line and paragraph breaks) and stops growing past a limit.
// Breaks are only written before the next text, so trailing breaks and runs
// of breaks cost nothing and need no trimming later.
type textBuilder struct {
	b     strings.Builder
	limit int
	over  bool
	// pending is the break owed before the next text: 0 none, 1 a line
	// break, 2 a paragraph break (a blank line).
	pending int
}

// write appends s, first writing any pending break.
func (t *textBuilder) write(s string) {
	if s == "" || t.over {
		return
	}
	if t.b.Len() > 0 {
		switch t.pending {
		case 1:
			t.b.WriteByte('\n')
		case 2:
			t.b.WriteString("\n\n")
		}
	}
	t.pending = 0
	if t.b.Len()+len(s) > t.limit {
		t.over = true
		return
	}
	t.b.WriteString(s)
}

// lineBreak asks for a line break before the next text.
func (t *textBuilder) lineBreak() { t.pending = max(t.pending, 1) }

// atLineStart reports whether the next text starts a line or a table cell,
// where leading white space means nothing.
func (t *textBuilder) atLineStart() bool {
	if t.pending > 0 || t.b.Len() == 0 {
		return true
	}
	last := t.b.String()[t.b.Len()-1]
	return last == '\n' || last == '\t'
}

// paragraph asks for a blank line before the next text.
func (t *textBuilder) paragraph() { t.pending = 2 }

// String returns the text normalized, or errTooLarge.
func (t *textBuilder) String() (string, error) {
	if t.over {
		return "", errTooLarge
	}
	return normalizeText(t.b.String()), nil
}

// normalizeText tidies extracted text for a prompt: line ends become "\n",
// spaces at the ends of lines go, runs of blank lines become one blank line
// (which is how a paragraph break is kept), and the text is trimmed.
// Indentation is kept: in Markdown and code it carries meaning. Control
// characters other than tab and newline (form feeds between PDF pages, NULs
// from broken files) would only confuse a model and are dropped; a form or
// vertical feed is a line break.
func normalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\f' || r == '\v' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			return '\n'
		case r == '\t' || r == '\n':
			return r
		case r == '\uFEFF' || unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	var b strings.Builder
	b.Grow(len(s))
	blank := 0 // blank lines seen since the last text line
	for line := range strings.Lines(s) {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if line == "" {
			blank++
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
			if blank > 0 {
				b.WriteByte('\n')
			}
		}
		blank = 0
		b.WriteString(line)
	}
	return b.String()
}

// formatSize writes a byte count for people: "812 bytes", "3.4 MB".
func formatSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
}
