package readers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func ok(i int, key string, values ...string) result {
	return result{Index: i, Key: key, Values: values}
}

func bad(i int, key, msg string, values ...string) result {
	return result{Index: i, Key: key, Values: values, Err: msg}
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		opts     Options
		wantCols []string
		want     []result
		wantErr  string // fatal error from open or read
	}{
		{
			name:     "BOM and quoted header",
			input:    "\xEF\xBB\xBF\"name\",\"price\"\n apple ,3\n",
			wantCols: []string{"name", "price"},
			want:     []result{ok(0, "x.csv:2", " apple ", "3")},
		},
		{
			name:     "CRLF",
			input:    "a,b\r\n1,2\r\n3,4\r\n",
			wantCols: []string{"a", "b"},
			want:     []result{ok(0, "x.csv:2", "1", "2"), ok(1, "x.csv:3", "3", "4")},
		},
		{
			name:     "quoted newlines keep line numbers",
			input:    "id,text\n1,\"line one\nline two\"\n2,plain\n3,\"x\r\ny\"\n4,end",
			wantCols: []string{"id", "text"},
			want: []result{
				ok(0, "x.csv:2", "1", "line one\nline two"),
				ok(1, "x.csv:4", "2", "plain"),
				ok(2, "x.csv:5", "3", "x\ny"),
				ok(3, "x.csv:7", "4", "end"),
			},
		},
		{
			name:     "sniff semicolon with commas in values",
			input:    "name;price;note\napple;1,5;\"a;b\"\nbanana;2,0;x\n",
			wantCols: []string{"name", "price", "note"},
			want:     []result{ok(0, "x.csv:2", "apple", "1,5", "a;b"), ok(1, "x.csv:3", "banana", "2,0", "x")},
		},
		{
			name:     "sniff tab",
			input:    "a\tb, c\n1\t2\n3\t4, 5\n",
			wantCols: []string{"a", "b, c"},
			want:     []result{ok(0, "x.csv:2", "1", "2"), ok(1, "x.csv:3", "3", "4, 5")},
		},
		{
			name:     "sniff pipe",
			input:    "a|b|c\n1|2|3\n",
			wantCols: []string{"a", "b", "c"},
			want:     []result{ok(0, "x.csv:2", "1", "2", "3")},
		},
		{
			name:     "sniff ragged file picks the most common count",
			input:    "a;b;c\n1;2;3\n4;5\n6;7;8\n",
			wantCols: []string{"a", "b", "c"},
			want: []result{
				ok(0, "x.csv:2", "1", "2", "3"),
				bad(1, "x.csv:3", "x.csv line 3: 2 fields, header has 3 (fix the row, or pass --allow-ragged to pad short rows)", "4", "5", ""),
				ok(2, "x.csv:4", "6", "7", "8"),
			},
		},
		{
			name:     "single column defaults to comma",
			input:    "text\nhello world\n",
			wantCols: []string{"text"},
			want:     []result{ok(0, "x.csv:2", "hello world")},
		},
		{
			name:     "explicit delimiter wins over sniffing",
			input:    "a;b,c\n1;2,3\n",
			opts:     Options{Delimiter: ';'},
			wantCols: []string{"a", "b,c"},
			want:     []result{ok(0, "x.csv:2", "1", "2,3")},
		},
		{
			name:     "without an explicit delimiter the tie goes to comma",
			input:    "a;b,c\n1;2,3\n",
			wantCols: []string{"a;b", "c"},
			want:     []result{ok(0, "x.csv:2", "1;2", "3")},
		},
		{
			name:     "tsv format means tab",
			input:    "a,b\tc\n1,2\t3\n",
			opts:     Options{Format: "tsv"},
			wantCols: []string{"a,b", "c"},
			want:     []result{ok(0, "x.csv:2", "1,2", "3")},
		},
		{
			name:    "invalid delimiter",
			input:   "a,b\n",
			opts:    Options{Delimiter: '"'},
			wantErr: `x.csv: invalid delimiter '"'`,
		},
		{
			name:     "ragged rows are row errors",
			input:    "a,b,c\n1,2,3\n1,2\n1,2,3,4\n5,6,7\n",
			wantCols: []string{"a", "b", "c"},
			want: []result{
				ok(0, "x.csv:2", "1", "2", "3"),
				bad(1, "x.csv:3", "x.csv line 3: 2 fields, header has 3 (fix the row, or pass --allow-ragged to pad short rows)", "1", "2", ""),
				bad(2, "x.csv:4", "x.csv line 4: 4 fields, header has 3 (fix the row, or pass --allow-ragged to pad short rows)", "1", "2", "3"),
				ok(3, "x.csv:5", "5", "6", "7"),
			},
		},
		{
			name:     "allow ragged pads short rows, refuses long ones with data",
			input:    "a,b,c\n1,2\n1,2,3,4\n1,2,3,,\n",
			opts:     Options{AllowRagged: true},
			wantCols: []string{"a", "b", "c"},
			want: []result{
				ok(0, "x.csv:2", "1", "2", ""),
				bad(1, "x.csv:3", "x.csv line 3: 4 fields, header has 3 (the extra fields have no column; fix the row or add a header for them)", "1", "2", "3"),
				ok(2, "x.csv:4", "1", "2", "3"),
			},
		},
		{
			name:     "duplicate and empty header names",
			input:    "x,,x,x, ,x_2\n1,2,3,4,5,6\n",
			wantCols: []string{"x", "column_2", "x_2", "x_3", "column_5", "x_2_2"},
			want:     []result{ok(0, "x.csv:2", "1", "2", "3", "4", "5", "6")},
		},
		{
			name:     "blank records are skipped and not counted",
			input:    "\n,\na,b\n\n,\n1,2\n  ,  \n3,4\n",
			wantCols: []string{"a", "b"},
			want:     []result{ok(0, "x.csv:6", "1", "2"), ok(1, "x.csv:8", "3", "4")},
		},
		{
			name:     "header only",
			input:    "a,b\n",
			wantCols: []string{"a", "b"},
		},
		{
			name:    "empty file",
			input:   "",
			wantErr: "x.csv is empty: expected a header row",
		},
		{
			name:     "bare quote is fatal with line, column and advice",
			input:    "a,b\n1,2\n3,x\"y\n5,6\n",
			wantCols: []string{"a", "b"},
			want:     []result{ok(0, "x.csv:2", "1", "2")},
			wantErr:  `x.csv line 3, column 4: bare " in non-quoted-field; fix the quoting|Reading stopped here`,
		},
		{
			name:     "unclosed quote names the line where the record starts",
			input:    "a,b\n1,\"open\n2,3\n4,5\n",
			wantCols: []string{"a", "b"},
			wantErr:  `x.csv line 4, column 5 (in the record that starts on line 2): extraneous or missing " in quoted-field; a quoted field that starts on line 2 is probably never closed`,
		},
		{
			name:    "unsupported encoding",
			input:   "a\n1\n",
			opts:    Options{Encoding: "latin1"},
			wantErr: `x.csv: unsupported encoding "latin1"; pass --encoding utf-8 or --encoding gb18030`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewCSVReader(strings.NewReader(tt.input), "x.csv", tt.opts)
			if err != nil {
				checkErr(t, err, tt.wantErr)
				return
			}
			defer r.Close()
			if got := r.Columns(); !reflect.DeepEqual(got, tt.wantCols) {
				t.Errorf("Columns() = %q, want %q", got, tt.wantCols)
			}
			if n, ok := r.Total(); ok {
				t.Errorf("Total() = %d, true; CSV must not know its total", n)
			}
			got, err := readAll(t, r)
			checkErr(t, err, tt.wantErr)
			diffResults(t, got, tt.want)
			if tt.wantErr != "" {
				// The fatal error is sticky.
				_, again := r.Read(context.Background())
				if again == nil || again.Error() != err.Error() {
					t.Errorf("second Read after a fatal error = %v, want %v", again, err)
				}
			}
		})
	}
}

func gb18030(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCSVGB18030(t *testing.T) {
	const text = "名称|价格|备注\n苹果|3|\"红色,甜\"\n香蕉|4|黄色\n"
	encoded := gb18030(t, text)
	if bytes.Equal(encoded, []byte(text)) {
		t.Fatal("the encoder did not change the text")
	}
	want := []result{ok(0, "x.csv:2", "苹果", "3", "红色,甜"), ok(1, "x.csv:3", "香蕉", "4", "黄色")}
	for _, enc := range []string{"", "gb18030", "GBK"} {
		t.Run("encoding="+enc, func(t *testing.T) {
			r, err := NewCSVReader(bytes.NewReader(encoded), "x.csv", Options{Encoding: enc})
			checkErr(t, err, "")
			if got, wantCols := r.Columns(), []string{"名称", "价格", "备注"}; !reflect.DeepEqual(got, wantCols) {
				t.Errorf("Columns() = %q, want %q", got, wantCols)
			}
			got, err := readAll(t, r)
			checkErr(t, err, "")
			diffResults(t, got, want)
		})
	}
}

// A UTF-8 character cut by the end of the 64 KB detection window must not
// make the file look like GB18030.
func TestCSVUTF8CharacterAcrossWindow(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,text\n")
	for i := 0; b.Len() < sniffSize-100; i++ {
		b.WriteString("1,plain ascii text for padding\n")
	}
	b.WriteString("2,")
	b.WriteString(strings.Repeat("a", sniffSize-1-b.Len()))
	b.WriteString("中文\n") // 中 starts at byte sniffSize-1 and is cut after its first byte
	input := b.String()
	if input[sniffSize-1] != "中"[0] {
		t.Fatalf("test setup: byte %d is %x, want the first byte of 中", sniffSize-1, input[sniffSize-1])
	}
	r, err := NewCSVReader(strings.NewReader(input), "x.csv", Options{})
	checkErr(t, err, "")
	got, err := readAll(t, r)
	checkErr(t, err, "")
	last := got[len(got)-1]
	if want := input[strings.LastIndex(input, "2,")+2 : len(input)-1]; last.Values[1] != want {
		t.Errorf("last value ends with %q, want it to end with 中文", last.Values[1][len(last.Values[1])-12:])
	}
}

// The encoding is guessed from the first 64 KB; GB18030 text after that is
// caught instead of being passed on as broken text.
func TestCSVLateNonUTF8(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("id,text\n")
	for b.Len() <= sniffSize {
		b.WriteString("1,plain ascii text for padding\n")
	}
	b.WriteString("2,")
	b.Write(gb18030(t, "苹果"))
	b.WriteString("\n")
	lines := bytes.Count(b.Bytes(), []byte("\n"))

	r, err := NewCSVReader(bytes.NewReader(b.Bytes()), "x.csv", Options{})
	checkErr(t, err, "")
	got, err := readAll(t, r)
	checkErr(t, err, "x.csv line "+strconv.Itoa(lines)+": text is not valid UTF-8|pass --encoding gb18030")
	if len(got) != lines-2 {
		t.Errorf("read %d rows before the error, want %d", len(got), lines-2)
	}

	// Said explicitly, UTF-8 is trusted and the bytes are passed on.
	r, err = NewCSVReader(bytes.NewReader(b.Bytes()), "x.csv", Options{Encoding: "utf-8"})
	checkErr(t, err, "")
	got, err = readAll(t, r)
	checkErr(t, err, "")
	if len(got) != lines-1 {
		t.Errorf("read %d rows, want %d", len(got), lines-1)
	}
}

func TestCSVFixtureFile(t *testing.T) {
	r, err := Open("testdata/reviews.csv", Options{}, nil)
	checkErr(t, err, "")
	defer r.Close()
	if got, want := r.Columns(), []string{"id", "product", "review", "stars"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Columns() = %q, want %q", got, want)
	}
	got, err := readAll(t, r)
	checkErr(t, err, "")
	diffResults(t, got, []result{
		ok(0, "reviews.csv:2", "1", "Kettle", "Boils fast, looks nice", "5"),
		ok(1, "reviews.csv:3", "2", "Toaster", "Burns the bread.\nTwice.", "1"),
		ok(2, "reviews.csv:6", "3", "Lamp", `Said "bright", is dim`, "2"),
		bad(3, "reviews.csv:7", "reviews.csv line 7: 5 fields, header has 4 (fix the row, or pass --allow-ragged to pad short rows)", "4", "Fan", "Too loud", "2"),
		ok(4, "reviews.csv:8", "5", "Mug", "Fine", "4"),
	})

	n, err := CountRows(context.Background(), "testdata/reviews.csv", Options{})
	checkErr(t, err, "")
	if n != 5 {
		t.Errorf("CountRows = %d, want 5", n)
	}
}

func TestCSVCountRowsStopsAtParseError(t *testing.T) {
	path := writeFile(t, "q.csv", []byte("a,b\n1,2\n3,x\"y\n"))
	n, err := CountRows(context.Background(), path, Options{})
	checkErr(t, err, `q.csv line 3, column 4: bare "`)
	if n != 1 {
		t.Errorf("CountRows = %d, want 1 row counted before the error", n)
	}
}

func TestCSVCancelled(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("a\n1\n2\n"), "x.csv", Options{})
	checkErr(t, err, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context = %v, want context.Canceled", err)
	}
	// Cancellation is the caller's business, not a broken input: with a live
	// context the rows are still there.
	row, err := r.Read(context.Background())
	if err != nil || row.Key != "x.csv:2" {
		t.Fatalf("Read after cancel = %+v, %v", row, err)
	}
}

func TestCSVValuesAreNotReused(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("a,b\n1,2\n3,4\n"), "x.csv", Options{})
	checkErr(t, err, "")
	first, err := r.Read(context.Background())
	checkErr(t, err, "")
	if _, err := r.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first.Values, []string{"1", "2"}) {
		t.Errorf("first row changed to %q after the next Read", first.Values)
	}
	if _, err := r.Read(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("Read at the end = %v, want io.EOF", err)
	}
}

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		sample string
		atEOF  bool
		want   rune
	}{
		{"", true, ','},
		{"a,b\n1,2\n", true, ','},
		{"a;b\n1;2\n", true, ';'},
		{"a\tb\n1\t2\n", true, '\t'},
		{"a|b\n1|2\n", true, '|'},
		{"a;b;c\n\"x,y,z\";1;2\n", true, ';'},             // commas inside quotes do not count
		{"a;b\n\"multi\nline, text\";2\n", true, ';'},     // nor across a quoted newline
		{"a,b,c,d\n1,2,3,4\n1;2", false, ','},             // the cut last line is ignored
		{"a|b|c\n1|2|3\n1,2,3,4,5,6,7\n", true, '|'},      // consistency beats frequency
		{"name,note\nx,a|b|c\ny,d|e|f\n", true, ','},      // a header decides: pipes are not in it
		{"a\tb\tc\n1\t2\t3\n4\t5\n6\t7\t8\n", true, '\t'}, // ragged, tab still the most common
	}
	for _, tt := range tests {
		if got := sniffDelimiter([]byte(tt.sample), tt.atEOF); got != tt.want {
			t.Errorf("sniffDelimiter(%q) = %q, want %q", tt.sample, got, tt.want)
		}
	}
}

func TestValidUTF8Prefix(t *testing.T) {
	tests := []struct {
		in   []byte
		want bool
	}{
		{[]byte("abc"), true},
		{[]byte("ab中"), true},
		{[]byte("ab中")[:3], true}, // cut after the first byte of 中
		{[]byte("ab中")[:4], true},
		{[]byte("😀")[:3], true},
		{[]byte{'a', 0xff}, false},
		{gb18030(t, "苹果"), false},
		{append([]byte{0xC3, 0x28}, 'a'), false}, // a broken sequence in the middle
	}
	for _, tt := range tests {
		if got := validUTF8Prefix(tt.in); got != tt.want {
			t.Errorf("validUTF8Prefix(% x) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestHeaderNames(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"a", "b"}, []string{"a", "b"}},
		{[]string{"x", "x", "x"}, []string{"x", "x_2", "x_3"}},
		{[]string{"", " ", "\uFEFFid"}, []string{"column_1", "column_2", "id"}},
		{[]string{"column_2", ""}, []string{"column_2", "column_2_2"}},
	}
	for _, tt := range tests {
		if got := headerNames(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("headerNames(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
