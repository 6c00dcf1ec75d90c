package pipeline

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"

	"bulkgen/model"
	"bulkgen/readers"
)

// reorderRows is a reader of n one-column rows, "0", "1", ...
type reorderRows struct{ n, i int }

func (r *reorderRows) Columns() []string  { return []string{"n"} }
func (r *reorderRows) Total() (int, bool) { return r.n, true }
func (r *reorderRows) Close() error       { return nil }
func (r *reorderRows) Read(context.Context) (readers.Row, error) {
	if r.i >= r.n {
		return readers.Row{}, io.EOF
	}
	s := strconv.Itoa(r.i)
	r.i++
	return readers.Row{Index: r.i - 1, Key: s, Values: []string{s}}, nil
}

// scrambleClient answers at once, but after yielding the processor a
// number of times that depends on the row, so that answers come back out
// of input order and the reorder window has work to do.
type scrambleClient struct{}

func (scrambleClient) Complete(_ context.Context, req model.Request) (model.Response, error) {
	n, _ := strconv.Atoi(req.Messages[0].Content)
	for range (n * 7919) % 61 {
		runtime.Gosched()
	}
	return model.Response{Content: req.Messages[0].Content, FinishReason: "stop",
		Usage: model.Usage{PromptTokens: 3, CompletionTokens: 1, TotalTokens: 4}}, nil
}

func reorderRender(values []string) (model.Request, bool) {
	return model.Request{Model: "m", Messages: []model.Message{{Role: "user", Content: values[0]}}}, false
}

// BenchmarkReorderWindow measures a run whose answers come back out of
// order: reading, the call stage's bookkeeping, the reorder window and
// the in-order hand-off to the sink, per row, with no I/O and no limits
// (--fixed-concurrency, no store).
func BenchmarkReorderWindow(b *testing.B) {
	const rows = 20000
	for _, conc := range []int{8, 64, 256} {
		b.Run(fmt.Sprintf("c=%d", conc), func(b *testing.B) {
			cfg := Config{Concurrency: conc, FixedConcurrency: true}
			b.ReportAllocs()
			for b.Loop() {
				next := 0
				err := Run(context.Background(), cfg, &reorderRows{n: rows}, reorderRender, scrambleClient{}, func(r Result) error {
					if r.Row.Index != next {
						return fmt.Errorf("row %d handed over when %d was due", r.Row.Index, next)
					}
					next++
					return nil
				}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if next != rows {
					b.Fatalf("%d of %d rows handed over", next, rows)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}
