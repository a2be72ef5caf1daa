package bench

import (
	"errors"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"testing"

	mmapgo "github.com/edsrzf/mmap-go"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
	expmmap "golang.org/x/exp/mmap"
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

// BenchmarkCore takes the io core's ReadAt of 64 bytes apart, on a mapping
// whose first 64 KiB are hot in the CPU caches, so that the fixed costs
// show: impl=copy is the bare copy out of the mapping, the next ones add
// one safety measure each (or are the measure alone), and the last ones
// are the whole ReadAt of the core, mmfile and x/exp/mmap.
func BenchmarkCore(b *testing.B) {
	path := plainFile(b, "core.1m", mib)
	f, err := os.Open(path)
	check(b, err)
	defer f.Close()
	m, err := mmapgo.Map(f, mmapgo.RDONLY, 0)
	check(b, err)
	defer m.Unmap()
	const size, window = 64, 64 * kib
	offs := offsets(window, size, size, offsetTableSize)
	touch(b, rawWriterAtReader(m), window)

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
	touch(b, mf, window)
	touch(b, xr, window)

	readAt := func(r io.ReaderAt) func(p []byte, off int64) {
		return func(p []byte, off int64) {
			if _, err := r.ReadAt(p, off); err != nil {
				panic(err)
			}
		}
	}
	steps := []struct {
		name string
		op   func(p []byte, off int64)
	}{
		{"copy", func(p []byte, off int64) { copy(p, m[off:off+size]) }},
		{"call", func(p []byte, off int64) { plainCall(p, m[off:off+size]) }},
		{"RWMutex", func([]byte, int64) { mu.RLock(); mu.RUnlock() }},
		{"SetPanicOnFault", func([]byte, int64) { debug.SetPanicOnFault(debug.SetPanicOnFault(true)) }},
		{"defer+recover+copy", func(p []byte, off int64) { deferRecoverCopy(p, m[off:off+size]) }},
		{"all-by-hand", func(p []byte, off int64) { byHand(&mu, p, m[off:off+size]) }},
		{"ioadapt-faultfree", readAt(lockOnly)},
		{"ioadapt", readAt(guarded)},
		{mmFile, readAt(mf)},
		{expMmap, readAt(xr)},
	}
	for _, s := range steps {
		b.Run("size=64B/impl="+s.name, func(b *testing.B) {
			p := make([]byte, size)
			b.SetBytes(size)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.op(p, offs[i&(offsetTableSize-1)])
				i++
			}
		})
	}
	// The read lock from every CPU at once: RLock and RUnlock are atomic
	// adds on one shared counter, whose cache line then moves between
	// cores.
	b.Run("size=64B/impl=RWMutex-parallel", func(b *testing.B) {
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
