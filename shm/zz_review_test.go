//go:build linux

package shm

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func zzSeg(t *testing.T, size int64, inodes map[string]bool) *Segment {
	s, err := CreateAnonymous(size)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.File()
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	inodes[strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10)] = true
	if _, err := s.WriteAt([]byte{1}, size/2); err != nil {
		t.Fatal(err)
	}
	return s
}

// Two big segments closed back to back: the second Close's trigger is
// dropped while the first collection runs.
func TestZZBackToBack(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const size = 96 << 20
	inodes := map[string]bool{}
	a := zzSeg(t, size, inodes)
	b := zzSeg(t, size, inodes)
	a.Close()
	b.Close()
	time.Sleep(3 * time.Second)
	t.Logf("mapped after 3s: %d MiB of 2x%d MiB", mappedBytes(t, inodes)>>20, size>>20)
}

// A burst of closes during a long collection (a big pointer heap).
func TestZZBurstDuringGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
		for range 6_000_000 {
		zzHead = &node{next: zzHead}
	}
	const size = 8 << 20
	inodes := map[string]bool{}
	gs := time.Now(); runtime.GC(); t.Logf("one GC %v", time.Since(gs))
	start := time.Now()
	for range 64 {
		s := zzSeg(t, size, inodes)
		s.Close()
	}
	t.Logf("closes in %v", time.Since(start))
	time.Sleep(3 * time.Second)
	t.Logf("mapped after 3s: %d MiB of 64x8 MiB", mappedBytes(t, inodes)>>20)
}

type node struct{ next *node; pad [2]*int }

var zzHead *node
