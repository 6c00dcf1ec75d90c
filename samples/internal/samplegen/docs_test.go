package samplegen

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDocsWritersAreDeterministic(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{DocsHandbook, WriteHandbook},
		{DocsChecklist, WriteChecklistDOCX},
		{DocsReport, WriteReportPDF},
		{DocsLegacy, WriteLegacyDOC},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := tt.write(&a); err != nil {
				t.Fatal(err)
			}
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("two runs differ (%d and %d bytes); the checked-in file could not be verified", a.Len(), b.Len())
			}
		})
	}
}

func TestChecklistIsAWordDocument(t *testing.T) {
	var b bytes.Buffer
	if err := WriteChecklistDOCX(&b); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	// Word needs the content types, the package relationships and the
	// main document; styles give the headings their look.
	for _, want := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml", "word/_rels/document.xml.rels"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf("parts %q lack %s", names, want)
		}
	}
}

func TestReportPDFStructure(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReportPDF(&b); err != nil {
		t.Fatal(err)
	}
	pdf := b.Bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("not framed as a PDF: %q ... %q", pdf[:10], pdf[len(pdf)-10:])
	}
	// Every xref offset must point at its object, or readers have to
	// repair the file.
	xref := bytes.LastIndex(pdf, []byte("\nxref\n")) + 1
	lines := strings.Split(string(pdf[xref:]), "\n")
	checked := 0
	for i, line := range lines[3:] {
		if !strings.HasSuffix(line, " n ") {
			break
		}
		checked++
		off, err := strconv.Atoi(line[:10])
		if err != nil || off >= len(pdf) {
			t.Fatalf("xref line %q: offset %d, %v", line, off, err)
		}
		if !bytes.HasPrefix(pdf[off:], []byte(strconv.Itoa(i+1)+" 0 obj")) {
			t.Errorf("xref entry %d points at %q", i+1, pdf[off:min(off+12, len(pdf))])
		}
	}
	if checked != 9 {
		t.Errorf("checked %d xref entries, want the 9 objects", checked)
	}
}

func TestLegacyDOCIsNotAZip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteLegacyDOC(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte{0xD0, 0xCF, 0x11, 0xE0}) {
		t.Errorf("does not start with the OLE2 signature")
	}
	if _, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len())); err == nil {
		t.Errorf("opens as a zip archive; it must not, it stands for an old .doc")
	}
}

func TestGenerateWritesDocs(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, ReviewsCSV), []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := Generate(context.Background(), src, out); err != nil {
		t.Fatal(err)
	}
	for _, name := range DocsFiles() {
		info, err := os.Stat(filepath.Join(out, DocsDir, name))
		if err != nil || info.Size() == 0 || info.Mode().Perm() != 0o644 {
			t.Errorf("%s/%s: %v, %v", DocsDir, name, info, err)
		}
	}
}
