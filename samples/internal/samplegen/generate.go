package samplegen

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File names inside the samples directory.
const (
	ReviewsCSV    = "reviews.csv"
	ReviewsGBKCSV = "reviews_gbk.csv"
	CatalogXLSX   = "catalog.xlsx"
)

// Generate writes catalog.xlsx, reviews_gbk.csv and the generated documents
// of docs/ (see DocsFiles) into outDir. The GBK file is derived from
// srcDir/reviews.csv, so that the two CSVs can never drift apart: edit
// reviews.csv, then regenerate. srcDir and outDir may be the same.
func Generate(ctx context.Context, srcDir, outDir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(outDir, CatalogXLSX), WriteCatalog); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	srcPath := filepath.Join(srcDir, ReviewsCSV)
	src, err := os.Open(srcPath)
	if err != nil {
		return fmt.Errorf("open %s (run from the module root, or pass -dir): %w", srcPath, err)
	}
	defer src.Close()
	err = writeFileAtomic(filepath.Join(outDir, ReviewsGBKCSV), func(w io.Writer) error {
		if err := EncodeExcelCSV(w, src); err != nil {
			return fmt.Errorf("convert %s: %w", srcPath, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return generateDocs(ctx, outDir)
}

// writeFileAtomic writes through a temporary file in the same directory and
// renames it into place, so an interrupted run never leaves a half-written
// sample behind for the tests or the demo to trip over.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; samples are ordinary repository files.
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
