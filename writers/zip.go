package writers

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/xuri/excelize/v2"
)

// streamZip is the excelize.ZipWriter used when saving a workbook. Left to
// itself, excelize builds the whole archive in a bytes.Buffer
// (File.WriteToBuffer) before writing it out, so memory would grow with
// the output. This writer sends entries straight to the destination file
// instead; the buffer excelize passes in stays empty.
//
// It takes over one more duty from excelize (File.writeZip64LFH): when an
// entry exceeds 4 GiB, archive/zip marks the local file header with
// version 20 while the central directory says 45 (ZIP64), and Excel then
// calls the workbook corrupt. patchZip64 fixes those headers after Close.
type streamZip struct {
	file  *os.File
	zw    *zip.Writer
	sizes map[string]*int64 // uncompressed bytes per entry created by Create
	// zip64Threshold is math.MaxUint32 in production; tests lower it to
	// exercise the header patch without writing 4 GiB.
	zip64Threshold int64
}

var _ excelize.ZipWriter = (*streamZip)(nil)

func newStreamZip(file *os.File, zip64Threshold int64) *streamZip {
	return &streamZip{
		file:           file,
		zw:             zip.NewWriter(file), // zip.Writer buffers internally
		sizes:          make(map[string]*int64),
		zip64Threshold: zip64Threshold,
	}
}

// Create implements excelize.ZipWriter.
func (z *streamZip) Create(name string) (io.Writer, error) {
	w, err := z.zw.Create(name)
	if err != nil {
		return nil, err
	}
	n := new(int64)
	z.sizes[name] = n
	return &countingWriter{w: w, n: n}, nil
}

// AddFS implements excelize.ZipWriter.
func (z *streamZip) AddFS(fsys fs.FS) error { return z.zw.AddFS(fsys) }

// Close implements excelize.ZipWriter: it finishes the archive and fixes
// the headers of ZIP64 entries.
func (z *streamZip) Close() error {
	if err := z.zw.Close(); err != nil {
		return err
	}
	var big []string
	for name, n := range z.sizes {
		if *n > z.zip64Threshold {
			big = append(big, name)
		}
	}
	if len(big) == 0 {
		return nil
	}
	return patchZip64(z.file, big)
}

// patchZip64 sets "version needed to extract" to 45 in the local file
// headers of the named entries of the zip file f.
func patchZip64(f *os.File, names []string) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return fmt.Errorf("reopen archive: %w", err)
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	const lfhLen = 30 // fixed part of a local file header
	for _, zf := range zr.File {
		if !want[zf.Name] {
			continue
		}
		data, err := zf.DataOffset()
		if err != nil {
			return fmt.Errorf("locate %s: %w", zf.Name, err)
		}
		// archive/zip writes streamed entries without a local extra
		// field, so the header sits right before name and data. Check
		// the signature and the name before touching any byte.
		off := data - lfhLen - int64(len(zf.Name))
		hdr := make([]byte, lfhLen+len(zf.Name))
		if off < 0 {
			return fmt.Errorf("locate %s: bad header offset", zf.Name)
		}
		if _, err := f.ReadAt(hdr, off); err != nil {
			return fmt.Errorf("read header of %s: %w", zf.Name, err)
		}
		if binary.LittleEndian.Uint32(hdr) != 0x04034b50 || !bytes.Equal(hdr[lfhLen:], []byte(zf.Name)) {
			return fmt.Errorf("read header of %s: unexpected layout", zf.Name)
		}
		var version [2]byte
		binary.LittleEndian.PutUint16(version[:], 45)
		if _, err := f.WriteAt(version[:], off+4); err != nil {
			return fmt.Errorf("patch header of %s: %w", zf.Name, err)
		}
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n *int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}
