package readers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format names as accepted by Options.Format and returned by DetectFormat.
const (
	FormatCSV   = "csv"
	FormatTSV   = "tsv"
	FormatJSONL = "jsonl"
	FormatXLSX  = "xlsx"
)

// stdinName stands in for the file name of standard input in row keys and
// messages ("stdin:12").
const stdinName = "stdin"

// Open opens the input at path. path "-" reads stdin, and then opts.Format
// is required because there is no extension to look at. Every error names
// the file.
//
// Open may read the input before returning (the CSV header, the JSONL
// pre-pass that collects the keys); use OpenContext to be able to cancel
// that on a large file.
func Open(path string, opts Options, stdin io.Reader) (Reader, error) {
	return OpenContext(context.Background(), path, opts, stdin)
}

// OpenContext is Open with a context that cancels the reading Open does up
// front: copying stdin to a temporary file, the JSONL pre-pass and the
// listing of a folder.
func OpenContext(ctx context.Context, path string, opts Options, stdin io.Reader) (Reader, error) {
	if path == "-" {
		if opts.Format == "" {
			return nil, errors.New("reading from stdin (-): the format cannot be detected; pass --format csv|jsonl|xlsx")
		}
		format, err := normalizeFormat(opts.Format)
		if err != nil {
			return nil, fmt.Errorf("reading from stdin: %w", err)
		}
		if stdin == nil {
			return nil, errors.New("reading from stdin (-): no standard input was given")
		}
		return openStdin(ctx, format, opts, stdin)
	}

	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err) // *PathError names the file
	}
	if info.IsDir() {
		return openFolder(ctx, path, opts) // folder.go: one row per document
	}
	format, err := DetectFormat(path, opts.Format)
	if err != nil {
		return nil, err
	}
	return openFile(ctx, path, format, opts)
}

// openFile opens a regular file whose format is already known.
func openFile(ctx context.Context, path, format string, opts Options) (Reader, error) {
	name := filepath.Base(path)
	switch format {
	case FormatCSV, FormatTSV:
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open input: %w", err)
		}
		r, err := newCSVReader(f, name, format, opts)
		if err != nil {
			f.Close()
			return nil, err
		}
		r.closer = f
		return r, nil
	case FormatJSONL:
		return openJSONL(ctx, path, name, "", opts)
	case FormatXLSX:
		return openXLSX(ctx, path, name, "", opts)
	}
	return nil, fmt.Errorf("%s: unknown format %q", name, format) // unreachable: formats are normalized
}

// openStdin reads standard input. CSV streams straight from it; JSONL
// (which needs a pre-pass) and XLSX (a zip archive, which needs random
// access) are first copied to a temporary file that Close removes. Stdin may
// be far larger than memory, so it goes to disk.
func openStdin(ctx context.Context, format string, opts Options, stdin io.Reader) (Reader, error) {
	switch format {
	case FormatCSV, FormatTSV:
		return newCSVReader(stdin, stdinName, format, opts)
	case FormatJSONL:
		tmp, err := spool(ctx, stdin, "bulkgen-stdin-*.jsonl")
		if err != nil {
			return nil, err
		}
		return openJSONL(ctx, tmp, stdinName, tmp, opts)
	case FormatXLSX:
		tmp, err := spool(ctx, stdin, "bulkgen-stdin-*.xlsx")
		if err != nil {
			return nil, err
		}
		return openXLSX(ctx, tmp, stdinName, tmp, opts)
	}
	return nil, fmt.Errorf("stdin: unknown format %q", format) // unreachable: formats are normalized
}

// spool copies r into a new temporary file and returns its path. The copy
// checks ctx between chunks, so a cancelled run stops copying (a read that
// blocks on an idle pipe cannot be interrupted, though).
func spool(ctx context.Context, r io.Reader, pattern string) (path string, err error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("copy stdin to a temporary file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("copy stdin to a temporary file: %w", cerr)
		}
		if err != nil {
			os.Remove(f.Name())
			path = ""
		}
	}()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				return "", fmt.Errorf("copy stdin to %s: %w", f.Name(), werr)
			}
		}
		if rerr == io.EOF {
			return f.Name(), nil
		}
		if rerr != nil {
			return "", fmt.Errorf("read stdin: %w", rerr)
		}
	}
}

// DetectFormat returns the input format of path: format itself when it is
// set (normalized, so "ndjson" gives "jsonl"), else the one its extension
// names. The error lists the supported formats.
func DetectFormat(path, format string) (string, error) {
	if format != "" {
		f, err := normalizeFormat(format)
		if err != nil {
			return "", fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		return f, nil
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".csv", ".txt":
		return FormatCSV, nil
	case ".tsv", ".tab":
		return FormatTSV, nil
	case ".jsonl", ".ndjson", ".json-lines":
		return FormatJSONL, nil
	case ".xlsx", ".xlsm":
		return FormatXLSX, nil
	case ".xls":
		return "", fmt.Errorf("%s: old Excel .xls files are not supported; open it in Excel and save it as .xlsx", filepath.Base(path))
	case ".json":
		return "", fmt.Errorf("%s: a .json file is not JSON Lines; if it holds one JSON object per line, rename it to .jsonl or pass --format jsonl", filepath.Base(path))
	}
	what := "has no extension"
	if ext != "" {
		what = fmt.Sprintf("has the unsupported extension %q", ext)
	}
	return "", fmt.Errorf("%s %s; supported: .csv .tsv .txt (CSV), .jsonl .ndjson .json-lines (JSON Lines), .xlsx .xlsm (Excel), or pass --format csv|tsv|jsonl|xlsx", filepath.Base(path), what)
}

// normalizeFormat maps a --format value and its aliases to a Format* name.
func normalizeFormat(format string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "csv", "txt":
		return FormatCSV, nil
	case "tsv":
		return FormatTSV, nil
	case "jsonl", "ndjson", "json-lines", "jsonlines":
		return FormatJSONL, nil
	case "xlsx", "xlsm", "excel":
		return FormatXLSX, nil
	}
	return "", fmt.Errorf("unknown format %q; supported formats: csv, tsv, jsonl, xlsx", format)
}

// CountRows counts the data rows of the file at path the way its reader
// would return them (rows that Read reports as a *RowError included, blank
// records skipped). It is meant to run in the background beside the real
// reader to give a progress bar its total when Reader.Total does not know
// it (CSV): it reads the file a second time, which is cheap next to calling
// a model for each row. When the reader knows its total, that is returned
// without reading further. Stdin cannot be read twice and is refused.
func CountRows(ctx context.Context, path string, opts Options) (int, error) {
	if path == "-" {
		return 0, errors.New("cannot count the rows of stdin: it can only be read once")
	}
	r, err := OpenContext(ctx, path, opts, nil)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if n, ok := r.Total(); ok {
		return n, nil
	}
	if c, ok := r.(*csvReader); ok {
		return c.count(ctx)
	}
	n := 0
	for {
		_, err := r.Read(ctx)
		var rowErr *RowError
		switch {
		case err == nil || errors.As(err, &rowErr):
			n++
		case errors.Is(err, io.EOF):
			return n, nil
		default:
			return n, err
		}
	}
}
