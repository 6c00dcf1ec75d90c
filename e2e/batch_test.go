package e2e

// End-to-end tests of batch mode (issue 5): the real binary against the
// simulator's Files and Batches API.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bulkgen/model"
	"bulkgen/model/modeltest"
)

// fastBatches finishes batches in moments.
var fastBatches = modeltest.BatchOptions{ValidateTime: 20 * time.Millisecond, FinalizeTime: 20 * time.Millisecond}

func batchArgs(in, out string, extra ...string) []string {
	return append([]string{"run", "--mode", "batch", "-i", in, "-o", out, "--prompt", "Translate: {{商品名称}}",
		"--batch-poll", "20ms"}, extra...)
}

// pricesFile gives qwen-plus a price: the simulator is not a DashScope
// host, so it has none built in.
func pricesFile(t *testing.T, dir string) string {
	return writeFile(t, dir, "prices.yaml", "prices:\n  - model: qwen-plus\n    tiers: [{input: 0.8, output: 2}]\n")
}

// withoutColumn drops one column from every row, for comparing outputs
// that differ only there (the cost column: batch is half price).
func withoutColumn(t *testing.T, tb table, name string) [][]string {
	t.Helper()
	c := tb.col(name)
	var out [][]string
	for _, r := range append([][]string{tb.header}, tb.rows...) {
		row := append(append([]string{}, r[:c]...), r[c+1:]...)
		out = append(out, row)
	}
	return out
}

func sameTables(t *testing.T, a, b [][]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d rows vs %d rows", len(a), len(b))
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			t.Fatalf("row %d differs:\n%q\n%q", i, a[i], b[i])
		}
	}
}

// TestBatchTenThousandRows splits a 10,000-row job across several request
// files, and checks that the output equals a realtime run's on the same
// rows, at half the cost, with no realtime request sent.
func TestBatchTenThousandRows(t *testing.T) {
	const rows = 10000
	sim := newSim(t, modeltest.Options{Batch: fastBatches})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	out := filepath.Join(dir, "batch.csv")
	prices := pricesFile(t, dir)
	res := bulkgen(t, sim, "", batchArgs(in, out, "--batch-max-lines", "3000", "--prices", prices)...)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	st := sim.Stats()
	if st.FilesUploaded != 4 || st.BatchesCreated != 4 || st.BatchLines != rows {
		t.Errorf("uploads %d, batches %d, lines %d; want 4, 4, %d", st.FilesUploaded, st.BatchesCreated, st.BatchLines, rows)
	}
	if st.OK != 0 {
		t.Errorf("%d realtime requests in batch mode", st.OK)
	}
	batch := readTable(t, out)
	checkComplete(t, batch, rows, productName)

	// The same rows in realtime, against a fresh simulator and store.
	rt := newSim(t, modeltest.Options{})
	rtOut := filepath.Join(dir, "realtime.csv")
	if r := bulkgen(t, rt, "", "run", "-i", in, "-o", rtOut, "--prompt", "Translate: {{商品名称}}", "-c", "32", "--no-store", "--prices", prices); r.code != 0 {
		t.Fatalf("realtime exit %d\n%s", r.code, r.stderr)
	}
	realtime := readTable(t, rtOut)
	sameTables(t, withoutColumn(t, batch, "cost"), withoutColumn(t, realtime, "cost"))
	for i := range batch.rows {
		b, _ := strconv.ParseFloat(batch.get(i, "cost"), 64)
		r, _ := strconv.ParseFloat(realtime.get(i, "cost"), 64)
		if r == 0 || b < r/2*0.999 || b > r/2*1.001 {
			t.Fatalf("row %d: batch cost %v, realtime %v: want half", i+1, b, r)
		}
	}

	// A rerun sends nothing: every row is in the store.
	res = bulkgen(t, sim, "", batchArgs(in, filepath.Join(dir, "again.csv"), "--batch-max-lines", "3000")...)
	if res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	if st2 := sim.Stats(); st2.FilesUploaded != st.FilesUploaded || st2.BatchesCreated != st.BatchesCreated {
		t.Errorf("the rerun submitted again: %d uploads, %d batches", st2.FilesUploaded, st2.BatchesCreated)
	}
}

// holdHook blocks the first request of one operation until release is
// closed, then answers it normally or with an error.
type holdHook struct {
	op      string
	held    chan struct{} // closed when the request arrived
	release chan struct{}
	fail    bool
	once    sync.Once
}

func newHoldHook(op string, fail bool) *holdHook {
	return &holdHook{op: op, held: make(chan struct{}), release: make(chan struct{}), fail: fail}
}

func (h *holdHook) hook(ctx context.Context, op string) error {
	if op != h.op {
		return nil
	}
	first := false
	h.once.Do(func() { first = true })
	if !first {
		return nil
	}
	close(h.held)
	<-h.release
	if h.fail {
		return errors.New("held and failed")
	}
	return nil
}

// killWhenHeld starts cmd, waits until the hook holds a request, and kills
// bulkgen with SIGKILL.
func killWhenHeld(t *testing.T, cmd *exec.Cmd, h *holdHook) {
	t.Helper()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-h.held:
	case err := <-exited:
		t.Fatalf("bulkgen ended (%v) before the %s request\n%s", err, h.op, errb.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no %s request in 60s\n%s", h.op, errb.String())
	}
	cmd.Process.Kill()
	err := <-exited
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("bulkgen was not killed: %v\n%s", err, errb.String())
	}
}

// TestBatchCrashAroundCreate kills bulkgen while its batch-creation
// request is on the wire: once when the service never creates the batch,
// once when it does but the answer is lost. The rerun must neither upload
// the file again nor pay for a second batch.
func TestBatchCrashAroundCreate(t *testing.T) {
	for _, created := range []bool{false, true} {
		t.Run(fmt.Sprintf("created=%v", created), func(t *testing.T) {
			const rows = 300
			h := newHoldHook("create", !created)
			opts := modeltest.Options{Batch: fastBatches}
			opts.Batch.Hook = h.hook
			sim := newSim(t, opts)
			dir := t.TempDir()
			in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
			out := filepath.Join(dir, "out.csv")
			killWhenHeld(t, prepare(t, sim, batchArgs(in, out)...), h)
			close(h.release)
			// The held request finishes on the server side.
			deadline := time.Now().Add(10 * time.Second)
			for created && sim.Stats().BatchesCreated == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("an output was written by the killed run")
			}
			res := bulkgen(t, sim, "", batchArgs(in, out)...)
			if res.code != 0 {
				t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
			}
			st := sim.Stats()
			if st.FilesUploaded != 1 || st.BatchesCreated != 1 || st.BatchLines != rows {
				t.Errorf("uploads %d, batches %d, lines %d; want 1, 1, %d\n%s", st.FilesUploaded, st.BatchesCreated, st.BatchLines, rows, res.stderr)
			}
			checkComplete(t, readTable(t, out), rows, productName)
		})
	}
}

// TestBatchCrashWhileRunning kills bulkgen while its batch runs on the
// service; the rerun picks the same batch up.
func TestBatchCrashWhileRunning(t *testing.T) {
	const rows = 600
	opts := modeltest.Options{Batch: fastBatches}
	opts.Batch.LinesPerSecond = 400 // 1.5 s of work
	h := newHoldHook("retrieve", false)
	opts.Batch.Hook = h.hook
	sim := newSim(t, opts)
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	out := filepath.Join(dir, "out.csv")
	killWhenHeld(t, prepare(t, sim, batchArgs(in, out)...), h)
	close(h.release)
	if st := sim.Stats(); st.BatchesCreated != 1 {
		t.Fatalf("%d batches before the kill", st.BatchesCreated)
	}
	// The store knows the batch: status shows it without asking anyone.
	status := bulkgen(t, nil, "", "batch", "status")
	if status.code != 0 || !strings.Contains(status.stdout, "batch_") || !strings.Contains(status.stdout, "submitted") {
		t.Errorf("batch status after the kill (exit %d):\n%s%s", status.code, status.stdout, status.stderr)
	}
	res := bulkgen(t, sim, "", batchArgs(in, out)...)
	if res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	st := sim.Stats()
	if st.FilesUploaded != 1 || st.BatchesCreated != 1 {
		t.Errorf("uploads %d, batches %d after the rerun; want 1, 1", st.FilesUploaded, st.BatchesCreated)
	}
	checkComplete(t, readTable(t, out), rows, productName)
}

// TestBatchFailedAndExpiredLines: lines the service refuses and lines the
// window cut off are errors of their rows; a rerun submits exactly those.
func TestBatchFailedAndExpiredLines(t *testing.T) {
	const rows = 200
	opts := modeltest.Options{Batch: fastBatches}
	opts.Batch.LinesPerSecond = 300
	opts.Batch.CompletionWindow = 400 * time.Millisecond // about 120 lines, then expired
	sim := newSim(t, opts)
	dir := t.TempDir()
	bad := func(i int) bool { return i%50 == 7 }
	value := func(i int) string {
		if bad(i) {
			return productName(i) + " [[sim:inspect]]"
		}
		return productName(i)
	}
	in := writeRowsCSV(t, dir, "in.csv", rows, value, "x")
	out := filepath.Join(dir, "out.csv")
	res := bulkgen(t, sim, "", batchArgs(in, out)...)
	if res.code != 3 {
		t.Fatalf("exit %d, want 3 (rows failed)\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out)
	if len(tb.rows) != rows {
		t.Fatalf("%d rows", len(tb.rows))
	}
	var inspected, expired, ok int
	for i := range tb.rows {
		e := tb.get(i, "error")
		switch {
		case e == "":
			ok++
		case strings.Contains(e, "data_inspection_failed"):
			inspected++
			if !bad(i + 1) {
				t.Errorf("row %d refused: %s", i+1, e)
			}
		case strings.Contains(e, "expired"):
			expired++
		default:
			t.Errorf("row %d: unexpected error %q", i+1, e)
		}
	}
	if expired == 0 || ok == 0 {
		t.Fatalf("%d ok, %d refused, %d expired: the test needs both results and expired lines", ok, inspected, expired)
	}
	t.Logf("%d ok, %d refused, %d expired", ok, inspected, expired)

	// The rerun submits only the rows without a result.
	before := sim.Stats().BatchLines
	res = bulkgen(t, sim, "", batchArgs(in, out, "--batch-window", "48h")...)
	sent := sim.Stats().BatchLines - before
	if int(sent) > inspected+expired {
		t.Errorf("the rerun submitted %d lines; only %d rows lacked a result", sent, inspected+expired)
	}
	if sent == 0 {
		t.Errorf("the rerun submitted nothing\n%s", res.stderr)
	}
}

// TestBatchCancel: a cancelled batch keeps the lines done before the
// cancel; wait collects them; the next run submits the rest.
func TestBatchCancel(t *testing.T) {
	const rows = 400
	opts := modeltest.Options{Batch: fastBatches}
	opts.Batch.LinesPerSecond = 200 // 2 s of work
	sim := newSim(t, opts)
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	out := filepath.Join(dir, "out.csv")
	res := bulkgen(t, sim, "", batchArgs(in, out, "--no-wait")...)
	if res.code != 0 {
		t.Fatalf("--no-wait exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("--no-wait wrote an output")
	}
	time.Sleep(300 * time.Millisecond) // some lines get done
	res = bulkgen(t, sim, "", "batch", "cancel")
	if res.code != 0 || !strings.Contains(res.stderr, "1 batch(es) cancelled") {
		t.Fatalf("cancel exit %d\n%s", res.code, res.stderr)
	}
	res = bulkgen(t, sim, "", "batch", "wait", "--batch-poll", "20ms")
	if res.code != 0 {
		t.Fatalf("wait exit %d\n%s", res.code, res.stderr)
	}
	done := sim.Stats().BatchLines
	if done == 0 || done >= rows {
		t.Fatalf("%d lines done before the cancel took effect; the test needs some, not all", done)
	}
	status := bulkgen(t, nil, "", "batch", "status")
	if !strings.Contains(status.stdout, "cancelled") {
		t.Errorf("status does not show the cancelled batch:\n%s", status.stdout)
	}
	res = bulkgen(t, sim, "", batchArgs(in, out)...)
	if res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	if total := sim.Stats().BatchLines; total != rows {
		t.Errorf("%d lines answered in all, want %d (each row once)", total, rows)
	}
	checkComplete(t, readTable(t, out), rows, productName)
}

// TestBatchExportImport: export writes the request file, a batch run
// elsewhere answers it, import writes the output: equal to a realtime run.
func TestBatchExportImport(t *testing.T) {
	const rows = 120
	sim := newSim(t, modeltest.Options{Batch: fastBatches})
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", rows, productName, "x")
	reqs := filepath.Join(dir, "requests.jsonl")
	job := []string{"-i", in, "--prompt", "Translate: {{商品名称}}"}
	res := bulkgen(t, sim, "", append([]string{"batch", "export", "-o", reqs}, job...)...)
	if res.code != 0 {
		t.Fatalf("export exit %d\n%s", res.code, res.stderr)
	}
	if sim.Stats().Requests != 0 {
		t.Fatal("export sent requests")
	}
	data, err := os.ReadFile(reqs)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != rows {
		t.Fatalf("%d request lines, want %d", n, rows)
	}

	// "Elsewhere": the simulator's Batch API driven directly.
	bc, err := model.NewBatchClient(model.OpenAIConfig{BaseURL: sim.CompatibleBaseURL(), APIKey: simKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fileID, err := bc.Upload(ctx, "requests.jsonl", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	info, err := bc.Create(ctx, fileID, "24h", nil)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !info.Terminal(); {
		if time.Now().After(deadline) {
			t.Fatalf("batch still %s", info.Status)
		}
		time.Sleep(20 * time.Millisecond)
		if info, err = bc.Get(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
	}
	rc, err := bc.Content(ctx, info.OutputFileID)
	if err != nil {
		t.Fatal(err)
	}
	var results bytes.Buffer
	results.ReadFrom(rc)
	rc.Close()
	resultsPath := writeFile(t, dir, "results.jsonl", results.String())

	out := filepath.Join(dir, "imported.csv")
	res = bulkgen(t, sim, "", append([]string{"batch", "import", "-o", out}, append(job, resultsPath)...)...)
	if res.code != 0 {
		t.Fatalf("import exit %d\n%s", res.code, res.stderr)
	}
	before := sim.Stats().OK
	imported := readTable(t, out)
	checkComplete(t, imported, rows, productName)

	rt := newSim(t, modeltest.Options{})
	rtOut := filepath.Join(dir, "realtime.csv")
	if r := bulkgen(t, rt, "", append([]string{"run", "-o", rtOut, "--no-store"}, job...)...); r.code != 0 {
		t.Fatalf("realtime exit %d\n%s", r.code, r.stderr)
	}
	sameTables(t, withoutColumn(t, imported, "cost"), withoutColumn(t, readTable(t, rtOut), "cost"))
	if sim.Stats().OK != before {
		t.Error("import sent realtime requests")
	}

	// A results file with a row missing: that row carries an error.
	lines := strings.SplitAfter(strings.TrimSpace(results.String()), "\n")
	partial := writeFile(t, dir, "partial.jsonl", strings.Join(lines[1:], ""))
	out2 := filepath.Join(dir, "partial.csv")
	res = bulkgen(t, sim, "", append([]string{"batch", "import", "-o", out2, "--store", filepath.Join(dir, "other.db")}, append(job, partial)...)...)
	if res.code != 3 {
		t.Fatalf("partial import exit %d, want 3\n%s", res.code, res.stderr)
	}
	tb := readTable(t, out2)
	missing := 0
	for i := range tb.rows {
		if strings.Contains(tb.get(i, "error"), "no line for this row") {
			missing++
		}
	}
	if missing != 1 || len(tb.rows) != rows {
		t.Errorf("%d rows, %d without a line; want %d, 1", len(tb.rows), missing, rows)
	}
}

// TestBatchSimRerunAfterInterrupt: with --sim the batches live inside the
// process, so after Ctrl-C they are gone; the rerun notices, submits those
// rows again and finishes (a real service's batches older than 30 days are
// handled the same way).
func TestBatchSimRerunAfterInterrupt(t *testing.T) {
	dir := t.TempDir()
	in := writeRowsCSV(t, dir, "in.csv", 300, productName, "x")
	out := filepath.Join(dir, "out.csv")
	args := []string{"run", "--mode", "batch", "-i", in, "-o", out, "--prompt", "Translate: {{商品名称}}", "--sim", "--batch-max-lines", "100"}
	cmd := prepare(t, nil, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(log.String(), "created for") {
		n, err := stderr.Read(buf)
		log.Write(buf[:n])
		if err != nil {
			t.Fatalf("bulkgen ended before creating a batch: %v\n%s", err, log.String())
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(stderr)
	log.Write(rest)
	if code := exitOf(t, cmd.Wait()); code != 130 {
		t.Fatalf("exit %d after Ctrl-C, want 130\n%s", code, log.String())
	}
	res := bulkgen(t, nil, "", args...)
	if res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "no longer exists on the service") {
		t.Errorf("the rerun did not notice the lost batch:\n%s", res.stderr)
	}
	checkComplete(t, readTable(t, out), 300, productName)
}

// TestBatchRepairsInvalidReplies: in batch mode a label/extract reply that
// fails its check is asked again, with the error fed back, in a new batch
// (--batch-repairs rounds); the output then equals a realtime run's with
// as many retries, and a rerun submits nothing.
func TestBatchRepairsInvalidReplies(t *testing.T) {
	sim := newSim(t, modeltest.Options{Batch: fastBatches})
	dir := t.TempDir()
	in, job, kind, rows, repairable, hopeless := repairTickets(t, dir)
	store := filepath.Join(dir, "s.db")
	out := filepath.Join(dir, "batch.csv")
	res := bulkgen(t, sim, "", "run", "--mode", "batch", "-i", in, "-j", job, "-o", out, "--store", store,
		"--batch-poll", "20ms", "--batch-repairs", "2")
	if res.code != 3 {
		t.Fatalf("exit %d, want 3 (the hopeless rows)\n%s", res.code, res.stderr)
	}
	// Every row once, the bad ones again in round 1, the hopeless again in
	// round 2.
	if got, want := sim.Stats().BatchLines, int64(rows+repairable+2*hopeless); got != want {
		t.Errorf("%d batch lines, want %d\n%s", got, want, res.stderr)
	}
	if n := sim.Stats().OK; n != 0 {
		t.Errorf("%d realtime requests sent by a batch run", n)
	}
	if !strings.Contains(res.stderr, "round 1 of at most 2") || !strings.Contains(res.stderr, "round 2 of at most 2") {
		t.Errorf("the repair rounds are not reported:\n%s", res.stderr)
	}
	tb := readTable(t, out)
	for i := range tb.rows {
		e := tb.get(i, "error")
		switch kind(i + 1) {
		case " [[sim:badjson-always]]":
			if !strings.Contains(e, "invalid reply after 3 attempt(s)") {
				t.Errorf("row %d error %q, want the invalid reply after 3 attempts", i+1, e)
			}
		default:
			if e != "" || tb.get(i, "category") == "" {
				t.Errorf("row %d: category %q, error %q", i+1, tb.get(i, "category"), e)
			}
		}
	}

	// The same job in realtime with --retries 2 gives the same fields.
	rt := filepath.Join(dir, "realtime.csv")
	bulkgen(t, sim, "", "run", "-i", in, "-j", job, "-o", rt, "--no-store", "--retries", "2")
	want := readTable(t, rt)
	for _, col := range []string{"category", "urgency", "product", "prompt_tokens", "completion_tokens"} {
		for i := range want.rows {
			if got, w := tb.get(i, col), want.get(i, col); got != w {
				t.Errorf("row %d %s: batch %q, realtime %q", i+1, col, got, w)
			}
		}
	}

	// A rerun finds every attempt in the store.
	before := sim.Stats().BatchLines
	res = bulkgen(t, sim, "", "run", "--mode", "batch", "-i", in, "-j", job, "-o", filepath.Join(dir, "again.csv"),
		"--store", store, "--batch-poll", "20ms", "--batch-repairs", "2")
	if got := sim.Stats().BatchLines - before; got != 0 {
		t.Errorf("the rerun submitted %d lines\n%s", got, res.stderr)
	}
}

// repairTickets writes 40 tickets, some whose reply fails its check once
// and some always, and the extract job; kind(i) tells which row i is.
func repairTickets(t *testing.T, dir string) (in, job string, kind func(int) string, rows, repairable, hopeless int) {
	rows = 40
	kind = func(i int) string {
		switch {
		case i%10 == 3:
			return " [[sim:badjson]]" // invalid once, valid when told why
		case i%15 == 7:
			return " [[sim:badjson-always]]"
		}
		return ""
	}
	var b strings.Builder
	b.WriteString("id,text\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "%d,ticket %d: the kettle leaks%s\n", i, i, kind(i))
		switch kind(i) {
		case " [[sim:badjson]]":
			repairable++
		case " [[sim:badjson-always]]":
			hopeless++
		}
	}
	return writeFile(t, dir, "tickets.csv", b.String()), writeFile(t, dir, "extract.yaml", extractJob), kind, rows, repairable, hopeless
}

// TestBatchRepairsWithNoWait: with --no-wait each run submits what it can
// and returns; the repair batches are in the store like any other, so
// `batch wait` collects them and the last run writes the output.
func TestBatchRepairsWithNoWait(t *testing.T) {
	sim := newSim(t, modeltest.Options{Batch: fastBatches})
	dir := t.TempDir()
	in, job, kind, rows, repairable, hopeless := repairTickets(t, dir)
	out := filepath.Join(dir, "out.csv")
	args := []string{"run", "--mode", "batch", "-i", in, "-j", job, "-o", out, "--batch-poll", "20ms", "--batch-repairs", "2"}
	for step, want := range []string{"batch(es) submitted or running", "repair batch(es) submitted or running"} {
		res := bulkgen(t, sim, "", append(args, "--no-wait")...)
		if res.code != 0 || !strings.Contains(res.stderr, want) {
			t.Fatalf("step %d: exit %d, want %q\n%s", step, res.code, want, res.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("step %d: --no-wait wrote the output", step)
		}
		if res := bulkgen(t, sim, "", "batch", "wait", "--batch-poll", "20ms"); res.code != 0 {
			t.Fatalf("wait exit %d\n%s", res.code, res.stderr)
		}
	}
	res := bulkgen(t, sim, "", args...)
	if res.code != 3 {
		t.Fatalf("exit %d, want 3 (the hopeless rows)\n%s", res.code, res.stderr)
	}
	if got, want := sim.Stats().BatchLines, int64(rows+repairable+2*hopeless); got != want {
		t.Errorf("%d batch lines, want %d: a request was asked twice or not at all\n%s", got, want, res.stderr)
	}
	tb := readTable(t, out)
	for i := range tb.rows {
		if e := tb.get(i, "error"); (e != "") != (kind(i+1) == " [[sim:badjson-always]]") {
			t.Errorf("row %d: error %q", i+1, e)
		}
	}
}
