package writers

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrUnsafePath is wrapped by DocFiles errors for a document path that
// could write outside the output folder (or through a symbolic link).
var ErrUnsafePath = errors.New("unsafe document path")

// DocFiles writes one Markdown file per document of a folder input, in a
// tree that mirrors the input folder: the document "sub/a.pdf" gets
// DIR/sub/a.pdf.md. The extension is kept in the name so that a.pdf and
// a.docx in one folder do not write the same file.
//
// Document paths come from the input, so they are treated as untrusted:
// nothing is ever written outside DIR. Write refuses absolute paths, ".."
// elements, empty names and NUL bytes, and it does not follow symbolic
// links inside DIR: a link anywhere on the way (a linked subfolder, or a
// link where the file goes) is refused rather than written through. The
// writes themselves go through an os.Root on DIR, so a link swapped in
// after the check still cannot lead outside DIR.
//
// A backslash is an ordinary character in a file name on Unix and is kept
// as one; but a path that would be absolute or climb out of DIR if
// backslashes were separators (as on Windows: "..\x") is refused too, so
// that the output folder stays safe to copy to Windows.
//
// A DocFiles holds no open file between calls and is safe for concurrent
// use by several goroutines, for different documents.
type DocFiles struct {
	dir string
}

// NewDocFiles creates dir (and its parents) if needed and returns a writer
// for it. DIR itself may be a symbolic link: it is the user's choice.
func NewDocFiles(dir string) (*DocFiles, error) {
	if dir == "" {
		return nil, errors.New("documents folder: no path given")
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("documents folder %s: it is a file; pass a folder name for one Markdown file per document", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("documents folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("documents folder: %w", err)
	}
	_ = root.Close() // only checking that it can be opened
	return &DocFiles{dir: dir}, nil
}

// Dir returns the folder the files go to.
func (d *DocFiles) Dir() string { return d.dir }

// Path returns the file Write(relPath, …) writes, after checking relPath:
// DIR/<relPath>.md in the platform's form. An unsafe relPath is an error
// wrapping ErrUnsafePath. It does not look at the filesystem (so it cannot
// see symbolic links; Write does).
func (d *DocFiles) Path(relPath string) (string, error) {
	rel, err := docFileName(relPath)
	if err != nil {
		return "", err
	}
	return filepath.Join(d.dir, filepath.FromSlash(rel)), nil
}

// Write stores content, exactly, as DIR/<relPath>.md, where relPath is the
// folder reader's "/"-separated path of the document ("sub/a.pdf"),
// creating subfolders as needed and replacing an earlier file. The file is
// written under a temporary name in the same folder and renamed into place,
// so a reader (or a crash) never sees half a file.
//
// Errors name the file; an unsafe relPath, or a symbolic link on the way,
// wraps ErrUnsafePath.
func (d *DocFiles) Write(relPath, content string) error {
	rel, err := docFileName(relPath)
	if err != nil {
		return err
	}
	dest := filepath.Join(d.dir, filepath.FromSlash(rel))
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	defer root.Close()

	sub, _ := path.Split(rel)
	sub = strings.TrimSuffix(sub, "/")
	if err := d.checkNoLinks(root, rel); err != nil {
		return err
	}
	if sub != "" {
		if err := root.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("write %s: create folder: %w", dest, err)
		}
	}
	if err := writeInRoot(root, sub, rel, content); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return nil
}

// checkNoLinks looks at every part of rel that exists already (each
// folder on the way, then the file) and refuses symbolic links and
// non-folders where a folder is needed. Parts that do not exist yet are
// created by Write, as real folders.
func (d *DocFiles) checkNoLinks(root *os.Root, rel string) error {
	elems := strings.Split(rel, "/")
	for i := range elems {
		part := strings.Join(elems[:i+1], "/")
		fi, err := root.Lstat(part)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		shown := filepath.Join(d.dir, filepath.FromSlash(part))
		if err != nil {
			return fmt.Errorf("write %s: %w", shown, err)
		}
		last := i == len(elems)-1
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("write %s: %w: %s is a symbolic link, which is not followed; remove it or choose another output folder",
				filepath.Join(d.dir, filepath.FromSlash(rel)), ErrUnsafePath, shown)
		case !last && !fi.IsDir():
			return fmt.Errorf("write %s: %s is a file, not a folder; remove it or choose another output folder",
				filepath.Join(d.dir, filepath.FromSlash(rel)), shown)
		case last && fi.IsDir():
			return fmt.Errorf("write %s: a folder of that name exists; remove it or choose another output folder", shown)
		case last && !fi.Mode().IsRegular():
			return fmt.Errorf("write %s: it exists and is not a regular file; remove it or choose another output folder", shown)
		}
	}
	return nil
}

// writeInRoot writes content to a new temporary file in the folder sub
// and renames it to rel. os.Root has no CreateTemp, so the name is made
// here: random, hidden, and short (not derived from the document's name,
// which may already be near the file system's limit).
func writeInRoot(root *os.Root, sub, rel, content string) error {
	var f *os.File
	var tmp string
	for range 10 {
		tmp = path.Join(sub, ".docfile-"+rand.Text()+".tmp")
		var err error
		f, err = root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("temporary file: %w", err)
		}
	}
	if f == nil {
		return errors.New("temporary file: no free name after 10 tries")
	}
	_, err := f.WriteString(content)
	if err == nil {
		// Sync before rename: otherwise a crash shortly after could leave
		// the name pointing at a file whose data never reached the disk.
		err = f.Sync()
	}
	if err == nil {
		err = f.Chmod(outputMode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, rel)
	}
	if err != nil {
		_ = root.Remove(tmp) // the error returned is the one that matters
		return err
	}
	// Make the rename durable; best effort, as in syncDir.
	folder := sub
	if folder == "" {
		folder = "."
	}
	if dir, err := root.Open(folder); err == nil {
		_ = dir.Sync()
		_ = dir.Close()
	}
	return nil
}

// docFileName checks a document's relative path and returns the file's
// name under DIR: "/"-separated, cleaned ("a/./b" is "a/b"), with ".md"
// added.
func docFileName(relPath string) (string, error) {
	unsafe := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrUnsafePath, relPath, why)
	}
	if relPath == "" {
		return "", unsafe("it is empty")
	}
	if strings.ContainsRune(relPath, 0) {
		return "", unsafe("it contains a NUL byte")
	}
	// Check the path as given and as Windows would read it.
	for _, p := range []string{relPath, strings.ReplaceAll(relPath, `\`, "/")} {
		if strings.HasPrefix(p, "/") || filepath.IsAbs(filepath.FromSlash(p)) || filepath.VolumeName(filepath.FromSlash(p)) != "" {
			return "", unsafe("it is absolute; document paths are relative to the input folder")
		}
		elems := strings.Split(p, "/")
		for _, e := range elems {
			if e == ".." {
				return "", unsafe(`it has a ".." element, which could leave the output folder`)
			}
		}
		if last := elems[len(elems)-1]; last == "" || last == "." {
			return "", unsafe("it has no file name at the end")
		}
	}
	rel := path.Clean(relPath)
	// Belt and braces: whatever the checks above missed, a name that is
	// not local after cleaning (or a reserved name on Windows) is refused.
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", unsafe("it would land outside the output folder")
	}
	return rel + ".md", nil
}
