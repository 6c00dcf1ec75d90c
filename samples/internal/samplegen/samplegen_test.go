package samplegen

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEncodeExcelCSV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"record ends become CRLF", "a,b\n1,2\n", "a,b\r\n1,2\r\n"},
		{"line break inside quotes stays LF", "id,text\n1,\"x\ny\"\n", "id,text\r\n1,\"x\ny\"\r\n"},
		{"escaped quotes do not end the field", "\"say \"\"hi\"\"\n!\",1\n", "\"say \"\"hi\"\"\n!\",1\r\n"},
		{"CRLF input is not doubled", "a\r\nb\r\n", "a\r\nb\r\n"},
		{"CR LF inside quotes is kept", "\"a\r\nb\"\n", "\"a\r\nb\"\r\n"},
		{"missing final newline is added", "a\nb", "a\r\nb\r\n"},
		{"UTF-8 BOM is dropped", "\uFEFFa\n", "a\r\n"},
		{"Chinese becomes GB18030", "评论\n", "\xc6\xc0\xc2\xdb\r\n"},
		{"characters outside GBK use four bytes", "¥1\n", "\x81\x30\x84\x36" + "1\r\n"},
		{"empty input stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := EncodeExcelCSV(&out, strings.NewReader(tt.in)); err != nil {
				t.Fatalf("EncodeExcelCSV(%q): %v", tt.in, err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("EncodeExcelCSV(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEncodeExcelCSVErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantText []string
	}{
		{"invalid UTF-8 names the line", "a\nb\n\xff\n", []string{"line 3", "invalid UTF-8"}},
		{"unclosed quote names the line it opens on", "a\n\"b\nc\n", []string{"line 2", "never closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := EncodeExcelCSV(&bytes.Buffer{}, strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("EncodeExcelCSV(%q) succeeded, want an error", tt.in)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestEncodeExcelCSVWriteError(t *testing.T) {
	err := EncodeExcelCSV(failingWriter{}, strings.NewReader("a,b\n1,2\n"))
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("EncodeExcelCSV to a failing writer = %v, want %v", err, errDiskFull)
	}
}

func TestWriteCatalogIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteCatalog(&a); err != nil {
		t.Fatal(err)
	}
	if err := WriteCatalog(&b); err != nil {
		t.Fatal(err)
	}
	if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("two WriteCatalog runs differ (%d and %d bytes); the checked-in catalog.xlsx could not be verified", a.Len(), b.Len())
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Run("missing reviews.csv names the file", func(t *testing.T) {
		src := t.TempDir()
		err := Generate(context.Background(), src, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), filepath.Join(src, ReviewsCSV)) {
			t.Fatalf("Generate without reviews.csv = %v, want an error naming %s", err, filepath.Join(src, ReviewsCSV))
		}
	})
	t.Run("bad reviews.csv leaves no partial output", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ReviewsCSV), []byte("a\n\"open\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := Generate(context.Background(), dir, dir)
		if err == nil || !strings.Contains(err.Error(), ReviewsCSV) {
			t.Fatalf("Generate with an unclosed quote = %v, want an error naming %s", err, ReviewsCSV)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		// catalog.xlsx is written first and is fine; the GBK file must not exist.
		if got, want := strings.Join(names, " "), CatalogXLSX+" "+ReviewsCSV; got != want {
			t.Errorf("files after failed Generate = %q, want %q", got, want)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := Generate(ctx, t.TempDir(), t.TempDir()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Generate with a cancelled context = %v, want context.Canceled", err)
		}
	})
}
