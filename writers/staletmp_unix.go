//go:build unix

package writers

import (
	"os"
	"syscall"
)

// lockTemp takes an exclusive advisory lock on a temporary output file for
// as long as this process lives: the kernel drops it when the process dies,
// however it dies. Best effort: a filesystem without flock only loses the
// clean-up of leftovers.
func lockTemp(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// removeIfAbandoned removes path if no living process holds its lock: the
// temporary file of a run that was killed before it could clean up.
func removeIfAbandoned(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return // a running bulkgen is writing it (or flock cannot tell): leave it
	}
	_ = os.Remove(path)
}
