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

// reclaimLeft and reclaimLeftRanges are what retired and retiredRanges
// still held when the last Reclaim ended, lowered as Release gives back
// more: memory that calls or holds keep for long. [Map] measures what
// waits from there, so that such memory makes one Reclaim, not one per
// mapping (each would wait reclaimWait in vain).
var reclaimLeft, reclaimLeftRanges atomic.Int64

// Lower lowers floor to n if n is below it: a low-water mark that
// concurrent callers keep.
func Lower(floor *atomic.Int64, n int64) {
	for {
		f := floor.Load()
		if n >= f || floor.CompareAndSwap(f, n) {
			return
		}
	}
}

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
	Lower(&reclaimLeft, retired.Add(-int64(len(b))))
	Lower(&reclaimLeftRanges, retiredRanges.Add(-1))
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
	defer func() {
		timer.Stop()
		reclaimLeft.Store(retired.Load())
		reclaimLeftRanges.Store(retiredRanges.Load())
	}()
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
