package modeltest

import (
	"bytes"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// assertSameShape checks that got has exactly the key paths of want, each
// with the same JSON kind: nothing missing, nothing extra, null where the
// service writes null.
func assertSameShape(t *testing.T, want, got any) {
	t.Helper()
	wp, gp := map[string]string{}, map[string]string{}
	keyPaths(want, "", wp)
	keyPaths(got, "", gp)
	var diffs []string
	for p, k := range wp {
		if g, ok := gp[p]; !ok {
			diffs = append(diffs, p+": missing")
		} else if g != k {
			diffs = append(diffs, p+": "+g+", recorded "+k)
		}
	}
	for p := range gp {
		if _, ok := wp[p]; !ok {
			diffs = append(diffs, p+": not in the recording")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("shape differs from the recording:\n  %s\ngot: %v", strings.Join(diffs, "\n  "), got)
	}
}

// TestBatchAPIShapesMatchRecordings puts the simulator's Files and Batches
// answers, each in the state of a recording, next to the recording.
func TestBatchAPIShapesMatchRecordings(t *testing.T) {
	s, clk := startClocked(t, BatchOptions{LinesPerSecond: 0.001})
	base := s.CompatibleBaseURL()
	const metadata = `{"ds_name":"测试任务","ds_description":"任务描述","ds_batch_finish_callback":"https://www.cnblogs.com"}`
	newBatch := func(file string) answer {
		return createBatch(t, s, `{"input_file_id":"`+file+`","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":`+metadata+`}`)
	}
	twoLines := jsonl(chatLine("1", "qwen-flash", "你好"), chatLine("2", "qwen-flash", "Why did the job fail?"))

	up := upload(t, s, "batch", []byte(twoLines))
	file := str(decode(t, up.body), "id")
	created := newBatch(file)
	running := str(decode(t, created.body), "id")
	clk.Advance(time.Second) // validated, no line done at 0.001/s
	inProgress := call(t, http.MethodGet, base+"/batches/"+running, "", nil)
	cancelAnswer := cancel(t, s, running)
	clk.Advance(time.Second)
	cancelled := call(t, http.MethodGet, base+"/batches/"+running, "", nil)

	done := str(decode(t, newBatch(file).body), "id")
	clk.Advance(3 * time.Hour) // 2 lines at 0.001/s take 2000s
	completed := call(t, http.MethodGet, base+"/batches/"+done, "", nil)
	output := str(decode(t, completed.body), "output_file_id")

	badFile := uploadOK(t, s, jsonl(strings.Replace(chatLine("1", "qwen-flash", "x"), "/v1/chat/completions", "/v1/chat/completion", 1)))
	bad := str(decode(t, newBatch(badFile).body), "id")
	clk.Advance(time.Second)
	invalid := call(t, http.MethodGet, base+"/batches/"+bad, "", nil)

	badPurpose := upload(t, s, "fine-tune", []byte("x"))
	tests := []struct {
		fixture string
		got     answer
	}{
		{"upload-file-compatible-nosse", up},
		{"get-file-compatible-nosse", call(t, http.MethodGet, base+"/files/"+file, "", nil)},
		{"list-files-compatible-nosse", call(t, http.MethodGet, base+"/files?purpose=batch", "", nil)},
		{"upload-file-error-nosse", badPurpose},
		{"create-batch-compatible-nosse", created},
		{"get-inprogress-batch-compatible-nosse", inProgress},
		{"cancel-batch-compatible-nosse", cancelAnswer},
		{"get-cancelled-batch-compatible-nosse", cancelled},
		{"get-completed-batch-compatible-nosse", completed},
		{"get-invalid-batch-compatible-nosse", invalid},
		{"list-batches-empty-compatible-nosse", call(t, http.MethodGet, base+"/batches?limit=2&input_file_ids=hello", "", nil)},
		{"list-batches-filter-by-input-file-id-compatible-nosse", call(t, http.MethodGet, base+"/batches?input_file_ids="+file+"%2C"+file, "", nil)},
		// Last: it deletes the file.
		{"delete-file-compatible-nosse", call(t, http.MethodDelete, base+"/files/"+file, "", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			want := decode(t, fixture(t, tt.fixture+".response.body.txt"))
			wantStatus := http.StatusOK
			if strings.Contains(tt.fixture, "error") {
				wantStatus = http.StatusBadRequest
			}
			if tt.got.status != wantStatus {
				t.Fatalf("status %d, want %d: %s", tt.got.status, wantStatus, tt.got.body)
			}
			got := decode(t, tt.got.body)
			assertSameShape(t, want, got)
			// Values that are constants of the protocol must match too.
			for _, k := range []string{"object", "status", "completion_window", "deleted", "has_more"} {
				if w, ok := want[k]; ok && got[k] != w {
					t.Errorf("%s = %v, recorded %v", k, got[k], w)
				}
			}
		})
	}

	t.Run("get-file-content-compatible-nosse", func(t *testing.T) {
		rec := bytes.Split(bytes.TrimSpace(fixture(t, "get-file-content-compatible-nosse.response.body.txt")), []byte("\n"))
		got := bytes.Split(bytes.TrimSuffix(content(t, s, output), []byte("\n")), []byte("\n"))
		if len(got) != len(rec) {
			t.Fatalf("%d output lines, recorded %d", len(got), len(rec))
		}
		for i := range rec {
			assertCovers(t, decode(t, rec[i]), decode(t, got[i]))
		}
	})
}
