package readers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xuri/excelize/v2"
)

// csvInput returns rows data records of about 200 bytes each, with a quoted
// field that has a comma and a quote in it.
func csvInput(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("id,name,review,score\n")
	for i := range rows {
		fmt.Fprintf(&b, "%d,product %d,\"A review, with a comma and a \"\"quote\"\", long enough to look like real text from a customer %d\",%d\n", i, i, i, i%5)
	}
	return b.Bytes()
}

func jsonlInput(rows int) []byte {
	var b bytes.Buffer
	for i := range rows {
		fmt.Fprintf(&b, `{"id": %d, "name": "product %d", "review": "A review with \"quotes\" long enough to look like real text from a customer %d", "score": %d.5, "tags": ["a", "b"]}`+"\n", i, i, i, i%5)
	}
	return b.Bytes()
}

func xlsxInput(b *testing.B, rows int) string {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"id", "name", "review", "score"}); err != nil {
		b.Fatal(err)
	}
	for i := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{i, fmt.Sprintf("product %d", i), fmt.Sprintf("A review long enough to look like real text from a customer %d", i), float64(i%5) + 0.5}); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.xlsx")
	if err := f.SaveAs(path); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchRead opens path b.N times, reads every row and reports rows/s.
func benchRead(b *testing.B, path string, opts Options, wantRows int) {
	b.Helper()
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		r, err := Open(path, opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Read(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != wantRows {
			b.Fatalf("read %d rows, want %d", n, wantRows)
		}
	}
	b.ReportMetric(float64(wantRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSVRead(b *testing.B) {
	const rows = 20000
	input := csvInput(rows)
	b.SetBytes(int64(len(input)))
	benchRead(b, writeFile(b, "bench.csv", input), Options{}, rows)
}

func BenchmarkJSONLRead(b *testing.B) {
	const rows = 20000
	input := jsonlInput(rows)
	b.SetBytes(int64(len(input)))
	benchRead(b, writeFile(b, "bench.jsonl", input), Options{}, rows)
}

func BenchmarkXLSXRead(b *testing.B) {
	const rows = 20000
	benchRead(b, xlsxInput(b, rows), Options{}, rows)
}

// TestCSVMemoryFlat reads 200k rows (about 30 MB) and checks that the heap
// does not grow with them: a reader that kept rows (or its whole input)
// would hold far more than the threshold after the read.
func TestCSVMemoryFlat(t *testing.T) {
	const rows = 200_000
	path := writeFile(t, "big.csv", csvInput(rows))

	heapInuse := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heapInuse()

	r, err := Open(path, Options{}, nil)
	checkErr(t, err, "")
	defer r.Close()
	ctx := context.Background()
	n := 0
	for {
		_, err := r.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		checkErr(t, err, "")
		n++
	}
	if n != rows {
		t.Fatalf("read %d rows, want %d", n, rows)
	}
	after := heapInuse()
	runtime.KeepAlive(r)

	// Streaming needs well under 1 MB; all rows kept would be about 60 MB.
	const limit = 16 << 20
	t.Logf("heap in use: %d KB before, %d KB after reading %d rows", before>>10, after>>10, rows)
	if after > before && after-before > limit {
		t.Errorf("heap in use grew by %d MB while reading %d rows; a reader must not keep rows", (after-before)>>20, rows)
	}
}
