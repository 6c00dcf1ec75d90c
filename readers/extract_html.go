package readers

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// extractHTML returns the text of an HTML page that a reader would see: the
// <body> without scripts, styles, the <title> and elements marked hidden.
// Block elements become line breaks and paragraphs (headings, <p>, lists,
// tables) blank lines; list items get "- " or "1. " and the cells of a table
// row are separated by tabs, so that lists and tables keep their shape in
// the prompt.
//
// It tokenizes rather than building a DOM: a page is read once, front to
// back, and only the text is kept.
func extractHTML(ctx context.Context, f *os.File, size int64, opt extractOptions) (string, error) {
	data, err := readAllLimited(f, opt.maxBytes)
	if err != nil {
		return "", err
	}
	src, err := decodeHTML(data)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	h := htmlText{out: textBuilder{limit: int(opt.maxBytes)}}
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		switch z.Next() {
		case html.ErrorToken:
			// The tokenizer reports io.EOF at the end and never fails on
			// malformed markup (browsers don't either), and reading a
			// string cannot fail otherwise.
			return h.out.String()
		case html.TextToken:
			h.text(z.Text())
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			h.start(atom.Lookup(name), hasAttr && hiddenAttr(z))
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			h.start(atom.Lookup(name), false)
			h.end(atom.Lookup(name))
		case html.EndTagToken:
			name, _ := z.TagName()
			h.end(atom.Lookup(name))
		}
	}
}

// decodeHTML converts a page to UTF-8. A BOM or a <meta charset> in the
// first 1024 bytes decides, as in a browser. Without either, browsers in a
// Western locale fall back to windows-1252, which turns a GBK page into
// mojibake; here the fallback is UTF-8 when the bytes are valid UTF-8 and
// GB18030 otherwise, as for plain text.
func decodeHTML(data []byte) (string, error) {
	enc, name, certain := charset.DetermineEncoding(data, "")
	declared := certain || bytes.Contains(bytes.ToLower(data[:min(len(data), 1024)]), []byte("charset"))
	switch {
	case declared && name == "utf-8":
		return strings.TrimPrefix(string(data), "\uFEFF"), nil
	case declared:
	case utf8.Valid(data):
		return string(data), nil
	default:
		enc = simplifiedchinese.GB18030
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(string(out), "\uFEFF"), nil
}

// hiddenAttr reports whether the current start tag has the hidden
// attribute or aria-hidden="true": such content is not shown to readers.
func hiddenAttr(z *html.Tokenizer) bool {
	for {
		key, val, more := z.TagAttr()
		switch string(key) {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(string(val), "true") {
				return true
			}
		}
		if !more {
			return false
		}
	}
}

// htmlText is the state of extractHTML between tokens.
type htmlText struct {
	out textBuilder
	// skip is the element whose content is being skipped (atom 0: none)
	// and skipDepth how many of them are open, so that a nested <div
	// hidden> inside a hidden <div> does not end the skip early.
	skip      atom.Atom
	skipDepth int
	pre       int // open <pre> and <textarea> elements: white space is kept
	lists     []listState
	cell      int // cells seen in the current table row
}

type listState struct {
	ordered bool
	n       int
}

// skipped are the elements whose content is not visible text.
func skipped(a atom.Atom) bool {
	switch a {
	case atom.Head, atom.Title, atom.Script, atom.Style, atom.Noscript, atom.Template,
		atom.Svg, atom.Math, atom.Iframe, atom.Object, atom.Canvas, atom.Select, atom.Button:
		return true
	}
	return false
}

// void elements never have an end tag, so a skip cannot start at one.
func void(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Link, atom.Meta, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

func (h *htmlText) start(a atom.Atom, hidden bool) {
	if h.skip == atom.Head && a == atom.Body {
		h.skip = 0 // a page without </head> still shows its body
	}
	if h.skip != 0 {
		if a == h.skip {
			h.skipDepth++
		}
		return
	}
	if (skipped(a) || hidden) && !void(a) {
		h.skip, h.skipDepth = a, 1
		return
	}
	switch a {
	case atom.Br:
		h.out.lineBreak()
	case atom.Pre, atom.Textarea:
		h.pre++
		h.out.paragraph()
	case atom.Ul, atom.Ol, atom.Menu:
		h.listBreak()
		h.lists = append(h.lists, listState{ordered: a == atom.Ol})
	case atom.Li:
		h.out.lineBreak()
		if n := len(h.lists); n > 0 {
			l := &h.lists[n-1]
			l.n++
			indent := strings.Repeat("  ", n-1)
			if l.ordered {
				h.out.write(indent + strconv.Itoa(l.n) + ". ")
			} else {
				h.out.write(indent + "- ")
			}
		}
	case atom.Tr:
		h.cell = 0
		h.out.lineBreak()
	case atom.Td, atom.Th:
		if h.cell > 0 {
			h.out.write("\t")
		}
		h.cell++
	default:
		h.block(a)
	}
}

func (h *htmlText) end(a atom.Atom) {
	if h.skip != 0 {
		if a == h.skip {
			h.skipDepth--
			if h.skipDepth == 0 {
				h.skip = 0
			}
		}
		return
	}
	switch a {
	case atom.Pre, atom.Textarea:
		h.pre = max(h.pre-1, 0)
		h.out.paragraph()
	case atom.Ul, atom.Ol, atom.Menu:
		if n := len(h.lists); n > 0 {
			h.lists = h.lists[:n-1]
		}
		h.listBreak()
	case atom.Li, atom.Tr:
		h.out.lineBreak()
	default:
		h.block(a)
	}
}

// listBreak separates a list from the text around it: a paragraph break,
// or a line break for a list nested in another.
func (h *htmlText) listBreak() {
	if len(h.lists) > 0 {
		h.out.lineBreak()
	} else {
		h.out.paragraph()
	}
}

// block asks for the break that a block element puts around its content.
func (h *htmlText) block(a atom.Atom) {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote,
		atom.Table, atom.Dl, atom.Hr, atom.Section, atom.Article, atom.Header, atom.Footer,
		atom.Nav, atom.Aside, atom.Main, atom.Figure, atom.Form, atom.Fieldset, atom.Address,
		atom.Details:
		h.out.paragraph()
	case atom.Div, atom.Dt, atom.Dd, atom.Caption, atom.Figcaption, atom.Summary, atom.Legend,
		atom.Center, atom.Thead, atom.Tbody, atom.Tfoot, atom.Option:
		h.out.lineBreak()
	}
}

// text writes a text node. Outside <pre>, white space collapses to one
// space as a browser renders it, and is dropped at the start of a line.
func (h *htmlText) text(raw []byte) {
	if h.skip != 0 {
		return
	}
	s := strings.ReplaceAll(string(raw), "\u00a0", " ")
	if h.pre > 0 {
		h.out.write(s)
		return
	}
	s = collapseSpace(s)
	if h.out.atLineStart() {
		s = strings.TrimLeft(s, " ")
	}
	h.out.write(s)
}

// collapseSpace replaces each run of HTML white space with one space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}
