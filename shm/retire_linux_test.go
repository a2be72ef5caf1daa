//go:build linux

package shm

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClosedAnonymousSegmentsFreed: an anonymous segment that lock-free
// calls have read and written keeps its memory mapped at Close until a
// collection shows that no call holds it. A program that only creates,
// uses and closes segments allocates too little heap to cause one, so
// the Closes must: 64 segments of 16 MiB, each written, read and closed,
// must not stay mapped (1 GiB of RAM once written) after the loop. The
// heap's own collections are turned off, so that the test's allocations
// (reading /proc/self/maps) cannot do the Closes' work.
//
// In the second case the segments are closed while a collection of a
// large heap runs: the Closes that come meanwhile must not be forgotten.
func TestClosedAnonymousSegmentsFreed(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	t.Run("loop", func(t *testing.T) { closeSegments(t, 64, 16<<20, 256<<20) })
	t.Run("during a collection", func(t *testing.T) {
		// Two million pointers to follow: a collection takes tens of
		// milliseconds, longer than the 64 Closes.
		var list *node
		for range 2_000_000 {
			list = &node{next: list}
		}
		go runtime.GC()
		closeSegments(t, 64, 8<<20, 64<<20)
		runtime.KeepAlive(list)
	})
}

type node struct{ next *node }

// closeSegments makes n anonymous segments of size bytes, writes, reads
// and closes each, and fails unless at most most bytes of them stay
// mapped once the collections have had time to run.
func closeSegments(t *testing.T, n int, size, most int64) {
	inodes := make(map[string]bool, n)
	for i := range n {
		s, err := CreateAnonymous(size)
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.File()
		if err != nil {
			t.Fatal(err)
		}
		fi, err := f.Stat()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		inodes[strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)] = true
		// One byte each way: the lock-free paths, which mark the memory
		// held, without making the test's RAM grow by a GiB if it fails.
		if _, err := s.WriteAt([]byte{byte(i)}, size/2); err != nil {
			t.Fatal(err)
		}
		var one [1]byte
		if _, err := s.ReadAt(one[:], size/2); err != nil || one[0] != byte(i) {
			t.Fatalf("segment %d: read %d, %v; want %d", i, one[0], err, i)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The collection runs on a goroutine of its own, and the cleanups
	// after it: a loaded machine may take a while.
	var mapped int64
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if mapped = mappedBytes(t, inodes); mapped <= most || time.Now().After(deadline) {
			break
		}
	}
	if mapped > most {
		t.Fatalf("%d MiB of the %d closed segments (%d MiB) still mapped after 30 s; want at most %d MiB",
			mapped>>20, n, int64(n)*size>>20, most>>20)
	}
}

// mappedBytes sums the lengths of this process's mappings of the memfds
// whose inode numbers are in inodes.
func mappedBytes(t *testing.T, inodes map[string]bool) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !inodes[fields[4]] || !strings.Contains(fields[5], "memfd:") {
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("/proc/self/maps line %q", sc.Text())
		}
		total += int64(b - a)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}
