package readers

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// result is one Read outcome in a form that is easy to compare.
type result struct {
	Index  int
	Key    string
	Values []string
	Err    string // the *RowError message, "" for a good row
}

// readAll reads r to the end. Row errors are collected in the results; a
// fatal error stops the read and is returned.
func readAll(t *testing.T, r Reader) ([]result, error) {
	t.Helper()
	var out []result
	for {
		row, err := r.Read(context.Background())
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		var rowErr *RowError
		if err != nil && !errors.As(err, &rowErr) {
			return out, err
		}
		res := result{Index: row.Index, Key: row.Key, Values: row.Values}
		if rowErr != nil {
			res.Err = rowErr.Error()
			if !reflect.DeepEqual(rowErr.Row, row) {
				t.Errorf("RowError.Row = %+v, want the returned row %+v", rowErr.Row, row)
			}
		}
		if len(row.Values) != len(r.Columns()) {
			t.Errorf("%s: %d values for %d columns", row.Key, len(row.Values), len(r.Columns()))
		}
		out = append(out, res)
	}
}

// writeFile writes content to name in a fresh temporary folder and returns
// the path.
func writeFile(t testing.TB, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkErr fails unless err matches want: nil for "", else an error whose
// message contains every "|"-separated part of want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	for _, part := range strings.Split(want, "|") {
		if !strings.Contains(err.Error(), part) {
			t.Fatalf("error %q does not contain %q", err, part)
		}
	}
}

func diffResults(t *testing.T, got, want []result) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d", len(got), len(want))
	}
	for i := range max(len(got), len(want)) {
		var g, w result
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("row %d:\n got %#v\nwant %#v", i, g, w)
		}
	}
}
