// Command gen regenerates the derived sample files: samples/catalog.xlsx
// (built from the data in samples/internal/samplegen),
// samples/reviews_gbk.csv (samples/reviews.csv re-encoded as GB18030 with
// CRLF line ends) and the generated documents of samples/docs/ (a long
// handbook, a .docx, a .pdf and an unreadable .docx). The output is
// deterministic, so the checked-in files only change when the data does.
// Run it from the module root:
//
//	go run ./samples/gen
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"bulkgen/samples/internal/samplegen"
)

func main() {
	dir := flag.String("dir", "samples", "samples directory: reads reviews.csv from it and writes the generated files into it")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := samplegen.Generate(ctx, *dir, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
