package samples_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"bulkgen/model/tokenizer"
	"bulkgen/prompts"
	"bulkgen/readers"
	"bulkgen/samples/internal/samplegen"
)

const regenerate = "run `go run ./samples/gen` from the repository root"

// folderColumns are the columns the folder reader gives each file in a
// directory input such as samples/docs/.
var folderColumns = []string{"path", "name", "ext", "bytes", "modified", "text"}

// jobs maps every job file to the inputs it is meant for. Every column the
// job uses must be a column of each of them.
var jobs = []struct {
	file   string
	inputs []string // a trailing "/" marks a folder input
}{
	{file: "translate.yaml", inputs: []string{"catalog.xlsx"}},
	{file: "translate_task.yaml", inputs: []string{"catalog.xlsx"}},
	{file: "sentiment.yaml", inputs: []string{"reviews.csv", "reviews_gbk.csv"}},
	{file: "extract.yaml", inputs: []string{"tickets.jsonl"}},
	{file: "summarize.yaml", inputs: []string{"docs/"}},
}

var (
	reviewIDRE   = regexp.MustCompile(`^R\d{4}$`)
	skuRE        = regexp.MustCompile(`^SKU-\d{5}$`)
	priceShownRE = regexp.MustCompile(`^¥[\d,]+\.\d\d$`)
)

func TestEveryJobFileIsListed(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, j := range jobs {
		listed = append(listed, j.file)
	}
	slices.Sort(files)
	slices.Sort(listed)
	if !slices.Equal(files, listed) {
		t.Fatalf("job files on disk %q, listed in the test %q; add new jobs to the jobs table", files, listed)
	}
}

// TestJobs loads every job file with bulkgen's own parser (unknown keys
// are errors), validates it as a run would, and binds its templates to
// each input's columns.
func TestJobs(t *testing.T) {
	for _, j := range jobs {
		t.Run(j.file, func(t *testing.T) {
			job, err := prompts.LoadJob(j.file)
			if err != nil {
				t.Fatal(err)
			}
			job = job.WithDefaults()
			if err := job.Validate(); err != nil {
				t.Fatal(err)
			}
			if job.ResponseFormat == "json_object" {
				// DashScope refuses JSON mode unless a message says "json";
				// the Renderer's system prompt is what is sent.
				r, err := prompts.NewRenderer(job, columnsOf(t, j.inputs[0]), j.inputs[0])
				if err != nil {
					t.Fatal(err)
				}
				values := make([]string, len(columnsOf(t, j.inputs[0])))
				for i := range values {
					values[i] = "x"
				}
				req, _ := r.Render(values)
				text := ""
				for _, m := range req.Messages {
					text += m.Content
				}
				if !strings.Contains(strings.ToLower(text), "json") {
					t.Errorf("%s: JSON mode, but no message says JSON", j.file)
				}
			}
			for _, in := range j.inputs {
				cols := columnsOf(t, in)
				if job.Task == prompts.TaskTranslate {
					for _, c := range job.Translate.Columns {
						if !slices.Contains(cols, c) {
							t.Errorf("%s: column %q is not a column of %s (columns %q)", j.file, c, in, cols)
						}
					}
					continue
				}
				if _, err := prompts.NewRenderer(job, cols, in); err != nil {
					t.Errorf("%s on %s: %v", j.file, in, err)
				}
				outs := []string{job.OutputColumn}
				if job.Fields != nil {
					outs = job.Fields.Names()
				}
				for _, out := range outs {
					if slices.Contains(cols, out) {
						t.Errorf("%s: output column %q would clash with a column of %s", j.file, out, in)
					}
				}
			}
		})
	}
}

// columnsOf reads only the column names of a sample input, by format.
func columnsOf(t *testing.T, input string) []string {
	t.Helper()
	switch {
	case strings.HasSuffix(input, "/"):
		return folderColumns
	case strings.HasSuffix(input, ".csv"):
		f, err := os.Open(input)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var r io.Reader = f
		if strings.Contains(input, "_gbk") {
			r = transform.NewReader(f, simplifiedchinese.GB18030.NewDecoder())
		}
		header, err := csv.NewReader(r).Read()
		if err != nil {
			t.Fatalf("%s: header: %v", input, err)
		}
		return header
	case strings.HasSuffix(input, ".jsonl"):
		var cols []string
		for i, obj := range readJSONL(t, input) {
			// Map order is random; sorting keeps the column list stable.
			for _, k := range slices.Sorted(maps.Keys(obj)) {
				if !slices.Contains(cols, k) {
					if i > 0 {
						t.Errorf("%s line %d: key %q is not on line 1", input, i+1, k)
					}
					cols = append(cols, k)
				}
			}
		}
		return cols
	case strings.HasSuffix(input, ".xlsx"):
		f, err := excelize.OpenFile(input)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: first sheet has no header: %v", input, err)
		}
		return rows[0]
	}
	t.Fatalf("no column reader for %s", input)
	return nil
}

func readJSONL(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("%s: last line has no newline", file)
	}
	var objs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || obj == nil {
			t.Fatalf("%s line %d: not a JSON object: %v", file, line, err)
		}
		if dec.More() {
			t.Fatalf("%s line %d: more than one JSON value", file, line)
		}
		objs = append(objs, obj)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestReviewsCSV(t *testing.T) {
	data, err := os.ReadFile("reviews.csv")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Error("reviews.csv starts with a BOM; it is meant to be plain UTF-8")
	}
	if !utf8.Valid(data) {
		t.Error("reviews.csv is not valid UTF-8")
	}
	if bytes.Contains(data, []byte("\r")) {
		t.Error("reviews.csv has CR characters; it uses LF line ends (reviews_gbk.csv is the CRLF copy)")
	}

	// encoding/csv checks that every record has as many fields as the header.
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("reviews.csv: %v", err)
	}
	if want := []string{"评论编号", "用户", "评分", "评论内容", "日期"}; !slices.Equal(records[0], want) {
		t.Fatalf("header = %q, want %q", records[0], want)
	}
	rows := records[1:]
	if len(rows) < 30 || len(rows) > 60 {
		t.Errorf("%d reviews, want about 40", len(rows))
	}
	ids := map[string]bool{}
	ratings := map[int]int{}
	var withNewline, withComma, withQuote int
	for i, r := range rows {
		line := i + 2
		if ids[r[0]] || !reviewIDRE.MatchString(r[0]) {
			t.Errorf("record %d: 评论编号 %q is repeated or not like R0001", line, r[0])
		}
		ids[r[0]] = true
		n, err := strconv.Atoi(r[2])
		if err != nil || n < 1 || n > 5 {
			t.Errorf("record %d: 评分 %q is not 1 to 5", line, r[2])
		}
		ratings[n]++
		if strings.TrimSpace(r[3]) == "" {
			t.Errorf("record %d: 评论内容 is empty", line)
		}
		if _, err := time.Parse(time.DateOnly, r[4]); err != nil {
			t.Errorf("record %d: 日期 %q: %v", line, r[4], err)
		}
		if strings.Contains(r[3], "\n") {
			withNewline++
		}
		if strings.Contains(r[3], ",") {
			withComma++
		}
		if strings.Contains(r[3], `"`) {
			withQuote++
		}
	}
	// These cases are what the sample is for: quoting that a naive
	// line-based reader gets wrong, and a mix of sentiments.
	if withNewline < 2 || withComma < 3 || withQuote < 1 {
		t.Errorf("reviews with a line break %d (want ≥2), ASCII comma %d (want ≥3), quote %d (want ≥1)", withNewline, withComma, withQuote)
	}
	for _, n := range []int{1, 3, 5} {
		if ratings[n] < 3 {
			t.Errorf("only %d reviews rated %d; keep the sentiment mixed", ratings[n], n)
		}
	}
}

func TestReviewsGBKMatchesReviews(t *testing.T) {
	gbk, err := os.ReadFile("reviews_gbk.csv")
	if err != nil {
		t.Fatal(err)
	}
	utf, err := os.ReadFile("reviews.csv")
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(gbk)
	if err != nil {
		t.Fatalf("reviews_gbk.csv is not GB18030: %v", err)
	}
	// Chinese Excel writes code page 936 (GBK); every character of the
	// sample fits it, so readers that only know GBK read it too.
	if asGBK, err := simplifiedchinese.GBK.NewEncoder().Bytes(decoded); err != nil || !bytes.Equal(asGBK, gbk) {
		t.Errorf("reviews_gbk.csv is not plain GBK (err %v); keep reviews.csv within GBK characters", err)
	}
	want, err := csv.NewReader(bytes.NewReader(utf)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(bytes.NewReader(decoded)).ReadAll()
	if err != nil {
		t.Fatalf("reviews_gbk.csv: %v", err)
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("reviews_gbk.csv records differ from reviews.csv; %s", regenerate)
	}
	// Every record ends with CRLF; line breaks inside cells stay LF.
	if n := bytes.Count(gbk, []byte("\r\n")); n != len(want) || !bytes.HasSuffix(gbk, []byte("\r\n")) {
		t.Errorf("reviews_gbk.csv has %d CRLF, want one per record (%d)", n, len(want))
	}
}

func TestTicketsJSONL(t *testing.T) {
	objs := readJSONL(t, "tickets.jsonl")
	if len(objs) < 25 || len(objs) > 40 {
		t.Errorf("%d tickets, want about 30", len(objs))
	}
	wantKeys := []string{"channel", "customer", "id", "tags", "text"}
	ids := map[string]bool{}
	var chinese, english int
	for i, o := range objs {
		line := i + 1
		keys := make([]string, 0, len(o))
		for k := range o {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("line %d: keys %q, want %q", line, keys, wantKeys)
			continue
		}
		id, ok := o["id"].(json.Number)
		if _, err := id.Int64(); !ok || err != nil || ids[id.String()] {
			t.Errorf("line %d: id %v is not a unique integer", line, o["id"])
		}
		ids[id.String()] = true
		if s, _ := o["channel"].(string); s == "" {
			t.Errorf("line %d: channel is not a non-empty string", line)
		}
		c, _ := o["customer"].(map[string]any)
		if name, _ := c["name"].(string); name == "" || len(c) != 2 {
			t.Errorf("line %d: customer %v is not {name, tier}", line, o["customer"])
		}
		if tier, _ := c["tier"].(string); tier == "" {
			t.Errorf("line %d: customer.tier is not a non-empty string", line)
		}
		text, _ := o["text"].(string)
		if strings.TrimSpace(text) == "" {
			t.Errorf("line %d: text is empty", line)
		}
		if strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			chinese++
		} else {
			english++
		}
		tags, ok := o["tags"].([]any)
		if !ok {
			t.Errorf("line %d: tags is not an array", line)
		}
		for _, tag := range tags {
			if s, _ := tag.(string); s == "" {
				t.Errorf("line %d: tag %v is not a non-empty string", line, tag)
			}
		}
	}
	if chinese < 5 || english < 5 {
		t.Errorf("%d Chinese and %d English tickets; keep both languages", chinese, english)
	}
}

func TestCatalogXLSX(t *testing.T) {
	f, err := excelize.OpenFile("catalog.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := f.GetSheetList(), []string{"商品", "说明", "汇率"}; !slices.Equal(got, want) {
		t.Fatalf("sheets = %q, want %q", got, want)
	}

	rows, err := f.GetRows("商品")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"商品编号", "商品名称", "描述", "类目", "价格", "库存", "上架日期"}; !slices.Equal(rows[0], want) {
		t.Fatalf("商品 header = %q, want %q", rows[0], want)
	}
	if n := len(rows) - 1; n < 35 || n > 50 {
		t.Errorf("商品 has %d products, want about 40", n)
	}
	skus := map[string]bool{}
	descs := map[string]int{}
	categories := map[string]int{}
	for i, r := range rows[1:] {
		excelRow := i + 2
		if len(r) != 7 || slices.Contains(r, "") {
			t.Errorf("row %d: %q has an empty cell", excelRow, r)
			continue
		}
		if skus[r[0]] || !skuRE.MatchString(r[0]) {
			t.Errorf("row %d: 商品编号 %q is repeated or not like SKU-10023", excelRow, r[0])
		}
		skus[r[0]] = true
		descs[r[2]]++
		categories[r[3]]++
		// GetRows applies the number formats, as a user would see the cells.
		if !priceShownRE.MatchString(r[4]) {
			t.Errorf("row %d: 价格 shows as %q, want ¥#,##0.00", excelRow, r[4])
		}
		if _, err := time.Parse(time.DateOnly, r[6]); err != nil {
			t.Errorf("row %d: 上架日期 shows as %q, want yyyy-mm-dd", excelRow, r[6])
		}
		// The stored values are numbers, not text that looks like them.
		for _, c := range []struct {
			col    string
			number bool
		}{{"E", false}, {"F", true}, {"G", true}} {
			cell := c.col + strconv.Itoa(excelRow)
			raw, err := f.GetCellValue("商品", cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if c.number {
				_, err = strconv.Atoi(raw)
			} else {
				_, err = strconv.ParseFloat(raw, 64)
			}
			if err != nil {
				t.Errorf("%s: raw value %q is not numeric", cell, raw)
			}
		}
	}
	for _, cat := range []string{"茶叶", "数码电子", "服装", "厨房用品"} {
		if categories[cat] < 5 {
			t.Errorf("类目 %s has %d products, want at least 5", cat, categories[cat])
		}
	}
	repeated := 0
	for _, n := range descs {
		if n > 1 {
			repeated++
		}
	}
	if repeated < 3 {
		t.Errorf("%d descriptions are shared by several products, want at least 3 (dedupe needs them)", repeated)
	}
	for cell, want := range map[string]string{"E2": `"¥"#,##0.00`, "G2": "yyyy-mm-dd"} {
		id, err := f.GetCellStyle("商品", cell)
		if err != nil {
			t.Fatal(err)
		}
		style, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if style.CustomNumFmt == nil || *style.CustomNumFmt != want {
			t.Errorf("商品!%s number format = %v, want %q", cell, style.CustomNumFmt, want)
		}
	}

	rates, err := f.GetRows("汇率")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"货币", "代码", "汇率（1单位外币兑人民币）", "更新日期"}; len(rates) < 4 || !slices.Equal(rates[0], want) {
		t.Errorf("汇率 = %q, want header %q and at least 3 rates", rates, want)
	}
	notes, err := f.GetRows("说明")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) < 3 {
		t.Errorf("说明 has %d lines, want at least 3", len(notes))
	}
}

// TestGeneratedFilesAreCurrent regenerates into a temporary directory and
// compares bytes. excelize writes zip entries sorted and without timestamps,
// so the workbook is reproducible too.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := samplegen.Generate(context.Background(), ".", dir); err != nil {
		t.Fatal(err)
	}
	names := []string{samplegen.ReviewsGBKCSV, samplegen.CatalogXLSX}
	for _, doc := range samplegen.DocsFiles() {
		names = append(names, filepath.Join(samplegen.DocsDir, doc))
	}
	for _, name := range names {
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from a fresh generation (%d vs %d bytes); %s", name, len(want), len(got), regenerate)
		}
	}
}

// TestDocs checks the hand-written documents of docs/: short UTF-8 text in
// both languages. The generated ones are checked by TestDocsFolder.
func TestDocs(t *testing.T) {
	entries, err := os.ReadDir("docs")
	if err != nil {
		t.Fatal(err)
	}
	generated := samplegen.DocsFiles()
	var texts, chinese, english int
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			t.Errorf("docs/%s is not a regular file", name)
			continue
		}
		if slices.Contains(generated, name) {
			continue
		}
		ext := filepath.Ext(name)
		if ext != ".md" && ext != ".txt" && ext != ".html" {
			t.Errorf("docs/%s: extension %q, want .md, .txt or .html (or add it to samplegen.DocsFiles if it is generated)", name, ext)
		}
		data, err := os.ReadFile(filepath.Join("docs", name))
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(data)) == 0 || len(data) > 4096 || !utf8.Valid(data) {
			t.Errorf("docs/%s: want short, non-empty UTF-8 text (%d bytes)", name, len(data))
		}
		if ext == ".html" {
			continue // markup would skew the language count
		}
		texts++
		// An English document may quote a Chinese term or two; language is
		// decided by the share of Han characters.
		han := 0
		for _, r := range string(data) {
			if unicode.Is(unicode.Han, r) {
				han++
			}
		}
		if han*5 > utf8.RuneCount(data) {
			chinese++
		} else {
			english++
		}
	}
	if texts < 4 || texts > 5 {
		t.Errorf("docs/ has %d .md and .txt documents, want 4 or 5", texts)
	}
	if chinese < 2 || english < 2 {
		t.Errorf("docs: %d Chinese and %d English documents, want at least 2 of each", chinese, english)
	}
}

// TestDocsFolder reads docs/ with the folder reader, as
// `bulkgen run -i samples/docs` does: one row per document, the text of
// each format extracted, and exactly one unreadable document reported as a
// row error while the others are read.
func TestDocsFolder(t *testing.T) {
	entries, err := os.ReadDir("docs")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range samplegen.DocsFiles() {
		if _, err := os.Stat(filepath.Join("docs", name)); err != nil {
			t.Errorf("generated document missing: %v; %s", err, regenerate)
		}
	}
	r, err := readers.Open("docs", readers.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !slices.Equal(r.Columns(), folderColumns) {
		t.Fatalf("columns %q, want %q", r.Columns(), folderColumns)
	}
	if n, _ := r.Total(); n != len(entries) {
		t.Errorf("Total() = %d, want one row per file of docs/ (%d)", n, len(entries))
	}
	texts := map[string]string{}
	var rowErrs []string
	ctx := context.Background()
	for {
		row, err := r.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *readers.RowError
		if errors.As(err, &rowErr) {
			rowErrs = append(rowErrs, row.Values[0])
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		texts[row.Values[0]] = row.Values[5]
	}
	if want := []string{samplegen.DocsLegacy}; !slices.Equal(rowErrs, want) {
		t.Errorf("documents with a row error %q, want only %q", rowErrs, want)
	}
	for name, text := range texts {
		if strings.TrimSpace(text) == "" {
			t.Errorf("docs/%s: no text extracted", name)
		}
	}
	for name, want := range map[string]string{
		samplegen.DocsChecklist:         "新品上架检查清单 / New Product Listing Checklist",
		samplegen.DocsReport:            "Q1 2025 Sales Report",
		"spring-festival-shipping.html": "春节期间发货安排",
	} {
		if !strings.HasPrefix(texts[name], want) {
			t.Errorf("docs/%s: text starts %.40q, want %q", name, texts[name], want)
		}
	}
	if strings.Contains(texts["spring-festival-shipping.html"], "dataLayer") {
		t.Errorf("docs/spring-festival-shipping.html: script text was extracted")
	}

	// The long document is what chunking is tested with: it must be far
	// over a small context, and mix both languages.
	tok, err := tokenizer.Qwen()
	if err != nil {
		t.Fatal(err)
	}
	long := texts[samplegen.DocsHandbook]
	if n := tok.Count(long); n < 25000 || n > 40000 {
		t.Errorf("docs/%s has %d tokens, want about 30,000", samplegen.DocsHandbook, n)
	}
	han := 0
	for _, r := range long {
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	if han < 10000 || !strings.Contains(long, "English summary") {
		t.Errorf("docs/%s: %d Han characters; want a long mix of Chinese and English", samplegen.DocsHandbook, han)
	}
}
