package sys

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// retired counts the bytes of address space that [Retire] reserved or
// [Pend] counted and that [Release] has not unmapped yet, in the whole
// process: what a collection can give back to a mapping that would fail
// for want of address space (ENOMEM under RLIMIT_AS).
var retired atomic.Int64

// retiredRanges counts the ranges that retired holds, each one mapping
// of the process until it is released.
var retiredRanges atomic.Int64

// released is closed, and replaced, each time Release unmaps memory, so
// that Reclaim waits on events rather than on a clock.
var (
	releasedMu sync.Mutex
	released   = make(chan struct{})
)

// reclaimWait bounds how long Reclaim waits for the cleanups to unmap.
const reclaimWait = 100 * time.Millisecond

// Pend counts b, memory still mapped that waits for [Release], as
// retired.
func Pend(b []byte) {
	if len(b) == 0 {
		return // as Release, which counts no empty range back
	}
	retired.Add(int64(len(b)))
	retiredRanges.Add(1)
}

// Release unmaps b, memory that [Retire] reserved or [Pend] counted, and
// stops counting it. The error is munmap's errno.
func Release(b []byte) error {
	err := Unmap(b)
	if err != nil || len(b) == 0 {
		return err
	}
	retired.Add(-int64(len(b)))
	retiredRanges.Add(-1)
	releasedMu.Lock()
	close(released)
	released = make(chan struct{})
	releasedMu.Unlock()
	return nil
}

// Reclaim makes the process give back retired memory, and reports
// whether there was any. Retired memory is unmapped by runtime cleanups
// once no call holds it, and a program that allocates little runs no
// collection to find that: Reclaim runs one and waits, up to
// reclaimWait, until nothing retired is left.
func Reclaim() bool {
	if retired.Load() == 0 {
		return false
	}
	runtime.GC()
	timer := time.NewTimer(reclaimWait)
	defer timer.Stop()
	for {
		releasedMu.Lock()
		ch := released
		releasedMu.Unlock()
		if retired.Load() <= 0 {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return true
		}
	}
}
