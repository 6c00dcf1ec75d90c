package samplegen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// EncodeExcelCSV copies the UTF-8 CSV text read from src to dst the way a
// Chinese-locale Excel saves "CSV (逗号分隔)": GB18030 (a superset of the
// GBK code page 936 that Excel uses) with CRLF at the end of every record,
// including the last one, and no byte-order mark.
//
// Line breaks inside quoted fields are left as bare LF, because that is how
// Excel stores a line break typed into a cell (Alt+Enter); only record ends
// become CRLF. A leading UTF-8 BOM is dropped and existing CRLF record ends
// are kept as they are. It streams: memory does not grow with the input.
func EncodeExcelCSV(dst io.Writer, src io.Reader) error {
	enc := transform.NewWriter(dst, simplifiedchinese.GB18030.NewEncoder())
	out := bufio.NewWriter(enc)
	in := bufio.NewReader(src)

	if r, _, err := in.ReadRune(); err == nil && r != '\uFEFF' {
		_ = in.UnreadRune() // cannot fail right after a successful ReadRune
	}

	line := 1 // physical line of src, for error messages
	inQuotes := false
	quoteLine := 0 // where the open quoted field started
	last := rune(-1)
	for {
		r, size, err := in.ReadRune()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("line %d: invalid UTF-8; save the file as UTF-8 and retry", line)
		}
		last = r
		switch {
		case r == '"':
			// An escaped quote ("") toggles twice, which leaves the state as it was.
			inQuotes = !inQuotes
			if inQuotes {
				quoteLine = line
			}
		case r == '\r' && !inQuotes:
			if next, _ := in.Peek(1); len(next) == 1 && next[0] == '\n' {
				continue // the '\n' that follows writes the CRLF
			}
		case r == '\n':
			line++
			if !inQuotes {
				if _, err := out.WriteString("\r\n"); err != nil {
					return fmt.Errorf("line %d: %w", line, err)
				}
				continue
			}
		}
		if _, err := out.WriteRune(r); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	if inQuotes {
		return fmt.Errorf("line %d: quoted field is never closed; add the missing '\"'", quoteLine)
	}
	if last != -1 && last != '\n' {
		if _, err := out.WriteString("\r\n"); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("encode GB18030: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode GB18030: %w", err)
	}
	return nil
}
