package readers

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		path, format, want, wantErr string
	}{
		{"a.csv", "", "csv", ""},
		{"dir/A.CSV", "", "csv", ""},
		{"a.txt", "", "csv", ""},
		{"a.tsv", "", "tsv", ""},
		{"a.jsonl", "", "jsonl", ""},
		{"a.ndjson", "", "jsonl", ""},
		{"a.json-lines", "", "jsonl", ""},
		{"a.xlsx", "", "xlsx", ""},
		{"a.XLSM", "", "xlsx", ""},
		{"a.data", "csv", "csv", ""},
		{"a.csv", "NDJSON", "jsonl", ""},
		{"a.csv", "parquet", "", `a.csv: unknown format "parquet"; supported formats: csv, tsv, jsonl, xlsx`},
		{"a.json", "", "", "a.json: a .json file is not JSON Lines|--format jsonl"},
		{"a.xls", "", "", "a.xls: old Excel .xls files are not supported; open it in Excel and save it as .xlsx"},
		{"dir/a.parquet", "", "", `a.parquet has the unsupported extension ".parquet"; supported: .csv .tsv .txt (CSV), .jsonl .ndjson .json-lines (JSON Lines), .xlsx .xlsm (Excel), or pass --format csv|tsv|jsonl|xlsx`},
		{"README", "", "", "README has no extension; supported: .csv"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+tt.format, func(t *testing.T) {
			got, err := DetectFormat(tt.path, tt.format)
			checkErr(t, err, tt.wantErr)
			if got != tt.want {
				t.Errorf("DetectFormat = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path string
		opts       Options
		wantErr    string
	}{
		{"empty folder", dir, Options{}, "folder " + dir + " has no documents to read"},
		{"missing file", filepath.Join(dir, "nope.csv"), Options{}, "open input: stat " + filepath.Join(dir, "nope.csv") + ": no such file"},
		{"stdin without format", "-", Options{}, "reading from stdin (-): the format cannot be detected; pass --format csv|jsonl|xlsx"},
		{"stdin with a bad format", "-", Options{Format: "xml"}, `reading from stdin: unknown format "xml"`},
		{"unknown extension", writeFile(t, "x.parquet", []byte("PAR1")), Options{}, `x.parquet has the unsupported extension ".parquet"`},
		{"csv given as format for a jsonl name", writeFile(t, "d.jsonl", []byte("")), Options{Format: "csv"}, "d.jsonl is empty: expected a header row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.path, tt.opts, strings.NewReader(""))
			if err == nil {
				r.Close()
			}
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestOpenDispatch(t *testing.T) {
	tests := []struct {
		name, path string
		opts       Options
		stdin      string
		wantCols   []string
		wantKey    string
	}{
		{"csv file", writeFile(t, "a.csv", []byte("x;y\n1;2\n")), Options{}, "", []string{"x", "y"}, "a.csv:2"},
		{"tsv file", writeFile(t, "a.tsv", []byte("x,1\ty\n1\t2\n")), Options{}, "", []string{"x,1", "y"}, "a.tsv:2"},
		{"txt file", writeFile(t, "a.txt", []byte("x|y\n1|2\n")), Options{}, "", []string{"x", "y"}, "a.txt:2"},
		{"jsonl file", writeFile(t, "a.ndjson", []byte(`{"x":1}`+"\n")), Options{}, "", []string{"x"}, "a.ndjson:1"},
		{"xlsx file", catalogXLSX(t), Options{Sheet: "Orders"}, "", []string{"order_id", "amount"}, "catalog.xlsx:Orders!2"},
		{"csv stdin", "-", Options{Format: "csv"}, "x,y\n1,2\n", []string{"x", "y"}, "stdin:2"},
		{"tsv stdin", "-", Options{Format: "tsv"}, "x,1\ty\n1\t2\n", []string{"x,1", "y"}, "stdin:2"},
		{"format overrides extension", writeFile(t, "a.csv", []byte(`{"x":1}`+"\n")), Options{Format: "jsonl"}, "", []string{"x"}, "a.csv:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.path, tt.opts, strings.NewReader(tt.stdin))
			checkErr(t, err, "")
			defer r.Close()
			if got := r.Columns(); !reflect.DeepEqual(got, tt.wantCols) {
				t.Errorf("Columns() = %q, want %q", got, tt.wantCols)
			}
			row, err := r.Read(context.Background())
			checkErr(t, err, "")
			if row.Key != tt.wantKey || row.Index != 0 {
				t.Errorf("first row: index %d key %q, want 0 %q", row.Index, row.Key, tt.wantKey)
			}
		})
	}
}

func TestCountRows(t *testing.T) {
	tests := []struct {
		name, path string
		want       int
		wantErr    string
	}{
		{"csv", "testdata/reviews.csv", 5, ""},
		{"jsonl uses its total", "testdata/data.jsonl", 4, ""},
		{"xlsx uses the sheet dimension", handmadeXLSX(t), 10, ""}, // A2:C12, an upper bound
		{"stdin", "-", 0, "cannot count the rows of stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := CountRows(context.Background(), tt.path, Options{})
			checkErr(t, err, tt.wantErr)
			if n != tt.want {
				t.Errorf("CountRows = %d, want %d", n, tt.want)
			}
		})
	}
	n, err := CountRows(context.Background(), handmadeXLSX(t), Options{Sheet: "NoRefs"})
	checkErr(t, err, "")
	if n != 2 {
		t.Errorf("CountRows of a sheet without a dimension = %d, want 2", n)
	}
}

func TestSpoolRemovesTempFileOnError(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := spool(ctx, strings.NewReader("data"), "bulkgen-test-*"); err == nil {
		t.Fatal("spool with a cancelled context succeeded")
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "bulkgen-test-*"))
	if len(left) != 0 {
		t.Errorf("spool left %q behind", left)
	}
}
