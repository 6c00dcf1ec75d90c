//go:build unix

package writers

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLeftoversOfKilledRunsAreRemoved: a run killed with kill -9 leaves its
// temporary output behind. The next run that commits the same output
// removes it, but not the temporary file of a run still writing (locked),
// nor those of other outputs.
func TestLeftoversOfKilledRunsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out[1].csv") // a glob character in the name
	dead := filepath.Join(dir, ".out[1].csv.tmp-123456")
	other := filepath.Join(dir, ".other.csv.tmp-654321")
	for _, p := range []string{dead, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	running, err := Create(path, sampleHeader, Options{}, nil) // still writing, locked
	if err != nil {
		t.Fatal(err)
	}
	writeFileAt(t, path, sampleHeader, sampleRows())

	left := tmpLeftovers(t, dir)
	if slices.Contains(left, filepath.Base(dead)) {
		t.Errorf("the killed run's temporary file is still there: %v", left)
	}
	if !slices.Contains(left, filepath.Base(other)) {
		t.Errorf("another output's temporary file was removed: %v", left)
	}
	if len(left) != 2 {
		t.Errorf("temporary files %v: want the running writer's and the other output's", left)
	}
	if err := running.Abort(); err != nil {
		t.Fatal(err)
	}
}
