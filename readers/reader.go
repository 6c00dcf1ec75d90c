// Package readers turns input files into a stream of rows.
//
// Every format (CSV, JSONL, XLSX, and a folder of documents, one row per
// document) sits behind one small pull interface, in the spirit of
// encoding/csv: Read returns the next row or io.EOF. Readers never
// load the whole input into memory; a row is read when the pipeline asks for
// it, so memory stays flat however large the file is.
package readers

import (
	"context"
	"encoding/json"
)

// Row is one input record.
type Row struct {
	// Index is the 0-based position of the row among the data rows of the
	// input (the header is not counted). The pipeline uses it to put output
	// rows back into input order.
	Index int
	// Key names the row stably and readably for errors, logs and the run
	// store: "catalog.xlsx:Sheet1!12" (the Excel row number), "data.jsonl:37"
	// (the line number), "reviews.csv:5" (the line the record starts on).
	Key string
	// Values holds one string per column of Reader.Columns, in the same
	// order. A missing value is "".
	Values []string
	// JSON optionally holds the original JSON text of each value (JSONL
	// input only; nil otherwise), so that a JSONL writer can keep numbers,
	// booleans and nested objects as they were.
	JSON []json.RawMessage
}

// Reader streams rows out of one input.
type Reader interface {
	// Columns returns the ordered column names. It is known before the
	// first Read (the header row, or for JSONL the keys of the file). The
	// names are unique (CSV and XLSX also never return an empty name); the
	// slice must not be modified.
	Columns() []string
	// Read returns the next row, or io.EOF after the last one. Errors name
	// the file and the line or row.
	//
	// A *RowError is a problem with that one row only (a ragged CSV record,
	// a JSONL line that is not an object): it comes with the row itself
	// (Index and Key set, Values padded to len(Columns) as well as
	// possible), the caller records the row with the error and reads on.
	// Any other error is fatal for the run.
	// Read checks ctx now and then (at least every 256 rows), not on every
	// call.
	Read(ctx context.Context) (Row, error)
	// Total returns the number of data rows when it is known without
	// reading the input a second time, and ok=false otherwise. JSONL knows
	// it from its pre-pass; XLSX takes it from the sheet dimension (an
	// upper bound if the sheet has blank rows); CSV never knows it: use
	// CountRows in the background for a progress bar.
	Total() (n int, ok bool)
	// Close releases the file.
	Close() error
}

// Options selects and tunes a reader. The zero value means "detect".
type Options struct {
	// Format is "csv", "tsv", "jsonl" or "xlsx"; "" detects from the file
	// extension (and is required for stdin).
	Format string
	// Delimiter is the CSV field separator; 0 sniffs it from the first
	// lines (comma, semicolon, tab or pipe).
	Delimiter rune
	// Encoding is "utf-8", "gb18030" (also accepts "gbk") or "" to detect.
	// It applies to CSV and JSONL (JSONL is UTF-8 unless told otherwise);
	// XLSX files always store Unicode and ignore it.
	Encoding string
	// Sheet is an XLSX sheet name or 1-based index; "" means the first sheet.
	Sheet string
	// AllowRagged pads short rows; without it a row with a different number
	// of fields than the header is an error (a *RowError). Even with it, a
	// row longer than the header is an error unless its extra fields are
	// empty, so that no data is dropped silently. (XLSX always pads short
	// rows: Excel does not store trailing empty cells.)
	AllowRagged bool

	// The options below apply to a folder input, which gives one row per
	// document (.txt .md .markdown .html .htm .docx .pdf) with the columns
	// path, name, ext, bytes, modified and text. Encoding applies to its
	// .txt and .md files; Format, Delimiter, Sheet and AllowRagged do not
	// apply to it. (A .txt file given on its own is still read as CSV; in a
	// folder it is a document.)

	// Glob keeps only the documents whose file name matches it, in the
	// syntax of path.Match ("*.pdf", "report-202?.docx"), ignoring case. It
	// is matched against the name, not the path, so "*.pdf" finds PDFs in
	// every subfolder and a pattern with "/" is refused.
	Glob string
	// Hidden also reads files and folders whose names start with ".",
	// which are skipped by default.
	Hidden bool
	// MaxDocBytes is the size limit of one document, in bytes, for the
	// file and for the text it expands to; a larger document is a
	// *RowError. 0 means DefaultMaxDocBytes (50 MB).
	MaxDocBytes int64
}
