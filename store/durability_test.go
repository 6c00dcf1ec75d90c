package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// helperEnv names the store file TestHelperProcess writes to; it is set
// only in the child that TestPutSurvivesKill starts.
const helperEnv = "BULKGEN_STORE_HELPER_PATH"

// TestHelperProcess is not a test: run by TestPutSurvivesKill as a child
// process, it puts keys from several goroutines and prints "committed KEY"
// after each Put returns, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		return
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for g := range 16 {
		wg.Go(func() {
			// Bounded so that an orphaned child stops by itself.
			for i := range 50_000 {
				key := fmt.Sprintf("g%d-%d", g, i)
				if err := s.Put(ctx, key, response(key), 1); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Printf("committed %s\n", key)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

func TestPutSurvivesKill(t *testing.T) {
	const killAfter = 3000 // acknowledged puts seen before kill -9
	path := filepath.Join(t.TempDir(), "store.db")

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	var committed []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		// A line cut short by the kill has no newline and is not counted;
		// a complete one was printed after its Put returned.
		if key, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			committed = append(committed, key)
		}
		if len(committed) == killAfter {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed mid-run: %v (stderr: %s)", err, stderr.String())
	}
	if len(committed) < killAfter {
		t.Fatalf("child acknowledged only %d puts", len(committed))
	}

	s := openAt(t, path)
	for _, key := range committed {
		if got := mustGet(t, s, key); !reflect.DeepEqual(got, response(key)) {
			t.Fatalf("Get(%s) = %+v", key, got)
		}
	}
	n, _, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d puts acknowledged before and while dying, %d rows in the store", len(committed), n)
}
