package writers

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFormatFromPath(t *testing.T) {
	tests := []struct {
		path    string
		want    string
		wantErr string
	}{
		{path: "out.csv", want: "csv"},
		{path: "dir/OUT.CSV", want: "csv"},
		{path: "out.tsv", want: "tsv"},
		{path: "out.jsonl", want: "jsonl"},
		{path: "out.ndjson", want: "jsonl"},
		{path: "a.b/out.xlsx", want: "xlsx"},
		{path: "out.xls", wantErr: `unknown extension ".xls"`},
		{path: "out.json", wantErr: "use .csv, .tsv, .jsonl, .ndjson or .xlsx"},
		{path: "out", wantErr: "has no file extension"},
		{path: "-", wantErr: "pass --output-format"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := FormatFromPath(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestCreateErrors checks that bad arguments fail up front with a clear
// message and leave nothing behind.
func TestCreateErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string // relative to a temp dir; "-" for stdout
		header  []string
		opts    Options
		wantErr string
	}{
		{"stdout without format", "-", []string{"a"}, Options{}, "pass --output-format csv|jsonl|xlsx when writing to stdout"},
		{"unknown extension", "out.txt", []string{"a"}, Options{}, `unknown extension ".txt"`},
		{"unknown format", "out.csv", []string{"a"}, Options{Format: "parquet"}, `unknown output format "parquet": use one of csv, tsv, jsonl`},
		{"duplicate column", "out.csv", []string{"a", "b", "a"}, Options{}, `duplicate column "a" (columns 1 and 3)`},
		{"empty header", "out.jsonl", nil, Options{}, "empty header"},
		{"path is a directory", "sub", []string{"a"}, Options{Format: "csv"}, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			path := tt.file
			if path != Stdout {
				path = filepath.Join(dir, tt.file)
			}
			var stdout bytes.Buffer
			w, err := Create(path, tt.header, tt.opts, &stdout)
			if err == nil {
				_ = w.Abort()
				t.Fatalf("Create succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || stdout.Len() != 0 {
				t.Errorf("Create left files %v or output %q", entries, stdout.String())
			}
		})
	}
}

var allFormats = []struct {
	format, file string
}{
	{"csv", "out.csv"},
	{"tsv", "out.tsv"},
	{"jsonl", "out.jsonl"},
	{"xlsx", "out.xlsx"},
}

// TestAtomicClose: the destination appears only on Close, complete, with
// mode 0644, and no temporary file remains.
func TestAtomicClose(t *testing.T) {
	for _, tt := range allFormats {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			w, err := Create(path, sampleHeader, Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range sampleRows() {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("destination exists before Close (stat err %v)", err)
			}
			left := tmpLeftovers(t, dir)
			if len(left) != 1 || !strings.HasPrefix(left[0], "."+tt.file+".tmp-") {
				t.Errorf("temporary files while writing = %v, want one .%s.tmp-*", left, tt.file)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("destination after Close: %v", err)
			}
			if fi.Mode().Perm() != 0o644 {
				t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
			}
			if left := tmpLeftovers(t, dir); len(left) != 0 {
				t.Errorf("temporary files after Close: %v", left)
			}
		})
	}
}

// TestAtomicReplace: Close replaces an existing destination; Abort leaves
// it byte-identical. Both leave no temporary file.
func TestAtomicReplace(t *testing.T) {
	const old = "previous results\n"
	for _, tt := range allFormats {
		for _, commit := range []bool{false, true} {
			name := tt.format + "/abort"
			if commit {
				name = tt.format + "/close"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, tt.file)
				if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
					t.Fatal(err)
				}
				w, err := Create(path, sampleHeader, Options{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range sampleRows() {
					if err := w.Write(r); err != nil {
						t.Fatal(err)
					}
				}
				if commit {
					err = w.Close()
				} else {
					err = w.Abort()
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if replaced := string(got) != old; replaced != commit {
					t.Errorf("destination replaced = %v, want %v", replaced, commit)
				}
				if left := tmpLeftovers(t, dir); len(left) != 0 {
					t.Errorf("temporary files left: %v", left)
				}
			})
		}
	}
}

func TestCreatesParentDir(t *testing.T) {
	for _, tt := range allFormats {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a", "b", tt.file)
			got := writeFileAt(t, path, []string{"v"}, [][]any{{"x"}})
			if len(got) == 0 {
				t.Error("empty output")
			}
			fi, err := os.Stat(filepath.Join(dir, "a", "b"))
			if err != nil || fi.Mode().Perm() != 0o755 {
				t.Errorf("parent dir: %v, %v", fi, err)
			}
		})
	}
}

func writeFileAt(t *testing.T, path string, header []string, rows [][]any) []byte {
	t.Helper()
	w, err := Create(path, header, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestCloseFailureCleansUp: when the final rename fails (here because a
// directory appeared under the destination name), Close reports it and
// removes the temporary file.
func TestCloseFailureCleansUp(t *testing.T) {
	for _, tt := range allFormats {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tt.file)
			w, err := Create(path, []string{"v"}, Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]any{"x"}); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			err = w.Close()
			if err == nil || !strings.Contains(err.Error(), "save "+path) {
				t.Fatalf("Close err = %v, want a save error naming %s", err, path)
			}
			if left := tmpLeftovers(t, dir); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort after failed Close = %v, want nil", err)
			}
		})
	}
}

// TestLifecycle covers the calls after Close/Abort for every format.
func TestLifecycle(t *testing.T) {
	for _, tt := range allFormats {
		t.Run(tt.format, func(t *testing.T) {
			open := func(t *testing.T) Writer {
				t.Helper()
				w, err := Create(filepath.Join(t.TempDir(), tt.file), []string{"a", "b"}, Options{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return w
			}
			t.Run("write after close", func(t *testing.T) {
				w := open(t)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				err := w.Write([]any{"x", "y"})
				if !errors.Is(err, ErrClosed) {
					t.Errorf("Write after Close = %v, want ErrClosed", err)
				}
				if err := w.Close(); !errors.Is(err, ErrClosed) {
					t.Errorf("second Close = %v, want ErrClosed", err)
				}
				if err := w.Abort(); err != nil {
					t.Errorf("Abort after Close = %v, want nil", err)
				}
			})
			t.Run("write after abort", func(t *testing.T) {
				w := open(t)
				if err := w.Abort(); err != nil {
					t.Fatal(err)
				}
				if err := w.Write([]any{"x", "y"}); !errors.Is(err, ErrClosed) {
					t.Errorf("Write after Abort = %v, want ErrClosed", err)
				}
				if err := w.Close(); !errors.Is(err, ErrClosed) {
					t.Errorf("Close after Abort = %v, want ErrClosed", err)
				}
				if err := w.Abort(); err != nil {
					t.Errorf("second Abort = %v, want nil", err)
				}
			})
			t.Run("wrong value count", func(t *testing.T) {
				w := open(t)
				defer w.Abort()
				for range 2 {
					if err := w.Write([]any{"x", "y"}); err != nil {
						t.Fatal(err)
					}
				}
				err := w.Write([]any{"x"})
				if err == nil || !strings.Contains(err.Error(), "row 3: got 1 values for 2 columns") || !strings.Contains(err.Error(), tt.file) {
					t.Errorf("err = %v, want it to name the file, row 3 and the counts", err)
				}
				// The writer stays usable and the row number is not used up.
				if err := w.Write([]any{"x", "y", "z"}); err == nil || !strings.Contains(err.Error(), "row 3:") {
					t.Errorf("err = %v, want row 3 again", err)
				}
			})
			t.Run("unsupported type", func(t *testing.T) {
				w := open(t)
				defer w.Abort()
				err := w.Write([]any{"x", true})
				if err == nil || !strings.Contains(err.Error(), `row 1 column "b": unsupported value type bool`) {
					t.Errorf("err = %v, want an unsupported type error naming row 1 column b", err)
				}
			})
		})
	}
}

// TestStdoutAbortText: aborting a streamed CSV/JSONL output stops it; no
// error, and rows still in the buffer are dropped rather than flushed.
func TestStdoutAbortText(t *testing.T) {
	for _, format := range []string{"csv", "tsv", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			var stdout bytes.Buffer
			w, err := Create(Stdout, []string{"v"}, Options{Format: format}, &stdout)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]any{json.RawMessage(`1`)}); err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want buffered rows dropped", stdout.String())
			}
			if err := w.Write([]any{"x"}); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after Abort = %v, want ErrClosed", err)
			}
		})
	}
}

func TestStdoutNeedsWriter(t *testing.T) {
	_, err := Create(Stdout, []string{"v"}, Options{Format: "csv"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no stdout writer") {
		t.Fatalf("err = %v", err)
	}
}

// An -o whose folder is a file gets an error that says so.
func TestCreateUnderAFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "afile")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{filepath.Join(file, "x.csv"), filepath.Join(file, "y", "x.csv")} {
		_, err := Create(out, []string{"a"}, Options{}, nil)
		if err == nil || !strings.Contains(err.Error(), "is a file, not a folder") {
			t.Errorf("Create(%s) = %v", out, err)
		}
	}
}
