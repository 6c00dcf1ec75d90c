// Package writers turns result rows into output files.
//
// A writer is created with the full header (the output schema is fixed
// before the first row), receives rows in order, and is either committed
// with Close or thrown away with Abort. Output always goes to a temporary
// file next to the destination that is renamed into place by Close, so a
// crash never leaves a half-written file under the final name. The one
// exception is stdout ("-"): CSV, TSV and JSONL stream to it as rows come
// (a pipe cannot be taken back, so Abort only stops), while XLSX is built in
// a spool file and copied to stdout by Close.
//
// Create picks the format; see it for the rules. Writers that may change a
// value on the way out (XLSX truncating over-long text) implement Warner.
package writers

// Writer writes rows to one output.
type Writer interface {
	// Write appends one row. values has one entry per header column; each
	// is a string, an int64, a float64, a json.RawMessage (JSON text to
	// keep as-is in JSONL) or nil (empty). An int is accepted as an int64.
	// A wrong number of values or another type is an error naming the row
	// (1-based data row) and leaves the writer usable.
	Write(values []any) error
	// Close flushes everything and moves the finished file into place. If
	// it fails, the temporary file is removed and the destination is left
	// as it was. Close after Close or Abort returns ErrClosed.
	Close() error
	// Abort removes the temporary file; the destination is left untouched.
	// Calling Abort after Close does nothing.
	Abort() error
}

// Options selects and tunes a writer.
type Options struct {
	// Format is "csv", "tsv", "jsonl" or "xlsx"; "" picks from the
	// extension of the destination (and is required for stdout, "-").
	Format string
	// BOM writes a UTF-8 byte order mark at the start of CSV output so that
	// Excel shows Chinese text correctly. It applies to TSV too and is
	// ignored for JSONL (it would make the first line invalid JSON) and XLSX.
	BOM bool
	// Sheet names the XLSX output sheet ("Sheet1" when empty). Excel's
	// rules apply: at most 31 characters, none of : \ / ? * [ ].
	Sheet string
}
