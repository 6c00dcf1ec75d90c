package writers

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Output formats understood by Create.
const (
	FormatCSV   = "csv"
	FormatTSV   = "tsv"
	FormatJSONL = "jsonl"
	FormatXLSX  = "xlsx"
)

// Stdout is the destination path that means "write to the stdout writer
// given to Create".
const Stdout = "-"

// ErrClosed is returned (wrapped) by Write and Close once the writer has
// been closed or aborted.
var ErrClosed = errors.New("writer already closed")

// Warner is implemented by writers that can change values on the way out
// (the XLSX writer truncates text longer than Excel's cell limit). Callers
// may type-assert a Writer to it after Close and show the warnings:
//
//	if wr, ok := w.(writers.Warner); ok {
//		for _, msg := range wr.Warnings() { ... }
//	}
type Warner interface {
	// Warnings returns human-readable notes about changed values, in row
	// order. The list is bounded; a final entry counts the ones left out.
	Warnings() []string
}

// formatsHelp lists the accepted formats for error messages.
const formatsHelp = "csv, tsv, jsonl (or ndjson), xlsx"

// FormatFromPath returns the output format implied by the extension of
// path (case-insensitive): .csv, .tsv, .jsonl or .ndjson, .xlsx. It lets the
// CLI reject a bad --output before any work is done.
func FormatFromPath(path string) (string, error) {
	if path == Stdout {
		return "", errors.New("cannot infer the output format of stdout: pass --output-format csv|jsonl|xlsx when writing to stdout")
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".csv":
		return FormatCSV, nil
	case ".tsv":
		return FormatTSV, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	case ".xlsx":
		return FormatXLSX, nil
	case "":
		return "", fmt.Errorf("output %s has no file extension: name it .csv, .tsv, .jsonl, .ndjson or .xlsx, or pass --output-format (%s)", path, formatsHelp)
	default:
		return "", fmt.Errorf("output %s: unknown extension %q: use .csv, .tsv, .jsonl, .ndjson or .xlsx, or pass --output-format (%s)", path, ext, formatsHelp)
	}
}

// normalizeFormat checks an explicit --output-format value.
func normalizeFormat(format string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(format)); f {
	case FormatCSV, FormatTSV, FormatJSONL, FormatXLSX:
		return f, nil
	case "ndjson":
		return FormatJSONL, nil
	default:
		return "", fmt.Errorf("unknown output format %q: use one of %s", format, formatsHelp)
	}
}

// Create opens a writer for path with the given header and writes the
// header right away (CSV/TSV/XLSX; JSONL has none).
//
// path "-" writes to stdout and then opts.Format is required. Otherwise the
// format comes from opts.Format or, when that is empty, from the extension.
// The parent directory of path is created if missing. Rows go to a hidden
// temporary file next to path (".<name>.tmp-*") that Close renames onto
// path, so path only ever holds a complete file; Abort removes the
// temporary file and leaves an existing path untouched.
//
// header must be non-empty and free of duplicates (the caller dedupes
// input columns); Create rejects it otherwise. The returned Writer is not
// safe for concurrent use.
func Create(path string, header []string, opts Options, stdout io.Writer) (Writer, error) {
	format, err := resolveFormat(path, opts.Format)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(path, header); err != nil {
		return nil, err
	}
	out, err := openOutput(path, format, stdout)
	if err != nil {
		return nil, err
	}
	var w Writer
	switch format {
	case FormatCSV:
		w, err = newCSVWriter(out, header, ',', opts.BOM)
	case FormatTSV:
		w, err = newCSVWriter(out, header, '\t', opts.BOM)
	case FormatJSONL:
		w, err = newJSONLWriter(out, header)
	case FormatXLSX:
		w, err = newXLSXWriter(out, header, opts.Sheet)
	}
	if err != nil {
		// The constructors leave cleanup to us so that a failing header
		// write never leaves a temporary file behind.
		return nil, errors.Join(err, out.discard())
	}
	return w, nil
}

func resolveFormat(path, format string) (string, error) {
	if path == "" {
		return "", errors.New("no output path given: pass a file name or \"-\" for stdout")
	}
	if format != "" {
		return normalizeFormat(format)
	}
	if path == Stdout {
		return "", errors.New("pass --output-format csv|jsonl|xlsx when writing to stdout")
	}
	return FormatFromPath(path)
}

// checkHeader rejects headers that would produce an ambiguous file: JSONL
// objects with repeated keys or spreadsheet columns nobody can tell apart.
func checkHeader(path string, header []string) error {
	if len(header) == 0 {
		return fmt.Errorf("create %s: empty header: an output needs at least one column", displayName(path))
	}
	seen := make(map[string]int, len(header))
	for i, name := range header {
		if j, ok := seen[name]; ok {
			return fmt.Errorf("create %s: duplicate column %q (columns %d and %d): rename one of them", displayName(path), name, j+1, i+1)
		}
		seen[name] = i
	}
	return nil
}

func displayName(path string) string {
	if path == Stdout {
		return "stdout"
	}
	return path
}
