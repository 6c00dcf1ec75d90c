package store

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"
)

// BenchmarkPutParallel measures group commit under the load the pipeline
// makes: about a hundred goroutines each putting one row at a time.
func BenchmarkPutParallel(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	resp := response("bench")
	resp.Content = "这是一段模型生成的回复，大约两三句话。It mixes Chinese and English, includes numbers like 42 and 3.14, and ends with a period."
	var n atomic.Int64
	// RunParallel starts parallelism × GOMAXPROCS goroutines.
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((100 + procs - 1) / procs)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Put(ctx, fmt.Sprintf("%064x", n.Add(1)), resp, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// BenchmarkGet reads keys of a store holding 10,000 rows.
func BenchmarkGet(b *testing.B) {
	const rows = 10_000
	s := openTest(b)
	ctx := context.Background()
	var g errgroup.Group
	for w := range 50 { // concurrent, so that group commit makes this quick
		g.Go(func() error {
			for i := w; i < rows; i += 50 {
				if err := s.Put(ctx, fmt.Sprintf("%064x", i), response(fmt.Sprint(i)), 1); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok, err := s.Get(ctx, fmt.Sprintf("%064x", i%rows)); err != nil || !ok {
			b.Fatalf("Get: %v, %v", ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "gets/s")
}
