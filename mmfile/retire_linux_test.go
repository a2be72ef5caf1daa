//go:build linux

package mmfile

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/mmapkit/mmapkit/internal/sys"
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
	skipIfAddressesFew(t)
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

// skipIfAddressesFew skips a test of the collections that retired memory
// must not force where addresses are many: under an address-space limit
// (RLIMIT_AS), or in a 32-bit process, reclaiming it collects by design
// (sys.AddressSpaceLimited).
func skipIfAddressesFew(t *testing.T) {
	t.Helper()
	if sys.AddressSpaceLimited() {
		t.Skip("this process's addresses are few (RLIMIT_AS is set, or it is a 32-bit process): there retired memory is reclaimed by collections, by design")
	}
}

// TestGrowthForcesNoCollection: growing a file maps it afresh and
// retires the old mapping, a reservation that holds only addresses.
// Without an address-space limit, the Writes and Truncates that grow a
// file must not stop for collections of their own: with a large heap
// each would take as long as the heap's marking (a 512 MiB file written
// by 1 MiB Writes under a 1 GiB heap took 3.6 times os.File's time).
// Growing a sparse file to 512 MiB in 1 MiB steps, with the heap's own
// collections off, must leave the count of collections as it was.
func TestGrowthForcesNoCollection(t *testing.T) {
	skipIfAddressesFew(t)
	f, err := Create(filepath.Join(t.TempDir(), "sparse"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for size := int64(1 << 20); size <= 512<<20; size += 1 << 20 {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		var one [1]byte
		if _, err := f.ReadAt(one[:], size-1); err != nil { // hold the view, as readers do
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.NumGC - before.NumGC; got != 0 {
		t.Errorf("%d collections while a file grew to 512 MiB, want 0", got)
	}
}
