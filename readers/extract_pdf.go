package readers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// errNoTextLayer is the error of a PDF that has pages but no text on them:
// a scan, or a document "printed" to images. Only OCR can read it.
var errNoTextLayer = errors.New("no text layer (scanned PDF?) — OCR it first, e.g. with ocrmypdf, and point bulkgen at the result")

// maxFormDepth bounds how deeply form XObjects (content reused by
// reference, which may contain text) are followed; a malformed file whose
// forms include each other would otherwise recurse forever.
const maxFormDepth = 8

// maxPageTreeDepth bounds the page tree walk for the same reason.
const maxPageTreeDepth = 64

// extractPDF returns the text layer of a PDF, page by page in the order of
// the content streams, with a line break where the text moves to a new
// line, a blank line where the gap to the previous line is clearly larger
// than the line spacing (a paragraph) and between pages.
//
// It parses with github.com/ledongthuc/pdf (a maintained fork of
// rsc.io/pdf: pure Go, reads from an io.ReaderAt, so only the objects in use
// are loaded) and lays out the text itself from the text-positioning
// operators: the library's own GetPlainText only breaks lines at BT and T*,
// which runs together the lines of most real PDFs.
//
// Malformed files make the library panic; the panic is turned into this
// document's error. An encrypted PDF is read when it opens without a
// password (owner-password-only "protected" PDFs, the common case).
func extractPDF(ctx context.Context, f *os.File, size int64, opt extractOptions) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("malformed PDF: %v; if it opens in a PDF viewer, print it to a new PDF and try that", r)
		}
	}()
	doc, err := pdf.NewReader(pdfHeaderFix{f}, size)
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) {
			return "", errors.New("the PDF is encrypted with a password; remove the password (e.g. qpdf --decrypt) and try again")
		}
		return "", fmt.Errorf("not a readable PDF: %w", err)
	}
	x := pdfText{ctx: ctx, out: textBuilder{limit: int(opt.maxBytes)}}
	if err := x.pages(doc.Trailer().Key("Root").Key("Pages"), 0); err != nil {
		return "", err
	}
	if x.page == 0 {
		return "", errors.New("the PDF has no pages")
	}
	text, err = x.out.String()
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(text) == "" {
		return "", errNoTextLayer
	}
	// Typeset PDFs draw "fi", "fl" and the like as one ligature glyph; a
	// model and a search for "file" want the letters.
	text = strings.NewReplacer("\uFB00", "ff", "\uFB01", "fi", "\uFB02", "fl", "\uFB03", "ffi", "\uFB04", "ffl", "\uFB05", "st", "\uFB06", "st").Replace(collapseSpaces(text))
	if garbled(text) {
		return "", errors.New("the text layer cannot be decoded (its fonts have no Unicode mapping); OCR the PDF, e.g. with ocrmypdf --force-ocr, and point bulkgen at the result")
	}
	return text, nil
}

// pdfHeaderFix presents the header of a PDF 2.0 file as %PDF-1.7: the
// library only accepts 1.x headers, and the parts it reads are the same in
// 2.0. Everything else is read unchanged.
type pdfHeaderFix struct{ r io.ReaderAt }

func (h pdfHeaderFix) ReadAt(p []byte, off int64) (int, error) {
	n, err := h.r.ReadAt(p, off)
	if off < 8 {
		var head [8]byte
		if m, _ := h.r.ReadAt(head[:], 0); m == 8 && bytes.Equal(head[:], []byte("%PDF-2.0")) {
			for i := off; i < 8 && int(i-off) < n; i++ {
				p[i-off] = "%PDF-1.7"[i]
			}
		}
	}
	return n, err
}

// garbled reports whether text is mostly not letters, digits, punctuation
// or spaces, which is what a font without a Unicode mapping decodes to.
func garbled(text string) bool {
	bad, all := 0, 0
	for _, r := range text {
		all++
		if r == utf8.RuneError || r >= 0xE000 && r <= 0xF8FF || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			bad++
		}
	}
	return bad*3 > all
}

// collapseSpaces replaces runs of spaces with one: the layout adds a space
// where the text has one already, and PDFs pad columns with spaces.
func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// pdfText walks the pages of one document.
type pdfText struct {
	ctx  context.Context
	out  textBuilder
	page int // pages seen so far
	// Where the last shown text was, in device space: the baseline, the
	// end of the text, its height (font size) and the last line advance.
	started                     bool
	lastY, lastEndX, lastHeight float64
	lineGap                     float64
}

// pages walks a node of the page tree in order.
func (x *pdfText) pages(node pdf.Value, depth int) error {
	if depth > maxPageTreeDepth {
		return errors.New("malformed PDF: the page tree is too deep (a loop?)")
	}
	switch node.Key("Type").Name() {
	case "Pages":
		kids := node.Key("Kids")
		for i := range kids.Len() {
			if err := x.pages(kids.Index(i), depth+1); err != nil {
				return err
			}
		}
		return nil
	case "Page":
		x.page++
		if err := x.ctx.Err(); err != nil {
			return err
		}
		if err := x.content(node); err != nil {
			return fmt.Errorf("page %d: %w", x.page, err)
		}
		if x.out.over {
			return errTooLarge
		}
		// A page break is a paragraph break; the next page's first line
		// must not be compared with this page's last.
		x.out.paragraph()
		x.started = false
		return nil
	}
	return nil
}

// content interprets the content stream of a page.
func (x *pdfText) content(page pdf.Value) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot read the page content: %v", r)
		}
	}()
	contents := page.Key("Contents")
	if contents.IsNull() {
		return nil
	}
	res := inheritedKey(page, "Resources")
	x.interpret(contents, res, identity, 0)
	return nil
}

// inheritedKey looks key up on a page and, as the PDF format allows, on its
// ancestors in the page tree.
func inheritedKey(v pdf.Value, key string) pdf.Value {
	for range maxPageTreeDepth {
		if r := v.Key(key); !r.IsNull() {
			return r
		}
		v = v.Key("Parent")
		if v.IsNull() {
			break
		}
	}
	return pdf.Value{}
}

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n (m applied first).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2],
		m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2],
		m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4],
		m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func translate(tx, ty float64) matrix { return matrix{1, 0, 0, 1, tx, ty} }

// pdfFont is what text layout needs of a font: its decoding to Unicode and
// the widths of its glyphs.
type pdfFont struct {
	enc pdf.TextEncoding
	// twoByte is set for composite (Type0) fonts, whose codes are two bytes
	// (Identity-H and the common CJK encodings).
	twoByte bool
	first   int
	widths  []float64       // simple fonts: widths from FirstChar, 1/1000 em
	cidW    map[int]float64 // composite fonts: the W array
	dw      float64         // composite fonts: the default width
}

func loadFont(v pdf.Value) *pdfFont {
	f := pdf.Font{V: v}
	pf := &pdfFont{enc: f.Encoder()}
	if v.Key("Subtype").Name() == "Type0" {
		pf.twoByte = true
		desc := v.Key("DescendantFonts").Index(0)
		pf.dw = 1000
		if dw := desc.Key("DW"); !dw.IsNull() {
			pf.dw = dw.Float64()
		}
		pf.cidW = map[int]float64{}
		w := desc.Key("W")
		for i := 0; i < w.Len(); {
			c := int(w.Index(i).Int64())
			next := w.Index(i + 1)
			if next.Kind() == pdf.Array {
				for j := range next.Len() {
					pf.cidW[c+j] = next.Index(j).Float64()
				}
				i += 2
				continue
			}
			last, width := int(next.Int64()), w.Index(i+2).Float64()
			for cid := c; cid <= last && cid-c < 1<<16; cid++ {
				pf.cidW[cid] = width
			}
			i += 3
		}
		return pf
	}
	pf.first = f.FirstChar()
	pf.widths = f.Widths()
	return pf
}

// width returns the advance of the codes in raw, in 1/1000 em. Without
// widths (the standard 14 fonts may omit them) it guesses half an em per
// byte, which is only used to decide where spaces go.
func (f *pdfFont) width(raw string) float64 {
	w := 0.0
	if f.twoByte {
		for i := 0; i+1 < len(raw); i += 2 {
			cid := int(raw[i])<<8 | int(raw[i+1])
			if cw, ok := f.cidW[cid]; ok {
				w += cw
			} else {
				w += f.dw
			}
		}
		return w
	}
	for i := 0; i < len(raw); i++ {
		if k := int(raw[i]) - f.first; k >= 0 && k < len(f.widths) && f.widths[k] > 0 {
			w += f.widths[k]
		} else {
			w += 500
		}
	}
	return w
}

// gstate is the graphics and text state that text layout depends on.
type gstate struct {
	ctm     matrix
	font    *pdfFont
	size    float64
	leading float64
	charSp  float64
	wordSp  float64
	hScale  float64
	tm, tlm matrix
}

// interpret runs one content stream (of a page or a form XObject).
func (x *pdfText) interpret(strm, res pdf.Value, ctm matrix, depth int) {
	fonts := map[string]*pdfFont{}
	g := gstate{ctm: ctm, hScale: 1, size: 1, tm: identity, tlm: identity}
	var stack []gstate
	font := func(name string) *pdfFont {
		if f, ok := fonts[name]; ok {
			return f
		}
		f := loadFont(res.Key("Font").Key(name))
		fonts[name] = f
		return f
	}
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].Float64()
			}
			return 0
		}
		switch op {
		case "q":
			stack = append(stack, g)
		case "Q":
			if k := len(stack); k > 0 {
				g, stack = stack[k-1], stack[:k-1]
			}
		case "cm":
			if len(args) == 6 {
				g.ctm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}.mul(g.ctm)
			}
		case "BT":
			g.tm, g.tlm = identity, identity
		case "Tf":
			if len(args) == 2 {
				g.font = font(args[0].Name())
				g.size = num(1)
			}
		case "TL":
			g.leading = num(0)
		case "Tc":
			g.charSp = num(0)
		case "Tw":
			g.wordSp = num(0)
		case "Tz":
			g.hScale = num(0) / 100
		case "Td":
			g.tlm = translate(num(0), num(1)).mul(g.tlm)
			g.tm = g.tlm
		case "TD":
			g.leading = -num(1)
			g.tlm = translate(num(0), num(1)).mul(g.tlm)
			g.tm = g.tlm
		case "Tm":
			if len(args) == 6 {
				g.tlm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}
				g.tm = g.tlm
			}
		case "T*":
			g.tlm = translate(0, -g.leading).mul(g.tlm)
			g.tm = g.tlm
		case "'", "\"":
			if op == "\"" && len(args) == 3 {
				g.wordSp, g.charSp = num(0), num(1)
			}
			g.tlm = translate(0, -g.leading).mul(g.tlm)
			g.tm = g.tlm
			if len(args) > 0 {
				x.show(&g, args[len(args)-1].RawString())
			}
		case "Tj":
			if len(args) == 1 {
				x.show(&g, args[0].RawString())
			}
		case "TJ":
			if len(args) != 1 {
				return
			}
			a := args[0]
			for i := range a.Len() {
				v := a.Index(i)
				if v.Kind() == pdf.String {
					x.show(&g, v.RawString())
					continue
				}
				// A number moves the next glyph left by n/1000 em; a
				// large move to the right is a word space.
				adj := -v.Float64() / 1000 * g.size * g.hScale
				g.tm = translate(adj, 0).mul(g.tm)
			}
		case "Do":
			if len(args) == 1 && depth < maxFormDepth {
				xo := res.Key("XObject").Key(args[0].Name())
				if xo.Key("Subtype").Name() == "Form" {
					formRes := xo.Key("Resources")
					if formRes.IsNull() {
						formRes = res
					}
					m := identity
					if fm := xo.Key("Matrix"); fm.Len() == 6 {
						m = matrix{fm.Index(0).Float64(), fm.Index(1).Float64(), fm.Index(2).Float64(), fm.Index(3).Float64(), fm.Index(4).Float64(), fm.Index(5).Float64()}
					}
					x.interpret(xo, formRes, m.mul(g.ctm), depth+1)
				}
			}
		}
	})
}

// show lays out one string of a text-showing operator: it decides from the
// position whether the text continues the line, starts a new line or a new
// paragraph, writes it, and advances the text matrix by its width.
func (x *pdfText) show(g *gstate, raw string) {
	if raw == "" {
		return
	}
	f := g.font
	if f == nil { // text before any Tf: invalid, but keep what can be read
		f = &pdfFont{}
	}
	s := raw
	if f.enc != nil {
		s = f.enc.Decode(raw)
	}
	s = strings.ToValidUTF8(s, "")

	trm := g.tm.mul(g.ctm)
	height := math.Abs(g.size) * math.Hypot(trm[2], trm[3])
	if height == 0 {
		height = 1
	}
	xPos, yPos := trm[4], trm[5]

	codes := len(raw)
	if f.twoByte {
		codes /= 2
	}
	w := f.width(raw)/1000*g.size + g.charSp*float64(codes) + g.wordSp*float64(strings.Count(raw, " "))
	g.tm = translate(w*g.hScale, 0).mul(g.tm)
	endX := g.tm.mul(g.ctm)[4]

	sameLine := x.started && math.Abs(yPos-x.lastY) <= 0.5*max(height, x.lastHeight)
	if strings.TrimSpace(s) == "" {
		// A space glyph: it separates words on its line, and means nothing
		// at the start of one.
		if sameLine {
			x.out.write(" ")
			x.lastEndX = endX
		}
		return
	}
	switch {
	case !x.started:
	case !sameLine:
		// A new line. It is a new paragraph when the gap is much larger
		// than the line spacing seen so far, or, before any spacing is
		// known, than the font size.
		dy := math.Abs(yPos - x.lastY)
		gap := x.lineGap
		if gap == 0 {
			gap = 1.25 * max(height, x.lastHeight)
		}
		if dy > 1.5*gap {
			x.out.paragraph()
		} else {
			x.out.lineBreak()
			x.lineGap = dy
		}
	case xPos-x.lastEndX > 3*height:
		// A wide gap: the next column of a table. A tab keeps the
		// columns apart, as for the tables of HTML and Word documents.
		x.out.write("\t")
	case xPos-x.lastEndX > 0.15*height || x.lastEndX-xPos > height:
		// A gap in the line (words placed apart instead of separated by
		// a space glyph), or a jump back.
		x.out.write(" ")
	}
	x.out.write(s)
	x.started = true
	x.lastY, x.lastEndX, x.lastHeight = yPos, endX, height
}
