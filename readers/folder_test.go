package readers

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixedTime is the modification time of every test file, so that the
// modified column is predictable.
var fixedTime = time.Date(2025, 3, 12, 8, 30, 15, 123456789, time.FixedZone("CST", 8*3600))

const fixedTimeRFC3339 = "2025-03-12T00:30:15Z"

// makeTree creates files (path → content, "/"-separated; a path ending in
// "/" is an empty folder) under a folder named root in a fresh temporary
// directory and returns its path.
func makeTree(t *testing.T, root string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), root)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, fixedTime, fixedTime); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// docRow is the expected row of a readable document.
func docRow(index int, key, rel, text string, size int) result {
	name := filepath.Base(rel)
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(rel), "."))
	return result{Index: index, Key: key, Values: []string{rel, name, ext, strconv.Itoa(size), fixedTimeRFC3339, text}}
}

func TestFolderReader(t *testing.T) {
	docx := string(docxFile(t, `<w:p><w:r><w:t>Word text</w:t></w:r></w:p>`))
	pdfText := string(formPDF())
	scanned := string(scannedPDF())
	dir := makeTree(t, "docs", map[string]string{
		"b.txt":              "B text\n",
		"a.md":               "# A\n\nmarkdown",
		"A-upper.MD":         "upper-case extension",
		"sub/c.html":         "<p>C html</p>",
		"sub/deeper/d.docx":  docx,
		"sub-x.txt":          "sorts before sub/ because '-' < '/'",
		"scan.pdf":           scanned,
		"letter.pdf":         pdfText,
		"broken.docx":        "not a zip",
		"image.png":          "\x89PNG",
		"data.csv":           "a,b\n",
		"noext":              "x",
		".hidden.txt":        "hidden file",
		".git/config.md":     "hidden folder",
		"sub/.cache/x.txt":   "hidden nested folder",
		"empty/":             "",
		"sub/deeper/e.htm":   "",
		"zz/last.markdown":   "last",
		"sub/deeper/f.txt":   "\r\n\r\n",
		"sub/deeper/g.TXT":   "upper",
		"sub/deeper/h.json":  "{}",
		"sub/deeper/i.xlsx":  "PK",
		"sub/deeper/j.pdf.x": "x",
	})
	// Symbolic links are not followed, neither to files nor to folders.
	for link, target := range map[string]string{"link.txt": "b.txt", "linkdir": "sub", "outside.md": "/etc/hostname"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}

	r, err := Open(dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := strings.Join(r.Columns(), ","), "path,name,ext,bytes,modified,text"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []result{
		docRow(0, "docs/A-upper.MD", "A-upper.MD", "upper-case extension", 20),
		docRow(1, "docs/a.md", "a.md", "# A\n\nmarkdown", 13),
		docRow(2, "docs/b.txt", "b.txt", "B text", 7),
		docRow(3, "docs/broken.docx", "broken.docx", "", 9),
		docRow(4, "docs/letter.pdf", "letter.pdf", "Letterhead in a form.", len(pdfText)),
		docRow(5, "docs/scan.pdf", "scan.pdf", "", len(scanned)),
		docRow(6, "docs/sub-x.txt", "sub-x.txt", "sorts before sub/ because '-' < '/'", 35),
		docRow(7, "docs/sub/c.html", "sub/c.html", "C html", 13),
		docRow(8, "docs/sub/deeper/d.docx", "sub/deeper/d.docx", "Word text", len(docx)),
		docRow(9, "docs/sub/deeper/e.htm", "sub/deeper/e.htm", "", 0),
		docRow(10, "docs/sub/deeper/f.txt", "sub/deeper/f.txt", "", 4),
		docRow(11, "docs/sub/deeper/g.TXT", "sub/deeper/g.TXT", "upper", 5),
		docRow(12, "docs/zz/last.markdown", "zz/last.markdown", "last", 4),
	}
	want[3].Err = "docs/broken.docx: not a valid .docx (zip: not a valid zip file): it must be a Word 2007 or later document, which is a zip archive; an old .doc renamed to .docx is not one, so open it in Word and save it as .docx"
	want[5].Err = "docs/scan.pdf: no text layer (scanned PDF?) — OCR it first, e.g. with ocrmypdf, and point bulkgen at the result"
	diffResults(t, got, want)
	if n, ok := r.Total(); !ok || n != len(want) {
		t.Errorf("Total() = %d, %v; want %d, true", n, ok, len(want))
	}
	if _, err := r.Read(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("Read after the last row = %v, want io.EOF", err)
	}
	n, err := CountRows(context.Background(), dir, Options{})
	if err != nil || n != len(want) {
		t.Errorf("CountRows = %d, %v; want %d", n, err, len(want))
	}
}

// keys reads a reader to the end and returns the row keys, marking rows
// with an error with a trailing "!".
func keys(t *testing.T, r Reader) []string {
	t.Helper()
	res, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, row := range res {
		k := row.Key
		if row.Err != "" {
			k += "!"
		}
		out = append(out, k)
	}
	return out
}

func TestFolderOptions(t *testing.T) {
	files := map[string]string{
		"a.txt":             "a",
		"Report-2024.PDF":   string(formPDF()),
		"sub/report-x.pdf":  string(formPDF()),
		"sub/notes.md":      "n",
		".hidden.md":        "h",
		".dir/inside.txt":   "i",
		"sub/.h2/deep.html": "<p>d</p>",
	}
	dir := makeTree(t, "in", files)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"defaults skip hidden", Options{}, "in/Report-2024.PDF in/a.txt in/sub/notes.md in/sub/report-x.pdf"},
		{"hidden included", Options{Hidden: true}, "in/.dir/inside.txt in/.hidden.md in/Report-2024.PDF in/a.txt in/sub/.h2/deep.html in/sub/notes.md in/sub/report-x.pdf"},
		{"glob on names in every folder, ignoring case", Options{Glob: "*.pdf"}, "in/Report-2024.PDF in/sub/report-x.pdf"},
		{"glob with a class", Options{Glob: "report-[0-9]*"}, "in/Report-2024.PDF"},
		{"glob and hidden", Options{Glob: "*.md", Hidden: true}, "in/.hidden.md in/sub/notes.md"},
		{"size limit makes a row error, the walk goes on", Options{MaxDocBytes: 1, Glob: "*.md"}, "in/sub/notes.md"},
		{"size limit", Options{MaxDocBytes: 100, Glob: "*.pdf"}, "in/Report-2024.PDF! in/sub/report-x.pdf!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(dir, tt.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := strings.Join(keys(t, r), " "); got != tt.want {
				t.Errorf("rows %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFolderTooLarge(t *testing.T) {
	dir := makeTree(t, "big", map[string]string{"a.txt": strings.Repeat("x", 2000), "b.txt": "small"})
	r, err := Open(dir, Options{MaxDocBytes: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []result{
		docRow(0, "big/a.txt", "a.txt", "", 2000),
		docRow(1, "big/b.txt", "b.txt", "small", 5),
	}
	want[0].Err = "big/a.txt: too large: 2.0 KB, over the 1000 bytes limit for one document; split it into smaller files or raise the limit"
	diffResults(t, got, want)
}

func TestFolderErrors(t *testing.T) {
	empty := t.TempDir()
	onlyOther := makeTree(t, "other", map[string]string{"a.csv": "x", ".b.txt": "y"})
	tests := []struct {
		name string
		dir  string
		opts Options
		want string
	}{
		{"empty folder", empty, Options{}, "folder " + empty + " has no documents to read: no .txt .md .markdown .html .htm .docx .pdf files"},
		{"only other and hidden files", onlyOther, Options{}, "has no documents to read|1 other files skipped|1 hidden files or folders (names starting with '.') skipped"},
		{"nothing matches the glob", onlyOther, Options{Glob: "*.pdf", Hidden: true}, `no .txt .md .markdown .html .htm .docx .pdf files matching the glob "*.pdf" (2 other files skipped)`},
		{"glob with a folder", onlyOther, Options{Glob: "**/*.pdf"}, `glob "**/*.pdf": it is matched against file names, not paths`},
		{"bad glob", onlyOther, Options{Glob: "[a-"}, `glob "[a-": syntax error in pattern`},
		{"negative size limit", onlyOther, Options{MaxDocBytes: -1}, "document size limit -1: it must be positive"},
		{"bad encoding", onlyOther, Options{Encoding: "latin1"}, `unsupported encoding "latin1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.dir, tt.opts, nil)
			if err == nil {
				r.Close()
			}
			checkErr(t, err, tt.want)
		})
	}
}

func TestFolderUnlistableSubfolder(t *testing.T) {
	dir := makeTree(t, "docs", map[string]string{"a.txt": "a", "locked/b.txt": "b", "z.txt": "z"})
	locked := filepath.Join(dir, "locked")
	// CI runs as root, where chmod 000 does not stop a read; fail the
	// listing through the seam instead, with the error os.ReadDir gives.
	readDir := func(name string) ([]os.DirEntry, error) {
		if name == locked {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
		}
		return os.ReadDir(name)
	}
	r, err := openFolderWith(context.Background(), dir, Options{}, readDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []result{
		docRow(0, "docs/a.txt", "a.txt", "a", 1),
		{Index: 1, Key: "docs/locked", Values: []string{"locked", "locked", "", "", "", ""},
			Err: "docs/locked: cannot list this folder, so the documents in it are left out: permission denied; fix its permissions and run again"},
		docRow(2, "docs/z.txt", "z.txt", "z", 1),
	}
	diffResults(t, got, want)

	// The root folder itself is fatal: there is nothing to read.
	_, err = openFolderWith(context.Background(), dir, Options{}, func(string) ([]os.DirEntry, error) {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: syscall.EACCES}
	})
	checkErr(t, err, "list folder "+dir+"|permission denied")
}

func TestFolderFileVanishes(t *testing.T) {
	dir := makeTree(t, "docs", map[string]string{"a.txt": "a", "b.txt": "b", "c.txt": "c"})
	r, err := Open(dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Remove(filepath.Join(dir, "b.txt")); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []result{
		docRow(0, "docs/a.txt", "a.txt", "a", 1),
		{Index: 1, Key: "docs/b.txt", Values: []string{"b.txt", "b.txt", "txt", "", "", ""},
			Err: "docs/b.txt: cannot read the file: lstat " + filepath.Join(dir, "b.txt") + ": no such file or directory"},
		docRow(2, "docs/c.txt", "c.txt", "c", 1),
	}
	diffResults(t, got, want)
}

func TestFolderCancel(t *testing.T) {
	dir := makeTree(t, "docs", map[string]string{"a.txt": "a", "b.txt": "b"})
	r, err := Open(dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := r.Read(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := OpenContext(ctx, dir, Options{}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("OpenContext with a cancelled context = %v", err)
	}
}

func TestFolderKeyName(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ dir, want string }{
		{"samples/docs", "docs"},
		{"samples/docs/", "docs"},
		{".", filepath.Base(wd)},
		{"/", ""},
	}
	for _, tt := range tests {
		if got := folderKeyName(tt.dir); got != tt.want {
			t.Errorf("folderKeyName(%q) = %q, want %q", tt.dir, got, tt.want)
		}
	}
}

// BenchmarkFolderReader reads a folder of small text files: the cost per
// document of listing, stat, open and decode.
func BenchmarkFolderReader(b *testing.B) {
	dir := b.TempDir()
	for i := range 200 {
		name := filepath.Join(dir, "doc"+strconv.Itoa(i)+".txt")
		if err := os.WriteFile(name, []byte(strings.Repeat("一段文字 some text\n", 50)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for b.Loop() {
		r, err := Open(dir, Options{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(ctx); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				b.Fatal(err)
			}
		}
		r.Close()
	}
}
