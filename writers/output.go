package writers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// outputMode is 0644 rather than CreateTemp's 0600: results are meant to be
// shared like any file the user creates with a shell redirect.
const outputMode = 0o644

// output owns the bytes of one destination. Encoders write to w; commit
// makes the result visible and discard throws it away. Three shapes:
//
//   - a file: w is a temporary file in the destination's directory (same
//     filesystem, so the final rename is atomic);
//   - stdout, streamed (CSV/JSONL): w is stdout itself;
//   - stdout via a spool file (XLSX): the zip is built completely in a
//     temporary file and copied to stdout on commit, so an error while
//     building it never leaves half an archive on stdout.
type output struct {
	name   string    // destination path, or "stdout" (for messages)
	dest   string    // final path; "" when writing to stdout
	tmp    *os.File  // temporary file; nil when streaming to stdout
	stdout io.Writer // non-nil when the destination is stdout
	w      io.Writer // where the encoder writes
}

func openOutput(path, format string, stdout io.Writer) (*output, error) {
	if path == Stdout {
		if stdout == nil {
			return nil, errors.New("create stdout: no stdout writer given")
		}
		o := &output{name: "stdout", stdout: stdout, w: stdout}
		if format != FormatXLSX {
			return o, nil
		}
		tmp, err := os.CreateTemp("", "bulkgen-stdout-*.xlsx")
		if err != nil {
			return nil, fmt.Errorf("create stdout: spool file for xlsx: %w", err)
		}
		o.tmp, o.w = tmp, tmp
		return o, nil
	}

	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("create %s: is a directory: pass a file name such as %s", path, filepath.Join(path, "out."+format))
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if fi, serr := os.Stat(filepath.Clean(dir)); errors.Is(err, syscall.ENOTDIR) || (serr == nil && !fi.IsDir()) {
			return nil, fmt.Errorf("create %s: a part of its folder %s is a file, not a folder: choose another -o", path, dir)
		}
		return nil, fmt.Errorf("create %s: parent directory: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: temporary file: %w", path, err)
	}
	lockTemp(tmp)
	return &output{name: path, dest: path, tmp: tmp, w: tmp}, nil
}

// commit publishes what the encoder wrote (which it has already flushed).
// On failure the temporary file is removed and the destination is left as
// it was.
func (o *output) commit() error {
	if o.tmp == nil {
		return nil // streamed straight to stdout
	}
	if o.dest == "" {
		return o.commitToStdout()
	}
	// Sync before rename: otherwise a crash shortly after could leave the
	// new name pointing at a file whose data never reached the disk.
	err := o.tmp.Sync()
	if err == nil {
		err = o.tmp.Chmod(outputMode)
	}
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.tmp.Name(), o.dest)
	}
	if err != nil {
		_ = os.Remove(o.tmp.Name()) // the error below is the one that matters
		return fmt.Errorf("save %s: %w", o.name, err)
	}
	syncDir(filepath.Dir(o.dest))
	o.removeLeftovers()
	return nil
}

// removeLeftovers removes the temporary files of earlier runs to the same
// destination that were killed (kill -9, a power cut) before they could
// remove them: now that a whole output is in place they are of no use.
// Those of runs still writing are locked and left alone.
func (o *output) removeLeftovers() {
	dir, base := filepath.Split(o.dest)
	if dir == "" {
		dir = "."
	}
	matches, err := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+".tmp-*"))
	if err != nil {
		return
	}
	for _, m := range matches {
		if m != o.tmp.Name() {
			removeIfAbandoned(m)
		}
	}
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (o *output) commitToStdout() error {
	// The spool file is ours alone and lives in the temp dir: failing to
	// remove it must not turn a successful copy into an error.
	defer func() {
		_ = o.tmp.Close()
		_ = os.Remove(o.tmp.Name())
	}()
	if _, err := o.tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("write stdout: rewind spool file: %w", err)
	}
	if _, err := io.Copy(o.stdout, o.tmp); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return nil
}

// discard removes the temporary file. Streamed stdout output cannot be
// taken back; it simply stops.
func (o *output) discard() error {
	if o.tmp == nil {
		return nil
	}
	cerr := o.tmp.Close()
	if err := os.Remove(o.tmp.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("abort %s: remove temporary file: %w", o.name, err)
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("abort %s: %w", o.name, cerr)
	}
	return nil
}

// syncDir makes the rename itself durable. It is best effort: some
// platforms and filesystems cannot fsync a directory, and the file's data
// is already safe at this point.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
