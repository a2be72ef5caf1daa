//go:build linux

package mmfile

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestClosingFilesForcesNoCollection: the memory that a Close retires
// from a file is a reservation, which holds addresses and no RAM, so
// closing files must not start collections of its own (ioadapt starts
// one for retired memory that stays mapped): a program with a large heap
// that opens, reads and closes many files would spend its time in them.
// 64 files of 16 MiB, each read by the lock-free path and closed, with
// the heap's own collections turned off, must leave the count of
// collections as it was.
func TestClosingFilesForcesNoCollection(t *testing.T) {
	const n, size = 64, 16 << 20
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		f, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var one [1]byte
		if _, err := f.ReadAt(one[:], size/2); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.NumGC - before.NumGC; got != 0 {
		t.Errorf("%d collections while %d files of %d MiB were read and closed, want 0", got, n, size>>20)
	}
}
