//go:build linux

package ipc

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestObjectsRegionMoved: a file's mapping that a Truncate maps afresh
// leaves the handles of the objects in it pointing at retired memory.
// Every call then fails with an error wrapping ioadapt.ErrFault that says
// the memory moved; none may crash the process (a Semaphore's Release
// did, touching the old memory inside the Region's Access) or hang.
func TestObjectsRegionMoved(t *testing.T) {
	type calls map[string]func() error
	for _, kind := range []string{"mutex", "semaphore", "event"} {
		t.Run(kind, func(t *testing.T) {
			f, lf := fileRegion(t, 1<<20)
			var try calls
			switch kind {
			case "mutex":
				m, err := CreateMutex(f, 0, ObjectLockFile(lf))
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				try = calls{
					"Lock":    m.Lock,
					"TryLock": func() error { _, err := m.TryLock(); return err },
					"Unlock":  m.Unlock,
				}
			case "semaphore":
				s, err := CreateSemaphore(f, 0, 1, 2, ObjectLockFile(lf))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				try = calls{
					"Release":    func() error { return s.Release(1) },
					"TryAcquire": func() error { _, err := s.TryAcquire(1); return err },
					"Acquire":    func() error { return s.AcquireDeadline(time.Now().Add(time.Second), 1) },
				}
			case "event":
				e, err := CreateEvent(f, 0, false, ObjectLockFile(lf))
				if err != nil {
					t.Fatal(err)
				}
				defer e.Close()
				try = calls{
					"Set":   e.Set,
					"Reset": e.Reset,
					"Wait":  func() error { return e.WaitDeadline(time.Now().Add(time.Second)) },
				}
			}
			var before, after uintptr
			_ = f.Access(func(b []byte) error { before = uintptr(unsafe.Pointer(unsafe.SliceData(b))); return nil })
			if err := f.Truncate(64 << 10); err != nil {
				t.Fatal(err)
			}
			_ = f.Access(func(b []byte) error { after = uintptr(unsafe.Pointer(unsafe.SliceData(b))); return nil })
			if before == after {
				t.Fatal("the Truncate kept the mapping where it was: the test needs memory that moved")
			}
			for name, call := range try {
				var err error
				within(t, kind+" "+name+" after the move", func() { err = call() })
				if !errors.Is(err, ioadapt.ErrFault) || !strings.Contains(err.Error(), "memory moved") {
					t.Errorf("%s after the region's memory moved: %v; want an error wrapping ErrFault that says the memory moved", name, err)
				}
			}
		})
	}
}

// fileRegion makes a File of size bytes in the test's directory, and a
// descriptor of the same file for ObjectLockFile; both are closed when
// the test ends.
func fileRegion(t *testing.T, size int64) (*mmfile.File, *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "objects")
	f, err := mmfile.Create(path, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	lf, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lf.Close() })
	return f, lf
}

// TestHeldRegionResizedReleasesRetired: an open handle keeps its
// Region's memory reserved, and only that: what later resizes of the
// Region retire must still be released once no call holds it. A Mutex
// left open in a file resized 200 times (1 MiB and back) kept every
// retired MiB reserved, until address space ran out under RLIMIT_AS and
// each resize waited for a collection.
func TestHeldRegionResizedReleasesRetired(t *testing.T) {
	f, lf := fileRegion(t, 8192)
	m, err := CreateMutex(f, 0, ObjectLockFile(lf))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	reserved := func() int64 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the cleanups run after the collection
		return inaccessibleBytes(t)
	}
	before := reserved()
	const rounds = 200
	for range rounds {
		if err := f.Truncate(1 << 20); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(8192); err != nil {
			t.Fatal(err)
		}
	}
	const most = 64 << 20
	var grown int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		if grown = reserved() - before; grown <= most || time.Now().After(deadline) {
			break
		}
	}
	if grown > most {
		t.Fatalf("%d MiB more inaccessible reservations after %d resizes under an open Mutex and a collection; want at most %d MiB",
			grown>>20, rounds, most>>20)
	}
}

// inaccessibleBytes sums this process's anonymous PROT_NONE mappings: the
// reservations of retired memory, and the runtime's own.
func inaccessibleBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		// address perms offset dev inode [path]
		fields := strings.Fields(line)
		if len(fields) != 5 || fields[1] != "---p" || fields[4] != "0" {
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("/proc/self/maps line %q", line)
		}
		total += int64(z - a)
	}
	return total
}
