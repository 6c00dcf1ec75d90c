package readers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// sniffSize is how much of a CSV input is looked at to detect its encoding
// and delimiter. 64 KB holds hundreds of typical records and is read anyway.
const sniffSize = 64 << 10

// Encodings as accepted by Options.Encoding after normalization.
const (
	encodingUTF8    = "utf-8"
	encodingGB18030 = "gb18030"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// csvReader reads CSV and TSV with encoding/csv.
//
// Total is never known: counting records means parsing the whole file (a
// quoted field may hold newlines), which would double the read cost before
// the first row. CountRows does that count on demand, in the background.
type csvReader struct {
	name    string // base name of the file, for keys and messages
	closer  io.Closer
	cr      *csv.Reader
	columns []string
	// checkUTF8 is set when the encoding was detected as UTF-8 from the
	// first 64 KB only: invalid bytes later on mean the guess was wrong.
	checkUTF8 bool
	opts      Options
	index     int
	reads     int
	err       error // sticky: io.EOF or a fatal error
}

var _ Reader = (*csvReader)(nil)

// NewCSVReader reads CSV from r, which it does not close. name is used in
// row keys and messages ("reviews.csv:7"). The encoding and, unless
// opts.Delimiter is set, the delimiter are detected from the first 64 KB;
// the header is read before NewCSVReader returns.
func NewCSVReader(r io.Reader, name string, opts Options) (Reader, error) {
	format := FormatCSV
	if opts.Format != "" {
		f, err := normalizeFormat(opts.Format)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		format = f
	}
	if format != FormatCSV && format != FormatTSV {
		return nil, fmt.Errorf("%s: NewCSVReader cannot read format %s", name, format)
	}
	return newCSVReader(r, name, format, opts)
}

func newCSVReader(src io.Reader, name, format string, opts Options) (*csvReader, error) {
	encoding, err := normalizeEncoding(opts.Encoding)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}

	br := bufio.NewReaderSize(src, sniffSize)
	sample, err := br.Peek(sniffSize)
	atEOF := false
	switch {
	case err == io.EOF:
		atEOF = true
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", name, err)
	}

	checkUTF8 := false
	if encoding == "" {
		encoding = encodingGB18030
		if validUTF8Prefix(sample) {
			encoding, checkUTF8 = encodingUTF8, true
		}
	}

	var text io.Reader = br
	if encoding == encodingGB18030 {
		text = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
		// The sample is decoded only for sniffing; an incomplete character at
		// its end is harmless there.
		sample, _, _ = transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), sample)
	}
	// Stripping the BOM before the CSV parser sees it matters: after parsing,
	// a quoted first header ("\uFEFF"name"...) would already be a parse error.
	text = stripBOM(text)

	delim := opts.Delimiter
	switch {
	case delim != 0:
		if !validDelim(delim) {
			return nil, fmt.Errorf("%s: invalid delimiter %q: use a single character other than a quote, CR or LF", name, delim)
		}
	case format == FormatTSV:
		delim = '\t'
	default:
		delim = sniffDelimiter(sample, atEOF)
	}

	cr := csv.NewReader(text)
	cr.Comma = delim
	cr.FieldsPerRecord = -1 // ragged rows are reported per row, not as a parse error
	cr.ReuseRecord = true   // values are copied out in Read
	r := &csvReader{name: name, cr: cr, checkUTF8: checkUTF8, opts: opts}

	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("%s is empty: expected a header row with the column names", name)
		}
		if err != nil {
			return nil, r.readError(err)
		}
		if blank(rec) {
			continue
		}
		if err := r.validate(rec); err != nil {
			return nil, err
		}
		r.columns = headerNames(rec)
		return r, nil
	}
}

// Columns returns the header names (deduplicated, never empty). The slice
// must not be modified.
func (r *csvReader) Columns() []string { return r.columns }

// Total returns ok=false: see CountRows.
func (r *csvReader) Total() (int, bool) { return 0, false }

// Close closes the file (stdin is left open).
func (r *csvReader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// Read returns the next data record. A record with a different number of
// fields than the header is returned as a *RowError; a quoting error ends
// the read, because encoding/csv cannot reliably find the next record after
// one.
func (r *csvReader) Read(ctx context.Context) (Row, error) {
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
		rec, err := r.cr.Read()
		if err != nil {
			if err != io.EOF {
				err = r.readError(err)
			}
			r.err = err
			return Row{}, err
		}
		if blank(rec) {
			continue
		}
		if err := r.validate(rec); err != nil {
			r.err = err
			return Row{}, err
		}
		line, _ := r.cr.FieldPos(0)
		n := len(r.columns)
		// Copying the slice is enough: the strings themselves are fresh for
		// every record even with ReuseRecord; only the slice is reused.
		values := make([]string, n)
		copy(values, rec)
		row := Row{Index: r.index, Key: r.name + ":" + strconv.Itoa(line), Values: values}
		r.index++

		switch {
		case len(rec) == n:
		case len(rec) < n && r.opts.AllowRagged:
			// padded by make
		case len(rec) > n && r.opts.AllowRagged && blank(rec[n:]):
			// Trailing empty fields ("a,b,c,,") hold no data; cutting them loses nothing.
		case len(rec) > n && r.opts.AllowRagged:
			return row, &RowError{Row: row, Err: fmt.Errorf("%s line %d: %d fields, header has %d (the extra fields have no column; fix the row or add a header for them)", r.name, line, len(rec), n)}
		default:
			return row, &RowError{Row: row, Err: fmt.Errorf("%s line %d: %d fields, header has %d (fix the row, or pass --allow-ragged to pad short rows)", r.name, line, len(rec), n)}
		}
		return row, nil
	}
}

// count counts the remaining data records without building rows. It backs
// CountRows and must be called on a fresh reader.
func (r *csvReader) count(ctx context.Context) (int, error) {
	n := 0
	for {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		rec, err := r.cr.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, r.readError(err)
		}
		if !blank(rec) {
			n++
		}
	}
}

// validate rejects a record with bytes that are not UTF-8 when the encoding
// was only guessed from the start of the file.
func (r *csvReader) validate(rec []string) error {
	if !r.checkUTF8 {
		return nil
	}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			line, _ := r.cr.FieldPos(i)
			return fmt.Errorf("%s line %d: text is not valid UTF-8, although the first 64 KB of the file were; if the file is GBK/GB18030 pass --encoding gb18030, or pass --encoding utf-8 to read it as it is", r.name, line)
		}
	}
	return nil
}

// readError turns an error of encoding/csv into one that names the file and
// line and says what to do.
func (r *csvReader) readError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("read %s: %w", r.name, err)
	}
	where := fmt.Sprintf("%s line %d, column %d", r.name, pe.Line, pe.Column)
	if pe.StartLine != pe.Line {
		where = fmt.Sprintf("%s line %d, column %d (in the record that starts on line %d)", r.name, pe.Line, pe.Column, pe.StartLine)
	}
	hint := `fix the quoting: a field that contains a quote, delimiter or line break must be enclosed in double quotes, and each quote inside it doubled ("")`
	if errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line {
		hint = `a quoted field that starts on line ` + strconv.Itoa(pe.StartLine) + ` is probably never closed; ` + hint
	}
	return fmt.Errorf("%s: %w; %s. Reading stopped here, as the rest of the file cannot be split into records reliably", where, pe.Err, hint)
}

// normalizeEncoding maps an --encoding value to encodingUTF8,
// encodingGB18030 or "" (detect).
func normalizeEncoding(enc string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "":
		return "", nil
	case "utf-8", "utf8":
		return encodingUTF8, nil
	// GB18030 is a superset of GBK and GB2312, so one decoder reads all three.
	case "gb18030", "gbk", "gb2312", "cp936":
		return encodingGB18030, nil
	}
	return "", fmt.Errorf("unsupported encoding %q; pass --encoding utf-8 or --encoding gb18030 (also for GBK)", enc)
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing the last
// character to be cut short: b is a fixed-size window into a longer input.
func validUTF8Prefix(b []byte) bool {
	// Find where the last character starts (at most 3 bytes back) and drop it
	// if it is incomplete.
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return utf8.Valid(b)
}

// stripBOM returns a reader that skips a leading UTF-8 byte order mark.
func stripBOM(r io.Reader) io.Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	// A read error here shows up again on the first real read.
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	return br
}

// validDelim mirrors the rules of encoding/csv for Comma.
func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// delimCandidates are the delimiters sniffDelimiter chooses from, in order
// of preference when the evidence is equal.
var delimCandidates = []byte{',', '\t', ';', '|'}

// sniffDelimiter picks the delimiter of a CSV sample: the candidate that
// appears the same number of times (outside quotes) in every record, the
// most often if several do. If none is consistent (ragged rows), the one
// whose most common per-record count is shared by the most records wins.
// With no candidate in the sample at all (a single column) it is a comma.
// atEOF says whether the sample is the whole input; if not, its last,
// probably incomplete, line is ignored.
func sniffDelimiter(sample []byte, atEOF bool) rune {
	if !atEOF {
		if i := bytes.LastIndexByte(sample, '\n'); i >= 0 {
			sample = sample[:i+1]
		}
	}
	var (
		records  [][4]int
		cur      [4]int
		inQuote  bool
		hasValue bool
	)
	for _, c := range sample {
		switch c {
		case '"':
			inQuote = !inQuote // a doubled "" toggles twice, which is right
			hasValue = true
		case '\n':
			if inQuote {
				continue
			}
			if hasValue {
				records = append(records, cur)
			}
			cur, hasValue = [4]int{}, false
		case '\r', ' ':
		default:
			hasValue = true
			if !inQuote {
				for i, d := range delimCandidates {
					if c == d {
						cur[i]++
					}
				}
			}
		}
	}
	if hasValue {
		records = append(records, cur)
	}
	if len(records) == 0 {
		return ','
	}

	best, bestConsistent, bestCount, bestShare := -1, false, 0, 0
	for i := range delimCandidates {
		first := records[0][i]
		consistent := first > 0
		freq := map[int]int{}
		for _, rec := range records {
			if rec[i] != first {
				consistent = false
			}
			if rec[i] > 0 {
				freq[rec[i]]++
			}
		}
		mode, share := 0, 0
		for count, n := range freq {
			if n > share || (n == share && count > mode) {
				mode, share = count, n
			}
		}
		if share == 0 {
			continue
		}
		better := false
		switch {
		case best < 0:
			better = true
		case consistent != bestConsistent:
			better = consistent
		case consistent:
			better = first > bestCount
		default:
			better = share > bestShare || (share == bestShare && mode > bestCount)
		}
		if better {
			best, bestConsistent, bestShare = i, consistent, share
			bestCount = mode
		}
	}
	if best < 0 {
		return ','
	}
	return rune(delimCandidates[best])
}
