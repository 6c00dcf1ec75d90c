package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"bulkgen/model"
	"bulkgen/prompts"
	"bulkgen/readers"
	"bulkgen/translate"
	"bulkgen/writers"
)

// TranslateOptions make a run translate cells (bulkgen translate, or
// task: translate): the chosen columns of every row, cell by cell.
type TranslateOptions struct {
	Columns []string
	From    string // "" lets the model tell
	To      string
	// Pack puts up to Pack cells into one request (a JSON reply checked
	// cell by cell; a reply that does not fit falls back to single cells).
	Pack int
	// Glossary terms found in a cell are put into its prompt.
	Glossary *translate.Glossary
	// InPlace replaces the cells; otherwise a translated column is added
	// beside each source column. For XLSX, in place writes a copy of the
	// workbook with every style, formula and sheet kept.
	InPlace bool
	// CodePattern overrides translate.DefaultCodePattern ("-": none).
	CodePattern string
}

// TranslateReport is what a translation run adds to Report.
type TranslateReport struct {
	Cells      int64            // cells sent (after dedupe)
	Translated int64            // cells written translated
	Duplicates int64            // cells that reused an identical cell's translation
	Failed     int64            // cells left as they were because of an error
	Skipped    map[string]int64 // by reason
	Packs      int64            // packed requests
	Fallbacks  int64            // packs that fell back to single cells
	Glossary   int64            // translations missing a glossary target
	InPlaceMB  float64          // estimated memory for --in-place XLSX
}

// Summary is one line for the run summary.
func (t *TranslateReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cells: %s translated, %s sent", human(t.Translated), human(t.Cells))
	if t.Duplicates > 0 {
		fmt.Fprintf(&b, ", %s identical cells reused", human(t.Duplicates))
	}
	if t.Failed > 0 {
		fmt.Fprintf(&b, ", %s failed (left as they were)", human(t.Failed))
	}
	if len(t.Skipped) > 0 {
		var reasons []string
		var n int64
		for r, k := range t.Skipped {
			n += k
			reasons = append(reasons, fmt.Sprintf("%s %s", human(k), r))
		}
		sort.Strings(reasons)
		fmt.Fprintf(&b, "; %s not sent (%s)", human(n), strings.Join(reasons, ", "))
	}
	if t.Packs > 0 {
		fmt.Fprintf(&b, "; %s packed requests, %s fell back to single cells", human(t.Packs), human(t.Fallbacks))
	}
	if t.Glossary > 0 {
		fmt.Fprintf(&b, "; %s translations miss a glossary term", human(t.Glossary))
	}
	return b.String()
}

// slot is the translation of one distinct cell text, shared by its
// duplicates. It is filled before any row that uses it is written: the
// first occurrence is in an earlier (or the same) item, and items are
// written in order.
type slot struct {
	text  string
	terms []translate.Term
	out   string
	err   error
	done  bool
}

// cellRef is one chosen cell of a row.
type cellRef struct {
	col  int // index in the input columns
	s    *slot
	skip translate.Reason
	dup  bool
}

// transItem is a group of whole rows translated together.
type transItem struct {
	rows  []readers.Row
	errs  []error     // a row-level reader error, per row
	cells [][]cellRef // per row
	work  []*slot     // distinct cells to send, in order
}

// itemReader groups the input rows into items of about Pack cells, and is
// the engine's Reader: each item is one "row" whose Index finds it.
type itemReader struct {
	src     readers.Reader
	cols    []int
	names   []string
	skipper *translate.Skipper
	gloss   *translate.Glossary
	pack    int
	kinds   func(row readers.Row, col int) translate.CellKind

	seen  *slotLRU
	mu    sync.Mutex
	items map[int]*transItem
	next  int
	rep   *TranslateReport
	done  bool
}

func (ir *itemReader) Columns() []string  { return []string{"cells"} }
func (ir *itemReader) Total() (int, bool) { return 0, false }
func (ir *itemReader) Close() error       { return nil }
func (ir *itemReader) take(i int) *transItem {
	ir.mu.Lock()
	defer ir.mu.Unlock()
	it := ir.items[i]
	delete(ir.items, i)
	return it
}

func (ir *itemReader) Read(ctx context.Context) (readers.Row, error) {
	if ir.done {
		return readers.Row{}, io.EOF
	}
	it := &transItem{}
	for len(it.work) < ir.pack && len(it.rows) < 256 {
		row, err := ir.src.Read(ctx)
		if errors.Is(err, io.EOF) {
			ir.done = true
			break
		}
		var rowErr *readers.RowError
		if errors.As(err, &rowErr) {
			it.rows, it.errs, it.cells = append(it.rows, rowErr.Row), append(it.errs, rowErr), append(it.cells, nil)
			continue
		}
		if err != nil {
			return readers.Row{}, err
		}
		refs := make([]cellRef, len(ir.cols))
		for k, c := range ir.cols {
			text := ""
			if c < len(row.Values) {
				text = row.Values[c]
			}
			refs[k] = cellRef{col: c}
			kind := translate.KindText
			if ir.kinds != nil {
				kind = ir.kinds(row, c)
			}
			if why := ir.skipper.Skip(text, kind); why != translate.Translate {
				refs[k].skip = why
				ir.rep.Skipped[string(why)]++
				continue
			}
			key := translate.Key(text)
			if s := ir.seen.get(key); s != nil {
				refs[k].s, refs[k].dup = s, true
				continue
			}
			s := &slot{text: strings.TrimSpace(text)}
			if ir.gloss != nil {
				s.terms = ir.gloss.Match(s.text)
			}
			ir.seen.put(key, s)
			refs[k].s = s
			it.work = append(it.work, s)
		}
		it.rows, it.errs, it.cells = append(it.rows, row), append(it.errs, nil), append(it.cells, refs)
	}
	if len(it.rows) == 0 {
		return readers.Row{}, io.EOF
	}
	ir.mu.Lock()
	idx := ir.next
	ir.next++
	ir.items[idx] = it
	ir.mu.Unlock()
	return readers.Row{Index: idx, Key: it.rows[0].Key, Values: []string{strconv.Itoa(len(it.work))}}, nil
}

// dedupeWindow is how many recent distinct cells a translation remembers
// to send an identical cell once; estimate counts with the same window.
const dedupeWindow = 100000

// slotLRU remembers recent distinct cells, so that identical cells are
// sent once while memory stays bounded.
type slotLRU struct {
	max   int
	m     map[string]*slot
	order []string
	head  int
}

func newSlotLRU(n int) *slotLRU { return &slotLRU{max: n, m: make(map[string]*slot, n)} }

func (l *slotLRU) get(k string) *slot { return l.m[k] }

func (l *slotLRU) put(k string, s *slot) {
	if len(l.order) < l.max {
		l.order = append(l.order, k)
	} else {
		delete(l.m, l.order[l.head])
		l.order[l.head] = k
		l.head = (l.head + 1) % l.max
	}
	l.m[k] = s
}

// translator sends an item's cells.
type translator struct {
	job  prompts.Job
	opts TranslateOptions
	rep  *TranslateReport
	mu   sync.Mutex
}

func (tr *translator) request(system, user string) model.Request {
	j := tr.job
	return model.Request{Model: j.Model, Temperature: j.Temperature, TopP: j.TopP, MaxTokens: j.MaxTokens, Seed: j.Seed,
		EnableThinking: j.EnableThinking,
		Messages:       []model.Message{{Role: "system", Content: system}, {Role: "user", Content: user}}}
}

func (tr *translator) count(f func(r *TranslateReport)) {
	tr.mu.Lock()
	f(tr.rep)
	tr.mu.Unlock()
}

// run translates the item's work; a cell's problem is kept in its slot.
func (tr *translator) run(it *transItem, ask func(model.Request) (model.Response, error)) error {
	pack := max(tr.opts.Pack, 1)
	for start := 0; start < len(it.work); start += pack {
		group := it.work[start:min(start+pack, len(it.work))]
		if len(group) > 1 {
			ok, err := tr.packed(group, ask)
			if errors.Is(err, errAwaitingBatch) {
				continue // the pack's answer comes from a batch: no fallback yet
			}
			if errors.Is(err, errNotFinished) {
				return err
			}
			if ok {
				continue
			}
			tr.count(func(r *TranslateReport) { r.Fallbacks++ })
		}
		for _, s := range group {
			if err := tr.single(s, ask); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tr *translator) packed(group []*slot, ask func(model.Request) (model.Response, error)) (bool, error) {
	cells := make([]string, len(group))
	var terms []translate.Term
	seen := map[string]bool{}
	for i, s := range group {
		cells[i] = s.text
		for _, t := range s.terms {
			if !seen[t.Source] {
				seen[t.Source] = true
				terms = append(terms, t)
			}
		}
	}
	system, user, err := translate.PackPrompt(cells, tr.opts.From, tr.opts.To, terms)
	if err != nil {
		return false, nil
	}
	tr.count(func(r *TranslateReport) { r.Packs++; r.Cells += int64(len(group)) })
	resp, err := ask(tr.request(system, user))
	if err != nil {
		if errors.Is(err, errNotFinished) || errors.Is(err, errAwaitingBatch) {
			return false, err
		}
		return false, nil // fall back: single cells may pass
	}
	outs, err := translate.ParsePacked(resp.Content, len(group))
	if err != nil {
		return false, nil
	}
	for i, s := range group {
		s.out, s.done = translate.KeepSpace(s.text, outs[i]), true
	}
	return true, nil
}

func (tr *translator) single(s *slot, ask func(model.Request) (model.Response, error)) error {
	system, user, err := translate.SinglePrompt(s.text, tr.opts.From, tr.opts.To, s.terms)
	if err != nil {
		s.err, s.done = err, true
		return nil
	}
	tr.count(func(r *TranslateReport) { r.Cells++ })
	resp, err := ask(tr.request(system, user))
	switch {
	case errors.Is(err, errAwaitingBatch):
		return nil // its answer comes from a batch; the other cells go on
	case errors.Is(err, errNotFinished):
		return err
	case err != nil:
		s.err, s.done = err, true
		return nil
	}
	out, err := translate.ParseSingle(resp.Content)
	if err != nil {
		s.err, s.done = fmt.Errorf("reply: %w", err), true
		return nil
	}
	s.out, s.done = translate.KeepSpace(s.text, out), true
	return nil
}

// executeTranslate runs a translation job: see TranslateOptions. rs, when
// not nil, is the run store binding to use (batch mode); probe makes a
// pass that writes nothing and only asks opts.Client (batch mode's
// planning, batchRun.missingTranslations, and estimate's
// countPackedTranslation).
func executeTranslate(ctx context.Context, opts Options, rs *runStore, probe bool) (Report, error) {
	to := opts.Translate
	if _, err := translate.LanguageName(to.To); err != nil {
		return Report{}, fmt.Errorf("--to: %w", err)
	}
	if to.From != "" {
		if _, err := translate.LanguageName(to.From); err != nil {
			return Report{}, fmt.Errorf("--from: %w", err)
		}
	}
	skipper, err := translate.NewSkipper(translate.SkipOptions{From: to.From, CodePattern: to.CodePattern})
	if err != nil {
		return Report{}, err
	}
	src, err := readers.Open(opts.Input, opts.ReaderOptions, opts.Stdin)
	if err != nil {
		return Report{}, err
	}
	defer src.Close()
	names := src.Columns()
	var cols []int
	for _, want := range to.Columns {
		i := indexOf(names, want)
		if i < 0 {
			return Report{}, &prompts.MissingColumnError{Input: displayName(opts.Input), Missing: []string{want}, Have: names}
		}
		cols = append(cols, i)
	}
	if len(cols) == 0 {
		return Report{}, errors.New("no columns to translate: give --columns NAME[,NAME...]")
	}
	if !probe {
		if err := checkOutput(opts.Input, opts.Output); err != nil {
			return Report{}, err
		}
	}
	inFormat, _ := readers.DetectFormat(opts.Input, opts.ReaderOptions.Format)
	outFormat := opts.WriterOptions.Format
	if outFormat == "" {
		outFormat, _ = writers.FormatFromPath(opts.Output)
	}
	xlsxInPlace := to.InPlace && inFormat == "xlsx"
	if xlsxInPlace && outFormat != "xlsx" && !probe { // a probe writes nothing
		return Report{}, fmt.Errorf("--in-place keeps the workbook's layout, so the output must be .xlsx too (got %s)", opts.Output)
	}

	rep := &TranslateReport{Skipped: map[string]int64{}}
	var wb *writers.Workbook
	var sheet string
	colLetters := map[int]string{}
	var kinds func(row readers.Row, col int) translate.CellKind
	if xlsxInPlace {
		if wb, err = writers.OpenWorkbook(ctx, opts.Input); err != nil {
			return Report{}, err
		}
		defer wb.Close()
		sheet = sheetName(wb.Sheets(), opts.ReaderOptions.Sheet)
		cellKinds := map[string]translate.CellKind{}
		lastRow := 0
		for _, c := range cols {
			letter, err := wb.HeaderColumn(sheet, names[c])
			if err != nil {
				return Report{}, err
			}
			colLetters[c] = letter
			for dc, err := range wb.DataCells(ctx, sheet, letter) {
				if err != nil {
					return Report{}, err
				}
				lastRow = max(lastRow, dc.Row)
				switch {
				case dc.IsFormula():
					cellKinds[dc.Cell] = translate.KindFormula
				case dc.IsNumber():
					cellKinds[dc.Cell] = translate.KindNumber
				case !dc.IsText():
					cellKinds[dc.Cell] = translate.KindOther
				}
			}
		}
		// excelize holds the workbook: about 1.3 KB per cell of the
		// edited sheet (measured by writers' BenchmarkRewriteXLSX).
		rep.InPlaceMB = float64(lastRow) * float64(len(names)) * 1.3 / 1024
		if !probe {
			fmt.Fprintf(opts.Stderr, "bulkgen: --in-place holds the workbook in memory: about %.1f MB for %d rows × %d columns (about 8 MB per 1,000 rows of 6 columns; beyond a few hundred thousand rows, translate into new columns instead)\n",
				rep.InPlaceMB, max(lastRow-1, 0), len(names))
		}
		kinds = func(row readers.Row, col int) translate.CellKind {
			if n, ok := excelRow(row.Key); ok {
				if k, ok := cellKinds[colLetters[col]+strconv.Itoa(n)]; ok {
					return k
				}
			}
			return translate.KindText
		}
	}

	// The output header: new columns beside their sources, or the input's
	// own columns; then usage and status.
	var header []string
	transCol := map[int]string{}
	for i, n := range names {
		header = append(header, n)
		if !to.InPlace && containsInt(cols, i) {
			name := n + "_" + to.To
			for indexOf(names, name) >= 0 || indexOf(header, name) >= 0 {
				name += "_"
			}
			transCol[i] = name
			header = append(header, name)
		}
	}
	header = append(header, ColPromptTokens, ColCompletionTokens, ColTotalTokens, ColCost, ColError)
	for _, c := range header[len(names)+len(transCol):] {
		if indexOf(names, c) >= 0 {
			return Report{}, fmt.Errorf("the input already has a column %q, which bulkgen needs to add", c)
		}
	}
	var out writers.Writer
	if !xlsxInPlace && !probe {
		if out, err = writers.Create(opts.Output, header, opts.WriterOptions, opts.Stdout); err != nil {
			return Report{}, err
		}
	}
	abort := func() {
		if out != nil {
			out.Abort()
		}
	}

	if rs == nil && opts.StorePath != "" {
		if rs, err = openRunStore(ctx, opts); err != nil {
			abort()
			return Report{}, err
		}
		defer rs.close()
	}
	if rs != nil && opts.Engine.Store == nil {
		opts.Engine.Store = rs
	}
	var report0 Report
	opts.Engine.Price, report0.Currency, report0.PriceNote = priceOf(opts.Prices, opts.Job.Model,
		": the cost column stays empty (add prices with --prices FILE)")
	ir := &itemReader{src: src, cols: cols, names: names, skipper: skipper, gloss: to.Glossary, pack: max(to.Pack, 1),
		kinds: kinds, seen: newSlotLRU(dedupeWindow), items: map[int]*transItem{}, rep: rep}
	tr := &translator{job: opts.Job, opts: *to, rep: rep}
	opts.Engine.Multi = func(row readers.Row, ask func(model.Request) (model.Response, error)) ([]string, error) {
		if probe {
			// Nothing is written: the item is done with here (an
			// unfinished one never reaches the sink).
			return nil, tr.run(ir.take(row.Index), ask)
		}
		ir.mu.Lock()
		it := ir.items[row.Index]
		ir.mu.Unlock()
		return nil, tr.run(it, ask)
	}
	render := func(values []string) (model.Request, bool) { return model.Request{}, values[0] == "0" }

	stats := &Stats{}
	var prog *progress
	if opts.Progress {
		prog = startProgress(opts.Stderr, stats, -1, report0.Currency)
	}
	written, failedRows := 0, 0
	firstErr := ""
	sink := func(r Result) error {
		if probe {
			ir.take(r.Row.Index) // an item without cells to send
			return nil
		}
		it := ir.take(r.Row.Index)
		if it == nil {
			return fmt.Errorf("translate: item %d lost", r.Row.Index)
		}
		for k, row := range it.rows {
			values := make([]any, 0, len(header))
			var cellErrs []string
			outFor := map[int]string{}
			for _, ref := range it.cells[k] {
				if ref.s == nil {
					continue
				}
				switch {
				case r.unfinished || !ref.s.done:
					cellErrs = append(cellErrs, fmt.Sprintf("%s: not translated (the run stopped first)", names[ref.col]))
				case ref.s.err != nil:
					cellErrs = append(cellErrs, fmt.Sprintf("%s: %v", names[ref.col], ref.s.err))
					rep.Failed++
				default:
					outFor[ref.col] = ref.s.out
					rep.Translated++
					if ref.dup {
						rep.Duplicates++
					}
					if len(ref.s.terms) > 0 && len(translate.Check(ref.s.text, ref.s.out, ref.s.terms)) > 0 {
						rep.Glossary++
					}
				}
			}
			if r.Err != nil {
				cellErrs = append(cellErrs, r.Err.Error())
			}
			if it.errs[k] != nil {
				cellErrs = append(cellErrs, it.errs[k].Error())
			}
			for i, n := range names {
				_ = n
				v := ""
				if i < len(row.Values) {
					v = row.Values[i]
				}
				if to.InPlace {
					if t, ok := outFor[i]; ok {
						v = t
					}
					values = append(values, v)
					continue
				}
				values = append(values, v)
				if _, ok := transCol[i]; ok {
					values = append(values, outFor[i])
				}
			}
			// Usage and cost belong to the item: they go on its first row.
			if k == 0 && !r.Skipped && r.Response.Usage.TotalTokens > 0 {
				u := r.Response.Usage
				var cost any
				if r.Priced {
					cost = roundCost(r.Cost)
				}
				values = append(values, u.PromptTokens, u.CompletionTokens, u.TotalTokens, cost)
			} else {
				values = append(values, nil, nil, nil, nil)
			}
			var errText any
			if len(cellErrs) > 0 {
				errText = oneLine(strings.Join(cellErrs, "; "))
				failedRows++
				if firstErr == "" {
					firstErr = row.Key + ": " + errText.(string)
				}
			}
			values = append(values, errText)
			if wb != nil {
				if n, ok := excelRow(row.Key); ok {
					for col, t := range outFor {
						if err := wb.Set(writers.CellEdit{Sheet: sheet, Cell: colLetters[col] + strconv.Itoa(n), Value: t}); err != nil {
							return err
						}
					}
				}
			} else if err := out.Write(values); err != nil {
				return fmt.Errorf("input row %s: %w", row.Key, err)
			}
			written++
		}
		return nil
	}
	runErr := Run(ctx, opts.Engine, ir, render, opts.Client, sink, stats)
	if prog != nil {
		prog.stop()
	}
	if probe {
		return Report{Translate: rep}, runErr
	}
	rep0 := report0
	rep0.Stats = stats.Snapshot()
	// The engine counted items (groups of rows); the summary is about rows.
	rep0.Stats.Written, rep0.Stats.Failed, rep0.Stats.OK = int64(written), int64(failedRows), int64(written-failedRows)
	rep0.Stats.Skipped, rep0.Stats.FirstError = 0, firstErr
	rep0.Translate = rep
	err = runErr
	switch {
	case written == 0 && runErr != nil:
		abort()
	case wb != nil:
		if serr := wb.SaveAs(ctx, opts.Output); serr != nil {
			err = errors.Join(runErr, serr)
		} else {
			rep0.Output = opts.Output
		}
	default:
		if cerr := out.Close(); cerr != nil {
			err = errors.Join(runErr, fmt.Errorf("finish %s: %w", displayName(opts.Output), cerr))
		} else {
			rep0.Output = opts.Output
		}
	}
	if rs != nil {
		rep0.RunID = rs.runID
		if ferr := rs.finish(rep0.Stats, err, rep0.Output != "", rep0.Currency); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	return rep0, err
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// excelRow reads the Excel row number from an XLSX row key
// ("catalog.xlsx:Sheet1!12").
func excelRow(key string) (int, bool) {
	i := strings.LastIndexByte(key, '!')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(key[i+1:])
	return n, err == nil
}

// sheetName resolves the reader's sheet option (a name, a 1-based index, or
// "" for the first) against the workbook's sheets.
func sheetName(sheets []string, opt string) string {
	if opt == "" && len(sheets) > 0 {
		return sheets[0]
	}
	if n, err := strconv.Atoi(opt); err == nil && n >= 1 && n <= len(sheets) {
		return sheets[n-1]
	}
	return opt
}

// cellCounts is what estimate counts for a translation (TranslateCells).
type cellCounts struct {
	cells  readers.Reader // one row per distinct cell to send
	render RenderFunc     // the request a cell gets
	hint   func(values []string) int64
	// A cell without glossary terms gets the shared system prompt and
	// itself as the user message: base and msgs say so as a template
	// (see model.PromptCounter.Shape), and plain tells such cells apart.
	base  model.Request
	msgs  []model.ShapedMessage
	plain func(values []string) bool
}

// TranslateCells turns a translation job's input into what estimate
// counts: one row per distinct cell that would be sent (the skip rules and
// identical-cell reuse of a run applied; packing not: a packed run sends
// fewer prompt tokens), the request each gets, and the size of its text in
// tokens (by count) as a guess of its translation's.
func TranslateCells(src readers.Reader, to TranslateOptions, job prompts.Job, inputName string, count TokenCounter) (*cellCounts, error) {
	skipper, err := translate.NewSkipper(translate.SkipOptions{From: to.From, CodePattern: to.CodePattern})
	if err != nil {
		return nil, err
	}
	system, _, err := translate.SinglePrompt("x", to.From, to.To, nil)
	if err != nil {
		return nil, err
	}
	names := src.Columns()
	var cols []int
	for _, want := range to.Columns {
		i := indexOf(names, want)
		if i < 0 {
			return nil, &prompts.MissingColumnError{Input: inputName, Missing: []string{want}, Have: names}
		}
		cols = append(cols, i)
	}
	tr := &translator{job: job, opts: to}
	terms := func(cell string) []translate.Term {
		if to.Glossary == nil {
			return nil
		}
		return to.Glossary.Match(cell)
	}
	render := func(values []string) (model.Request, bool) {
		system, user, err := translate.SinglePrompt(values[0], to.From, to.To, terms(values[0]))
		if err != nil {
			return model.Request{}, true
		}
		return tr.request(system, user), false
	}
	answerTokens := answerCounter(count, job.Model)
	base := tr.request("", "")
	base.Messages = nil
	return &cellCounts{
		cells:  &cellReader{src: src, cols: cols, skipper: skipper, seen: newSlotLRU(dedupeWindow), mark: &slot{}},
		render: render,
		hint:   func(values []string) int64 { return answerTokens(values[0]) },
		base:   base,
		msgs: []model.ShapedMessage{
			{Role: "system", Segments: []model.Segment{{Text: system, Value: -1}}},
			{Role: "user", Segments: []model.Segment{{Value: 0}}},
		},
		plain: func(values []string) bool { return len(terms(values[0])) == 0 },
	}, nil
}

// cellReader yields the distinct cells to translate, one per row.
type cellReader struct {
	src     readers.Reader
	cols    []int
	skipper *translate.Skipper
	seen    *slotLRU // the run's window of recent distinct cells
	mark    *slot    // what seen holds for every cell
	queue   []readers.Row
	n       int
}

func (c *cellReader) Columns() []string  { return []string{"cell"} }
func (c *cellReader) Total() (int, bool) { return 0, false }
func (c *cellReader) Close() error       { return nil }

func (c *cellReader) Read(ctx context.Context) (readers.Row, error) {
	for len(c.queue) == 0 {
		row, err := c.src.Read(ctx)
		var rowErr *readers.RowError
		if errors.As(err, &rowErr) {
			return rowErr.Row, err
		}
		if err != nil {
			return readers.Row{}, err
		}
		for _, col := range c.cols {
			if col >= len(row.Values) {
				continue
			}
			text := row.Values[col]
			if c.skipper.Skip(text, translate.KindText) != translate.Translate {
				continue
			}
			k := translate.Key(text)
			if c.seen.get(k) != nil {
				continue
			}
			c.seen.put(k, c.mark)
			c.queue = append(c.queue, readers.Row{Index: c.n, Key: row.Key, Values: []string{strings.TrimSpace(text)}})
			c.n++
		}
	}
	r := c.queue[0]
	c.queue = c.queue[1:]
	return r, nil
}
