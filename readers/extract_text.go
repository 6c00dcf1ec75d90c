package readers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// Byte order marks of UTF-16. Notepad on Windows saves "Unicode" text as
// UTF-16 LE with a BOM, so such files turn up in document folders.
var (
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// extractPlain reads a .txt or .md file and decodes it to UTF-8. Markdown is
// kept as it is: models read it well, and its markup (headings, lists) is
// the document's structure.
func extractPlain(ctx context.Context, f *os.File, size int64, opt extractOptions) (string, error) {
	data, err := readAllLimited(f, opt.maxBytes)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	text, err := decodeText(data, opt.encoding)
	if err != nil {
		return "", err
	}
	return normalizeText(text), nil
}

// decodeText turns the bytes of a text file into a string. A BOM decides;
// without one, valid UTF-8 is UTF-8, and anything else is taken to be
// GB18030 (a superset of GBK and GB2312), which is what Chinese Windows
// saves as "ANSI". enc forces UTF-8 or GB18030 (after a BOM check, since a
// BOM is never wrong).
func decodeText(data []byte, enc string) (string, error) {
	var dec *encoding.Decoder
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		return string(data[len(utf8BOM):]), nil
	case bytes.HasPrefix(data, utf16LEBOM):
		dec = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(data, utf16BEBOM):
		dec = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	case enc == encodingUTF8:
		return string(data), nil
	case bytes.IndexByte(data, 0) >= 0:
		// No text encoding detected here has NUL bytes; UTF-16 without a
		// BOM does, and so does a binary file with a text extension.
		return "", errors.New("contains NUL bytes, so it is not UTF-8 or GB18030 text (UTF-16 is only recognised with a byte order mark); save it as UTF-8")
	case enc == encodingGB18030 || !utf8.Valid(data):
		dec = simplifiedchinese.GB18030.NewDecoder()
	default:
		return string(data), nil
	}
	out, err := dec.Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decode text: %w; save it as UTF-8", err)
	}
	return string(out), nil
}
