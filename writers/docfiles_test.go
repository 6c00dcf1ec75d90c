package writers

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// docTree returns every file and folder under dir, "/"-separated, so a
// test can check that nothing else was written (no stray temporary file).
func docTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDocFilesGoodPaths(t *testing.T) {
	tests := []struct {
		rel  string
		want string // file under DIR
		tree []string
	}{
		{"a.pdf", "a.pdf.md", []string{"a.pdf.md"}},
		{"sub/a.pdf", "sub/a.pdf.md", []string{"sub", "sub/a.pdf.md"}},
		{"sub/deeper/周会纪要.docx", "sub/deeper/周会纪要.docx.md", []string{"sub", "sub/deeper", "sub/deeper/周会纪要.docx.md"}},
		{"a/./b.txt", "a/b.txt.md", []string{"a", "a/b.txt.md"}},
		{"a//b.txt", "a/b.txt.md", []string{"a", "a/b.txt.md"}},
		{"..hidden..txt", "..hidden..txt.md", []string{"..hidden..txt.md"}},
		{".notes.md", ".notes.md.md", []string{".notes.md.md"}},
		{"name with spaces.html", "name with spaces.html.md", []string{"name with spaces.html.md"}},
	}
	if runtime.GOOS != "windows" {
		// A backslash is an ordinary character on Unix.
		tests = append(tests, struct {
			rel, want string
			tree      []string
		}{`a\b.txt`, `a\b.txt.md`, []string{`a\b.txt.md`}})
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			dir := t.TempDir()
			d, err := NewDocFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			p, err := d.Path(tt.rel)
			if err != nil {
				t.Fatalf("Path(%q): %v", tt.rel, err)
			}
			if want := filepath.Join(dir, filepath.FromSlash(tt.want)); p != want {
				t.Errorf("Path(%q) = %s, want %s", tt.rel, p, want)
			}
			content := "# " + tt.rel + "\n\n- 一\n- two\r\n" // exactly as given, CRLF and all
			if err := d.Write(tt.rel, content); err != nil {
				t.Fatalf("Write(%q): %v", tt.rel, err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != content {
				t.Errorf("file has %q, want %q", got, content)
			}
			if tree := docTree(t, dir); !slices.Equal(tree, tt.tree) {
				t.Errorf("folder holds %q, want %q", tree, tt.tree)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != outputMode {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), os.FileMode(outputMode))
			}
		})
	}
}

func TestDocFilesBadPaths(t *testing.T) {
	tests := []struct {
		rel, why string
	}{
		{"", "empty"},
		{"../x", `".."`},
		{"..", `".."`},
		{"a/../../x", `".."`},
		{"a/../b", `".."`}, // stays inside, but a ".." is never needed
		{"/etc/x", "absolute"},
		{"//x", "absolute"},
		{`..\x`, `".."`},
		{`a\..\..\x`, `".."`},
		{`\etc\x`, "absolute"},
		{"a/", "no file name"},
		{"a/.", "no file name"},
		{".", "no file name"},
		{"a\x00b", "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			d, err := NewDocFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			err = d.Write(tt.rel, "x")
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("Write(%q) = %v, want ErrUnsafePath", tt.rel, err)
			}
			if !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.rel)) {
				t.Errorf("error %q should say %s and name the path", err, tt.why)
			}
			if _, perr := d.Path(tt.rel); !errors.Is(perr, ErrUnsafePath) {
				t.Errorf("Path(%q) = %v, want ErrUnsafePath", tt.rel, perr)
			}
			if tree := docTree(t, parent); !slices.Equal(tree, []string{"out"}) {
				t.Errorf("something was written: %q", tree)
			}
		})
	}
}

func TestDocFilesSymlinks(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, outside string)
		rel   string
	}{
		{
			name:  "linked subfolder pointing outside",
			setup: func(t *testing.T, dir, outside string) { docSymlink(t, outside, filepath.Join(dir, "sub")) },
			rel:   "sub/a.pdf",
		},
		{
			name: "linked subfolder pointing inside",
			setup: func(t *testing.T, dir, _ string) {
				docMkdir(t, filepath.Join(dir, "real"))
				docSymlink(t, "real", filepath.Join(dir, "sub"))
			},
			rel: "sub/a.pdf",
		},
		{
			name: "link deeper down",
			setup: func(t *testing.T, dir, outside string) {
				docMkdir(t, filepath.Join(dir, "a"))
				docSymlink(t, outside, filepath.Join(dir, "a", "b"))
			},
			rel: "a/b/c/d.txt",
		},
		{
			name: "link where the file goes",
			setup: func(t *testing.T, dir, outside string) {
				docSymlink(t, filepath.Join(outside, "victim"), filepath.Join(dir, "a.pdf.md"))
			},
			rel: "a.pdf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir, outside := filepath.Join(parent, "out"), filepath.Join(parent, "outside")
			docMkdir(t, outside)
			if err := os.WriteFile(filepath.Join(outside, "victim"), []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := NewDocFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir, outside)
			before := docTree(t, parent)
			err = d.Write(tt.rel, "x")
			if !errors.Is(err, ErrUnsafePath) || !strings.Contains(err.Error(), "symbolic link") {
				t.Fatalf("Write(%q) = %v, want a symbolic link refused", tt.rel, err)
			}
			if after := docTree(t, parent); !slices.Equal(after, before) {
				t.Errorf("files changed:\nbefore %q\nafter  %q", before, after)
			}
			if b, _ := os.ReadFile(filepath.Join(outside, "victim")); string(b) != "keep" {
				t.Errorf("file outside changed to %q", b)
			}
		})
	}
}

func TestDocFilesOverwrite(t *testing.T) {
	dir := t.TempDir()
	d, err := NewDocFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"first, longer content\n", "second", ""} {
		if err := d.Write("sub/a.pdf", content); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "sub", "a.pdf.md"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("file has %q, want %q", got, content)
		}
	}
	if tree := docTree(t, dir); !slices.Equal(tree, []string{"sub", "sub/a.pdf.md"}) {
		t.Errorf("folder holds %q, want only the file", tree)
	}
}

func TestDocFilesInTheWay(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		rel   string
		want  string
	}{
		{"file where a folder goes", func(t *testing.T, dir string) { docWriteFile(t, filepath.Join(dir, "sub"), "") }, "sub/a.pdf", "is a file, not a folder"},
		{"folder where the file goes", func(t *testing.T, dir string) { docMkdir(t, filepath.Join(dir, "a.pdf.md")) }, "a.pdf", "a folder of that name exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			d, err := NewDocFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			err = d.Write(tt.rel, "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("Write(%q) = %v, want an error naming the file and saying %q", tt.rel, err, tt.want)
			}
		})
	}
}

func TestNewDocFiles(t *testing.T) {
	parent := t.TempDir()
	nested := filepath.Join(parent, "a", "b")
	if _, err := NewDocFiles(nested); err != nil {
		t.Fatalf("NewDocFiles(%s): %v", nested, err)
	}
	if fi, err := os.Stat(nested); err != nil || !fi.IsDir() {
		t.Fatalf("folder not created: %v", err)
	}
	file := filepath.Join(parent, "file")
	docWriteFile(t, file, "")
	if _, err := NewDocFiles(file); err == nil || !strings.Contains(err.Error(), "it is a file") {
		t.Fatalf("NewDocFiles on a file = %v, want an error", err)
	}
	if _, err := NewDocFiles(""); err == nil {
		t.Fatal("NewDocFiles(\"\") succeeded")
	}
}

func docSymlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

func docMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func docWriteFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
