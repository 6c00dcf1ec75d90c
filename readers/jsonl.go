package readers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// jsonlReader reads JSON Lines: one JSON object per line.
//
// The columns are the union of the top-level keys of all lines, in the order
// they are first seen, so Open makes a pre-pass over the file to collect
// them. The pre-pass also counts the rows, so Total is known. Only one line
// is held in memory at a time, however long it is.
type jsonlReader struct {
	name   string
	f      *os.File
	remove string // temporary copy of stdin to delete on Close, or ""
	br     *bufio.Reader
	buf    []byte // reused for lines longer than br's buffer
	// decode is set for --encoding gb18030; checkUTF8 when no encoding was
	// given and the pre-pass must make sure the file is UTF-8.
	decode, checkUTF8 bool
	columns           []string
	colIdx            map[string]int
	total             int
	line              int // 1-based number of the last line read
	index             int
	reads             int
	err               error // sticky: io.EOF or a fatal error
}

var _ Reader = (*jsonlReader)(nil)

// jsonlBufSize is the bufio buffer size; longer lines are assembled in
// jsonlReader.buf, so it is no limit on the line length.
const jsonlBufSize = 64 << 10

// openJSONL opens path and runs the pre-pass. name is used in keys and
// messages; remove, if set, is a temporary file that Close (or a failed
// open) deletes.
//
// JSON text is UTF-8 by definition, but files saved by Chinese Windows tools
// are sometimes GBK: --encoding gb18030 decodes them. Without --encoding the
// pre-pass checks that every line is UTF-8, so that a GBK file is refused
// with a hint before any row is processed rather than sent on as mojibake.
func openJSONL(ctx context.Context, path, name, remove string, opts Options) (_ *jsonlReader, err error) {
	defer func() {
		if err != nil && remove != "" {
			os.Remove(remove)
		}
	}()
	encoding, err := normalizeEncoding(opts.Encoding)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	r := &jsonlReader{name: name, f: f, remove: remove, colIdx: map[string]int{}}
	r.decode = encoding == encodingGB18030
	r.checkUTF8 = encoding == ""
	r.reset()
	if err := r.prepass(ctx); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("rewind %s: %w", name, err)
	}
	r.reset()
	r.line, r.buf = 0, nil
	return r, nil
}

// reset starts reading the file from its current offset.
func (r *jsonlReader) reset() {
	var src io.Reader = r.f
	if r.decode {
		src = transform.NewReader(r.f, simplifiedchinese.GB18030.NewDecoder())
	}
	r.br = bufio.NewReaderSize(src, jsonlBufSize)
}

// prepass collects the keys and counts the non-blank lines. Lines that are
// not JSON objects are skipped here; Read reports them when it reaches them.
func (r *jsonlReader) prepass(ctx context.Context) error {
	var firstErr error
	for {
		if r.line%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if line == nil {
			continue
		}
		r.total++
		if r.checkUTF8 && !utf8.Valid(line) {
			return fmt.Errorf("%s line %d: text is not valid UTF-8; if the file is GBK/GB18030 pass --encoding gb18030, or pass --encoding utf-8 to read it as it is", r.name, r.line)
		}
		perr := parseObject(line, func(key string, _ []byte) error {
			if _, ok := r.colIdx[key]; !ok {
				r.colIdx[key] = len(r.columns)
				r.columns = append(r.columns, key)
			}
			return nil
		})
		if perr != nil && firstErr == nil {
			firstErr = r.lineError(perr)
		}
	}
	if len(r.columns) > 0 {
		return nil
	}
	switch {
	case firstErr != nil:
		return fmt.Errorf("%s has no usable rows; the first problem: %w", r.name, firstErr)
	case r.total == 0:
		return fmt.Errorf("%s is empty: expected one JSON object per line", r.name)
	default:
		return fmt.Errorf(`%s: no line has any keys; each line must be a JSON object such as {"text": "..."}`, r.name)
	}
}

// next returns the next non-blank line, trimmed, or nil for a blank line,
// advancing r.line. The slice is valid until the next call.
func (r *jsonlReader) next() ([]byte, error) {
	chunk, err := r.br.ReadSlice('\n')
	line := chunk
	if err == bufio.ErrBufferFull {
		// A long line: assemble it in r.buf. ReadSlice (unlike bufio.Scanner)
		// has no size limit this way; lines of several MB are fine.
		r.buf = append(r.buf[:0], chunk...)
		for err == bufio.ErrBufferFull {
			chunk, err = r.br.ReadSlice('\n')
			r.buf = append(r.buf, chunk...)
		}
		line = r.buf
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read %s line %d: %w", r.name, r.line+1, err)
	}
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	r.line++
	if r.line == 1 {
		line = bytes.TrimPrefix(line, utf8BOM)
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil
	}
	return line, nil
}

// Columns returns the union of the top-level keys, in first-seen order. The
// slice must not be modified.
func (r *jsonlReader) Columns() []string { return r.columns }

// Total returns the number of non-blank lines, counted by the pre-pass
// (lines that Read will report as a *RowError included).
func (r *jsonlReader) Total() (int, bool) { return r.total, true }

// Close closes the file and removes the temporary copy of stdin, if any.
func (r *jsonlReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	if r.remove != "" {
		if rerr := os.Remove(r.remove); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// Read returns the next line as a row. Values are strings as they are,
// numbers as their literal JSON text (1.50 stays "1.50"), true/false, "" for
// null and a missing key, and compact JSON text for objects and arrays.
// Row.JSON holds each value's original JSON text (nil for a missing key).
// A line that is not a JSON object is returned as a *RowError.
func (r *jsonlReader) Read(ctx context.Context) (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	if r.reads%ctxCheckEvery == 0 {
		if err := ctx.Err(); err != nil {
			return Row{}, err
		}
	}
	r.reads++
	for {
		line, err := r.next()
		if err != nil {
			r.err = err
			return Row{}, err
		}
		if line == nil {
			continue
		}
		n := len(r.columns)
		row := Row{
			Index:  r.index,
			Key:    r.name + ":" + strconv.Itoa(r.line),
			Values: make([]string, n),
			JSON:   make([]json.RawMessage, n),
		}
		r.index++
		// One copy of the line backs all of the row's raw values: the line
		// buffer is reused by the next read.
		line = bytes.Clone(line)
		err = parseObject(line, func(key string, raw []byte) error {
			i, ok := r.colIdx[key]
			if !ok {
				return fmt.Errorf("key %q was not in the file when its keys were collected; was the file changed while it was read?", key)
			}
			v, err := jsonText(raw)
			if err != nil {
				return err
			}
			row.Values[i], row.JSON[i] = v, raw
			return nil
		})
		// The values are copies now, so a big r.buf
		// left by a line over 1 MB can go rather than stay alive until Close.
		if cap(r.buf) > 1<<20 {
			r.buf = nil
		}
		if err != nil {
			// Partly decoded values would be misleading next to the error.
			clear(row.Values)
			clear(row.JSON)
			return row, &RowError{Row: row, Err: r.lineError(err)}
		}
		return row, nil
	}
}

// lineError adds the file, the line and a hint to a problem with one line.
func (r *jsonlReader) lineError(err error) error {
	return fmt.Errorf("%s line %d: %w (each line must be one JSON object)", r.name, r.line, err)
}

// errNotObject describes a line that is valid JSON but not an object.
type errNotObject struct{ kind string }

func (e errNotObject) Error() string { return "found " + e.kind + ", not a JSON object" }

// parseObject checks that line is one JSON object and calls fn for each
// top-level key with its raw value (a slice of line), in the order of the
// line; a map would lose that order.
//
// json.Valid checks the whole line first (fast, no allocations); knowing it
// is valid, a small scanner then only has to find where each key and value
// ends. This is several times faster than walking the line with
// json.Decoder tokens, which allocates for every token.
func parseObject(line []byte, fn func(key string, raw []byte) error) error {
	if !json.Valid(line) {
		// Decode again, only to get the message of the syntax error.
		return invalidJSON(json.Unmarshal(line, new(json.RawMessage)))
	}
	i := skipSpace(line, 0)
	if line[i] != '{' {
		return errNotObject{kind: jsonKind(line[i])}
	}
	i = skipSpace(line, i+1)
	if line[i] == '}' {
		return nil
	}
	for {
		end := stringEnd(line, i)
		key, err := jsonString(line[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(line, end) // at ':'
		i = skipSpace(line, i+1) // at the value
		end = valueEnd(line, i)
		if err := fn(key, line[i:end]); err != nil {
			return err
		}
		i = skipSpace(line, end) // at ',' or '}'
		if line[i] == '}' {
			return nil
		}
		i = skipSpace(line, i+1)
	}
}

func invalidJSON(err error) error {
	return fmt.Errorf("invalid JSON: %w", err)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at
// b[i] == '"'. b must be valid JSON.
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; j++ {
		switch b[j] {
		case '\\':
			j++ // skip the escaped byte
		case '"':
			return j + 1
		}
	}
}

// valueEnd returns the index just past the JSON value that starts at b[i].
// b must be valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	}
	j := i // a number, true, false or null
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
		j++
	}
	return j
}

// jsonKind names the JSON type of a value from its first byte.
func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonString decodes a raw JSON string.
func jsonString(raw []byte) (string, error) {
	// Fast path: nothing to unescape and nothing to repair.
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalidJSON(err)
	}
	return s, nil
}

// jsonText renders a raw JSON value as the text a template should see.
func jsonText(raw []byte) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	switch raw[0] {
	case '"':
		return jsonString(raw)
	case 'n':
		return "", nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", invalidJSON(err)
		}
		return b.String(), nil
	}
	// Numbers keep their literal text: 1.50 and 12345678901234567890 must not
	// go through float64. true and false are their own text.
	return string(raw), nil
}
