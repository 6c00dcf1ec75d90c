package readers

// RowError reports a problem with ONE row: a CSV record with the wrong number
// of fields, a JSONL line that is not a JSON object, an XLSX row with values
// beyond the header. Reader.Read returns it together with the row (Index and
// Key set, Values padded or cut to len(Columns) as well as the input allows),
// so the pipeline can record the row with this error in its output and go
// on. Any other error from Read is fatal for the run.
//
// Err's message already names the file and the line or row, so Error returns
// it unchanged.
type RowError struct {
	Row Row
	Err error
}

// Error returns the message of Err, which names the file and line or row.
func (e *RowError) Error() string { return e.Err.Error() }

// Unwrap returns Err so that errors.Is and errors.As see the cause.
func (e *RowError) Unwrap() error { return e.Err }
