package writers

import "io"

// AtomicFile is a file written under a temporary name next to its
// destination and renamed into place by Commit, so that a failed or
// interrupted write never leaves half a file (for files that are not
// tables, such as a batch request file).
type AtomicFile struct {
	o *output
}

// CreateAtomic starts writing path.
func CreateAtomic(path string) (*AtomicFile, error) {
	o, err := openOutput(path, "", nil)
	if err != nil {
		return nil, err
	}
	return &AtomicFile{o: o}, nil
}

var _ io.Writer = (*AtomicFile)(nil)

func (f *AtomicFile) Write(p []byte) (int, error) { return f.o.w.Write(p) }

// Commit makes the file visible under its name.
func (f *AtomicFile) Commit() error { return f.o.commit() }

// Abort removes the temporary file; after Commit it does nothing.
func (f *AtomicFile) Abort() error {
	if f.o.tmp == nil {
		return nil
	}
	return f.o.discard()
}
