//go:build linux

package ipc

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

// BenchmarkMutexPieces takes an uncontended Lock+Unlock apart, to show
// what each guard of the fast path costs: the bare compare-and-swaps
// (with Unlock's load of the sleepers word), the same inside the fault
// guard that memory which can fault needs (debug.SetPanicOnFault and a
// deferred recover), the whole calls on heap memory (which cannot
// fault) and on a POSIX segment (which can), and sync.Mutex beside
// them.
func BenchmarkMutexPieces(b *testing.B) {
	seg, err := shm.Create(segName(b), ObjectSize(MaxParticipants))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { seg.Close() })
	m, err := CreateMutex(seg, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	heap, err := CreateMutex(ioadapt.NewMemory(make([]byte, ObjectSize(MaxParticipants))), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { heap.Close() })
	b.Run("part=cas", func(b *testing.B) {
		for b.Loop() {
			bareLockUnlock(m)
		}
	})
	b.Run("part=guarded-cas", func(b *testing.B) {
		for b.Loop() {
			_ = guardedLock(m)
			_ = guardedUnlock(m)
		}
	})
	b.Run("part=mutex-heap", func(b *testing.B) {
		for b.Loop() {
			_ = heap.Lock()
			_ = heap.Unlock()
		}
	})
	b.Run("part=mutex-shm", func(b *testing.B) {
		for b.Loop() {
			_ = m.Lock()
			_ = m.Unlock()
		}
	})
	b.Run("part=sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		for b.Loop() {
			mu.Lock()
			//lint:ignore SA2001 the lock and unlock are what is measured
			mu.Unlock()
		}
	})
}

//go:noinline
func bareLockUnlock(m *Mutex) {
	if atomic.CompareAndSwapUint64(m.word, 0, m.mine) && atomic.CompareAndSwapUint64(m.word, m.mine, 0) {
		_ = atomic.LoadUint32(m.o.sleepersAddr)
	}
}

//go:noinline
func guardedLock(m *Mutex) (err error) {
	defer m.o.guard("lock", debug.SetPanicOnFault(true), &err, m.o.hold.Load())
	atomic.CompareAndSwapUint64(m.word, 0, m.mine)
	return nil
}

//go:noinline
func guardedUnlock(m *Mutex) (err error) {
	defer m.o.guard("unlock", debug.SetPanicOnFault(true), &err, m.o.hold.Load())
	if atomic.CompareAndSwapUint64(m.word, m.mine, 0) {
		_ = atomic.LoadUint32(m.o.sleepersAddr)
	}
	return nil
}
