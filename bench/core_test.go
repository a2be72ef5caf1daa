package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	mmapgo "github.com/edsrzf/mmap-go"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
	expmmap "golang.org/x/exp/mmap"
	"golang.org/x/sys/unix"
)

// rawRegion is a Region over a mapping that the io core must treat as able
// to fault, as it treats every file mapping.
type rawRegion struct{ b []byte }

func (r rawRegion) Bytes() []byte  { return r.b }
func (r rawRegion) Size() int64    { return int64(len(r.b)) }
func (r rawRegion) Writable() bool { return false }
func (r rawRegion) Name() string   { return "raw" }
func (r rawRegion) Sync() error    { return nil }
func (r rawRegion) Close() error   { return nil }

// faultFreeRegion is the same mapping declared unable to fault, so that the
// io core skips its fault handling (as it does for heap memory).
type faultFreeRegion struct{ rawRegion }

func (faultFreeRegion) FaultFree() {}

var errFault = errors.New("fault")

// recoverInto is the shape of the core's deferred fault handler: restore
// the goroutine's setting, recover, keep only faults.
func recoverInto(old bool, errp *error) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		*errp = errFault
	}
}

func recoverOnly(errp *error) {
	if r := recover(); r != nil {
		*errp = errFault
	}
}

//go:noinline
func plainCall(p, src []byte) (n int, err error) {
	return copy(p, src), nil
}

//go:noinline
func deferRecoverCopy(p, src []byte) (n int, err error) {
	defer recoverOnly(&err)
	return copy(p, src), nil
}

// byHand rebuilds ReadAt's guarded path from its parts: read lock, fault
// guard, deferred recovery and unlock, copy.
//
//go:noinline
func byHand(mu *sync.RWMutex, p, src []byte) (n int, err error) {
	mu.RLock()
	defer mu.RUnlock()
	defer recoverInto(debug.SetPanicOnFault(true), &err)
	return copy(p, src), nil
}

// oneDefer is byHand with one deferred call that restores the fault
// setting, recovers and unlocks.
//
//go:noinline
func oneDefer(mu *sync.RWMutex, p, src []byte) (n int, err error) {
	mu.RLock()
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = errFault
		}
		mu.RUnlock()
	}()
	return copy(p, src), nil
}

// guardedCopy is the fault guard alone, as the core's lock-free ReadAt
// arms it: one deferred call that restores the setting and recovers. It is
// the floor of a single guarded ReadAt.
//
//go:noinline
func guardedCopy(p, src []byte) (n int, err error) {
	defer recoverInto(debug.SetPanicOnFault(true), &err)
	return copy(p, src), nil
}

//go:noinline
func lockCopy(mu *sync.RWMutex, p, src []byte) int {
	mu.RLock()
	n := copy(p, src)
	mu.RUnlock()
	return n
}

//go:noinline
func guardCopy(p, src []byte) int {
	old := debug.SetPanicOnFault(true)
	n := copy(p, src)
	debug.SetPanicOnFault(old)
	return n
}

// BenchmarkCore takes the io core's ReadAt of 64 bytes apart. With
// window=64KiB the reads stay in a 64 KiB window that the CPU caches hold,
// so that the fixed costs show: impl=copy is the bare copy out of the
// mapping, the next ones add one safety measure each (or are the measure
// alone: impl=guard is the fault guard of one call and nothing else, the
// floor of a guarded ReadAt), and the last ones are the whole ReadAt of
// the core, mmfile and x/exp/mmap; impl=access-batch is mmfile's reads
// made 64 at a time inside one Access, one guard for all. With
// window=16MiB and window=1GiB the reads are random over a 16 MiB file
// and over the page-cached 1 GiB file, as in BenchmarkReadAt, where
// copies miss the caches: there the question is which measure stops the
// CPU from overlapping one read's cache miss with the next (an atomic
// read-modify-write is a full barrier on x86).
func BenchmarkCore(b *testing.B) {
	for _, window := range []int64{64 * kib, 16 * mib, bigSize} {
		path := plainFile(b, "core.1m", mib)
		switch window {
		case 16 * mib:
			path = plainFile(b, "core.16m", 16*mib)
		case bigSize:
			path = cachedFile(b, readahead)
		}
		benchCore(b, path, window)
	}
}

func benchCore(b *testing.B, path string, window int64) {
	f, err := os.Open(path)
	check(b, err)
	defer f.Close()
	m, err := mmapgo.Map(f, mmapgo.RDONLY, 0)
	check(b, err)
	defer m.Unmap()
	const size = 64
	offs := offsets(window, size, size, offsetTableSize)

	var mu sync.RWMutex
	guarded := ioadapt.New(rawRegion{m})
	defer guarded.Close()
	lockOnly := ioadapt.New(faultFreeRegion{rawRegion{m}})
	defer lockOnly.Close()
	mf, err := mmfile.Open(path)
	check(b, err)
	defer mf.Close()
	xr, err := expmmap.Open(path)
	check(b, err)
	defer xr.Close()
	touch(b, rawWriterAtReader(m), window)
	touch(b, mf, window)
	touch(b, xr, window)

	readAt := func(r io.ReaderAt) func(p []byte, off int64) {
		return func(p []byte, off int64) {
			if _, err := r.ReadAt(p, off); err != nil {
				panic(err)
			}
		}
	}
	hot := window <= mib
	steps := []struct {
		name string
		op   func(p []byte, off int64)
		hot  bool // only meaningful in the hot window
	}{
		{"copy", func(p []byte, off int64) { copy(p, m[off:off+size]) }, false},
		{"call", func(p []byte, off int64) { plainCall(p, m[off:off+size]) }, false},
		{"RWMutex", func([]byte, int64) { mu.RLock(); mu.RUnlock() }, true},
		{"RWMutex+copy", func(p []byte, off int64) { lockCopy(&mu, p, m[off:off+size]) }, false},
		{"SetPanicOnFault", func([]byte, int64) { debug.SetPanicOnFault(debug.SetPanicOnFault(true)) }, true},
		{"SetPanicOnFault+copy", func(p []byte, off int64) { guardCopy(p, m[off:off+size]) }, false},
		{"defer+recover+copy", func(p []byte, off int64) { deferRecoverCopy(p, m[off:off+size]) }, false},
		{"guard", func(p []byte, off int64) { guardedCopy(p, m[off:off+size]) }, false},
		{"all-by-hand", func(p []byte, off int64) { byHand(&mu, p, m[off:off+size]) }, false},
		{"one-defer", func(p []byte, off int64) { oneDefer(&mu, p, m[off:off+size]) }, false},
		{"ioadapt-faultfree", readAt(lockOnly), false},
		{"ioadapt", readAt(guarded), false},
		{mmFile, readAt(mf), false},
		{expMmap, readAt(xr), false},
	}
	for _, s := range steps {
		if s.hot && !hot {
			continue
		}
		b.Run(fmt.Sprintf("size=64B/window=%s/impl=%s", sizeName(window), s.name), func(b *testing.B) {
			p := make([]byte, size)
			b.SetBytes(size)
			b.ReportAllocs()
			defer cpuPerOp(b)()
			i := 0
			for b.Loop() {
				s.op(p, offs[i&(offsetTableSize-1)])
				i++
			}
		})
	}
	b.Run(fmt.Sprintf("size=64B/window=%s/impl=access-batch", sizeName(window)), func(b *testing.B) {
		const batch = 64
		p := make([]byte, size)
		b.SetBytes(size)
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i += batch {
			err := mf.Access(func(m []byte) error {
				for j := i; j < min(i+batch, b.N); j++ {
					off := offs[j&(offsetTableSize-1)]
					copy(p, m[off:off+size])
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	if !hot {
		return
	}
	// The read lock from every CPU at once: RLock and RUnlock are atomic
	// adds on one shared counter, whose cache line then moves between
	// cores.
	b.Run(fmt.Sprintf("size=64B/window=%s/impl=RWMutex-parallel", sizeName(window)), func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.RLock()
				mu.RUnlock()
			}
		})
	})
}

// rawWriterAtReader reads a slice for touch.
type rawWriterAtReader []byte

func (r rawWriterAtReader) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, r[off:]), nil
}

// BenchmarkCoreWrite writes 64 bytes at random offsets of a 64 MiB file
// whose pages are all dirty and mapped: impl=store is a plain store into
// the mapping (the File's own Bytes), impl=guard the same store inside
// the fault guard alone, impl=mmfile its WriteAt, impl=access-batch the
// File's stores made 64 at a time inside one Access.
func BenchmarkCoreWrite(b *testing.B) {
	const fileSize, size = 64 * mib, 64
	path := plainFile(b, "corewrite.64m", fileSize)
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	check(b, err)
	defer f.Close()
	m := f.Bytes()
	for i := 0; i < len(m); i += 4 * kib {
		m[i]++ // dirty and map every page before timing
	}
	offs := offsets(fileSize, size, size, offsetTableSize)
	steps := []struct {
		name string
		op   func(p []byte, off int64)
	}{
		{"store", func(p []byte, off int64) { copy(m[off:off+size], p) }},
		// The fault guard alone around the store: the floor of a single
		// guarded WriteAt.
		{"guard", func(p []byte, off int64) { guardedCopy(m[off:off+size], p) }},
		{mmFile, func(p []byte, off int64) {
			if _, err := f.WriteAt(p, off); err != nil {
				panic(err)
			}
		}},
	}
	for _, s := range steps {
		b.Run(fmt.Sprintf("size=64B/impl=%s", s.name), func(b *testing.B) {
			p := make([]byte, size)
			fill(p, 0)
			b.SetBytes(size)
			b.ReportAllocs()
			defer cpuPerOp(b)()
			i := 0
			for b.Loop() {
				s.op(p, offs[i&(offsetTableSize-1)])
				i++
			}
		})
	}
	// The same stores made 64 at a time inside one Access: one guard for
	// all of them.
	b.Run("size=64B/impl=access-batch", func(b *testing.B) {
		const batch = 64
		p := make([]byte, size)
		fill(p, 0)
		b.SetBytes(size)
		b.ReportAllocs()
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i += batch {
			err := f.Access(func(m []byte) error {
				for j := i; j < min(i+batch, b.N); j++ {
					off := offs[j&(offsetTableSize-1)]
					copy(m[off:off+size], p)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuPerOp locks the benchmark to its thread and returns a function that
// reports the thread's CPU time (user and system, getrusage
// RUSAGE_THREAD) per operation as cpu-ns/op: on a machine that others
// load, wall time per operation counts the time the thread waited for a
// CPU, and CPU time does not. Defer the function it returns.
func cpuPerOp(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadCPU(b)
	return func() {
		b.ReportMetric(float64(threadCPU(b)-start)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

func threadCPU(b *testing.B) int64 {
	var ru unix.Rusage
	check(b, unix.Getrusage(unix.RUSAGE_THREAD, &ru))
	return ru.Utime.Nano() + ru.Stime.Nano()
}
