package readers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The columns of a folder input, one row per document.
const (
	colPath     = "path"     // relative to the folder, with "/" separators
	colName     = "name"     // the file name
	colExt      = "ext"      // lower case, without the dot
	colBytes    = "bytes"    // the file size
	colModified = "modified" // RFC 3339, UTC
	colText     = "text"     // the extracted text
)

// folderReader reads a folder of documents (see extractorFor for the
// formats): one row per document, in lexical order of the relative paths,
// so that a rerun meets the documents in the same order and row keys stay
// stable.
//
// Open lists the folder tree up front, which keeps only the names; a
// document is opened and its text extracted when Read reaches it. Memory is
// therefore bounded by the largest document (and that by MaxDocBytes), not
// by the size of the folder.
type folderReader struct {
	name    string // base name of the folder, the first part of row keys
	root    string
	entries []folderEntry
	opt     extractOptions
	columns []string
	next    int
}

var _ Reader = (*folderReader)(nil)

// folderEntry is one row to be: a document, or a subfolder that could not
// be listed.
type folderEntry struct {
	rel    string // "/"-separated path relative to the root
	dirErr error  // set for a subfolder that could not be listed
}

// folderCheckEvery is how many directory entries the listing handles between
// two ctx checks (besides one per folder).
const folderCheckEvery = 256

// openFolder opens a folder input. It walks the tree now:
//
//   - symbolic links are not followed, neither to files nor to folders,
//     so a link cannot pull in files from outside the folder or loop;
//   - files and folders whose names start with "." are skipped unless
//     opts.Hidden is set (the root folder itself is read even if it is
//     hidden);
//   - files whose extension is not supported are skipped silently, as is
//     anything that is not a regular file (a FIFO would block the read);
//   - opts.Glob, when set, keeps only files whose name matches it.
//
// A subfolder that cannot be listed (permission denied) becomes a row with
// a *RowError naming it, so that the run reports the documents it could not
// see instead of quietly leaving them out. A folder with no document to
// read is an error.
func openFolder(ctx context.Context, dir string, opts Options) (Reader, error) {
	r, err := openFolderWith(ctx, dir, opts, os.ReadDir)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return r, nil
}

// openFolderWith is openFolder with the function that lists a directory, so
// that tests can make a subfolder unreadable (they run as root in CI, where
// file permissions do not stop a read).
func openFolderWith(ctx context.Context, dir string, opts Options, readDir func(string) ([]os.DirEntry, error)) (*folderReader, error) {
	glob := opts.Glob
	if strings.Contains(glob, "/") {
		return nil, fmt.Errorf("glob %q: it is matched against file names, not paths; leave out the folder part (e.g. *.pdf matches PDFs in every subfolder)", glob)
	}
	if _, err := path.Match(glob, ""); err != nil {
		return nil, fmt.Errorf("glob %q: %w; use * ? [abc] as in *.pdf or report-202?.docx", glob, err)
	}
	if opts.MaxDocBytes < 0 {
		return nil, fmt.Errorf("document size limit %d: it must be positive, or 0 for the default of %s", opts.MaxDocBytes, formatSize(DefaultMaxDocBytes))
	}
	encoding, err := normalizeEncoding(opts.Encoding)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	r := &folderReader{
		name:    folderKeyName(dir),
		root:    dir,
		opt:     extractOptions{maxBytes: opts.MaxDocBytes, encoding: encoding},
		columns: []string{colPath, colName, colExt, colBytes, colModified, colText},
	}
	if r.opt.maxBytes == 0 {
		r.opt.maxBytes = DefaultMaxDocBytes
	}
	w := folderWalk{ctx: ctx, readDir: readDir, root: dir, glob: glob, hidden: opts.Hidden}
	if err := w.walk(""); err != nil {
		return nil, err
	}
	if len(w.entries) == 0 {
		return nil, w.emptyError()
	}
	slices.SortFunc(w.entries, func(a, b folderEntry) int { return strings.Compare(a.rel, b.rel) })
	r.entries = w.entries
	return r, nil
}

// folderKeyName is the folder's name as the first part of row keys
// ("docs/a.pdf"). For "." or "/" it is the name of the absolute path, or ""
// at the file system root.
func folderKeyName(dir string) string {
	name := filepath.Base(filepath.Clean(dir))
	if name == "." || name == ".." || name == string(filepath.Separator) {
		if abs, err := filepath.Abs(dir); err == nil {
			name = filepath.Base(abs)
		}
	}
	if name == "." || name == string(filepath.Separator) {
		return ""
	}
	return name
}

// folderWalk lists a folder tree.
type folderWalk struct {
	ctx          context.Context
	readDir      func(string) ([]os.DirEntry, error)
	root, glob   string
	hidden       bool
	entries      []folderEntry
	seen         int // directory entries looked at, for ctx checks
	skippedHid   int
	skippedOther int // unsupported extension or not matching the glob
}

func (w *folderWalk) walk(rel string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Join(w.root, filepath.FromSlash(rel))
	list, err := w.readDir(dir)
	if err != nil {
		if rel == "" {
			return fmt.Errorf("list folder %s: %w", w.root, err)
		}
		// os.ReadDir returns what it read before the error; those entries
		// are still walked below.
		w.entries = append(w.entries, folderEntry{rel: rel, dirErr: err})
	}
	for _, e := range list {
		w.seen++
		if w.seen%folderCheckEvery == 0 {
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
		name := e.Name()
		if !w.hidden && strings.HasPrefix(name, ".") {
			w.skippedHid++
			continue
		}
		child := path.Join(rel, name)
		switch typ := e.Type(); {
		case typ&os.ModeSymlink != 0:
			// Not followed: a link may point outside the folder or back up
			// the tree into a loop.
			continue
		case typ.IsDir():
			if err := w.walk(child); err != nil {
				return err
			}
		case typ.IsRegular():
			if extractorFor(docExt(name)) == nil || w.glob != "" && !globMatch(w.glob, name) {
				w.skippedOther++
				continue
			}
			w.entries = append(w.entries, folderEntry{rel: child})
		}
	}
	return nil
}

// emptyError explains why a folder gave no document to read.
func (w *folderWalk) emptyError() error {
	what := "no " + supportedDocExts + " files"
	if w.glob != "" {
		what = fmt.Sprintf("no %s files matching the glob %q", supportedDocExts, w.glob)
	}
	var notes []string
	if w.skippedOther > 0 {
		notes = append(notes, fmt.Sprintf("%d other files skipped", w.skippedOther))
	}
	if w.skippedHid > 0 {
		notes = append(notes, fmt.Sprintf("%d hidden files or folders (names starting with '.') skipped; include them with the hidden option", w.skippedHid))
	}
	if len(notes) > 0 {
		what += " (" + strings.Join(notes, "; ") + ")"
	}
	return fmt.Errorf("folder %s has no documents to read: %s", w.root, what)
}

// globMatch matches a file name against a glob whose syntax was checked
// when the folder was opened. It ignores case, as file systems on Windows
// and macOS do and as users expect of "*.pdf" against "SCAN.PDF".
func globMatch(glob, name string) bool {
	ok, _ := path.Match(strings.ToLower(glob), strings.ToLower(name))
	return ok
}

// docExt returns the extension of a file name, lower case, without the dot.
func docExt(name string) string {
	return strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
}

// Columns returns path, name, ext, bytes, modified and text.
func (r *folderReader) Columns() []string { return r.columns }

// Total returns the number of rows: the documents found by the listing, and
// the subfolders that could not be listed.
func (r *folderReader) Total() (int, bool) { return len(r.entries), true }

// Close releases the listing. Every document is closed as soon as its text
// is read, so there is nothing else to release.
func (r *folderReader) Close() error {
	r.entries, r.next = nil, 0
	return nil
}

// Read extracts the text of the next document. A document that cannot be
// read (it vanished, it is too large, it is corrupt, it is a scanned PDF)
// gives a *RowError with the row's path, name, ext and, when known, bytes
// and modified filled in and the text empty; the next Read goes on with the
// next document. Only a cancelled ctx is fatal.
func (r *folderReader) Read(ctx context.Context) (Row, error) {
	if err := ctx.Err(); err != nil {
		return Row{}, err
	}
	if r.next >= len(r.entries) {
		return Row{}, io.EOF
	}
	e := r.entries[r.next]
	row := Row{Index: r.next, Key: e.rel, Values: make([]string, len(r.columns))}
	if r.name != "" {
		row.Key = r.name + "/" + e.rel
	}
	r.next++
	name := path.Base(e.rel)
	row.Values[0], row.Values[1] = e.rel, name
	rowErr := func(format string, args ...any) (Row, error) {
		return row, &RowError{Row: row, Err: fmt.Errorf("%s: "+format, append([]any{row.Key}, args...)...)}
	}
	if e.dirErr != nil {
		cause := e.dirErr
		var pe *os.PathError
		if errors.As(cause, &pe) {
			cause = pe.Err // the key already names the folder
		}
		return rowErr("cannot list this folder, so the documents in it are left out: %v; fix its permissions and run again", cause)
	}
	row.Values[2] = docExt(name)

	file := filepath.Join(r.root, filepath.FromSlash(e.rel))
	info, err := os.Lstat(file)
	if err != nil {
		return rowErr("cannot read the file: %v", err)
	}
	if !info.Mode().IsRegular() {
		return rowErr("is no longer a regular file (it changed after the folder was listed)")
	}
	row.Values[3] = strconv.FormatInt(info.Size(), 10)
	row.Values[4] = info.ModTime().UTC().Format(time.RFC3339)
	if info.Size() > r.opt.maxBytes {
		return rowErr("too large: %s, over the %s limit for one document; split it into smaller files or raise the limit", formatSize(info.Size()), formatSize(r.opt.maxBytes))
	}
	f, err := os.Open(file)
	if err != nil {
		return rowErr("cannot read the file: %v", err)
	}
	text, err := extractorFor(row.Values[2])(ctx, f, info.Size(), r.opt)
	f.Close()
	switch {
	case err == nil:
		row.Values[5] = text
		return row, nil
	case ctx.Err() != nil:
		return Row{}, ctx.Err()
	case errors.Is(err, errTooLarge):
		return rowErr("too large: its text expands to more than the %s limit for one document; split it into smaller files or raise the limit", formatSize(r.opt.maxBytes))
	}
	return rowErr("%v", err)
}
