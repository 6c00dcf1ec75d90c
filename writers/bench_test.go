package writers

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
)

// benchHeader and benchRow look like a typical run: a few input columns,
// a paragraph of model output and the usage columns.
var benchHeader = []string{"id", "title", "body", "response", "model", "prompt_tokens", "completion_tokens", "latency_s", "meta"}

func benchRow(i int) []any {
	return []any{
		int64(i),
		fmt.Sprintf("商品 %d 的标题", i),
		"A short product description with some <b>HTML</b> & punctuation, \"quotes\" and a newline\nhere.",
		"这是一段模型生成的回复，大约两三句话。It mixes Chinese and English, includes numbers like 42 and 3.14, and ends with a period.",
		"qwen-plus",
		int64(120 + i%50),
		int64(80 + i%30),
		1.25 + float64(i%100)/100,
		json.RawMessage(`{"finish_reason":"stop","attempts":1}`),
	}
}

func benchWrite(b *testing.B, file string) {
	rows := make([][]any, 64)
	for i := range rows {
		rows[i] = benchRow(i)
	}
	dir := b.TempDir()
	// XLSX caps a sheet at 1,048,575 data rows; start a new file well
	// before that so large b.N values stay valid.
	const rowsPerFile = 500_000
	var w Writer
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%rowsPerFile == 0 {
			if w != nil {
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			var err error
			w, err = Create(filepath.Join(dir, fmt.Sprint(i, "-", file)), benchHeader, Options{}, nil)
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Write(rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSVWrite(b *testing.B)   { benchWrite(b, "out.csv") }
func BenchmarkJSONLWrite(b *testing.B) { benchWrite(b, "out.jsonl") }
func BenchmarkXLSXWrite(b *testing.B)  { benchWrite(b, "out.xlsx") }
