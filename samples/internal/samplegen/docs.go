package samplegen

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The generated documents of samples/docs/, the input of the folder reader.
// The short .md and .txt documents and the .html page there are written by
// hand; these are binary, or too long to keep by hand.
const (
	DocsDir = "docs"
	// DocsHandbook is a long Chinese and English product handbook (about
	// 30,000 Qwen tokens), built from the catalogue data: one document
	// that needs splitting when the model's context or --chunk-tokens is
	// small.
	DocsHandbook = "product-handbook-long.md"
	// DocsChecklist is a Word document: headings, paragraphs with tabs and
	// line breaks, and a table.
	DocsChecklist = "listing-checklist.docx"
	// DocsReport is a two-page PDF with a real text layer.
	DocsReport = "q1-sales-report.pdf"
	// DocsLegacy is an old binary Word .doc saved with a .docx name, which
	// no .docx reader can open: the folder reader must report it as a row
	// error and go on with the other documents.
	DocsLegacy = "legacy-contract.docx"
)

// DocsFiles returns the names of the generated files in samples/docs/.
func DocsFiles() []string {
	return []string{DocsHandbook, DocsChecklist, DocsReport, DocsLegacy}
}

// generateDocs writes the generated documents into outDir/docs.
func generateDocs(ctx context.Context, outDir string) error {
	dir := filepath.Join(outDir, DocsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, d := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{DocsHandbook, WriteHandbook},
		{DocsChecklist, WriteChecklistDOCX},
		{DocsReport, WriteReportPDF},
		{DocsLegacy, WriteLegacyDOC},
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, d.name), d.write); err != nil {
			return err
		}
	}
	return nil
}
