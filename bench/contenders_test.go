package bench

import (
	"bytes"
	"io"
	"os"
	"sync"
	"testing"

	mmapgo "github.com/edsrzf/mmap-go"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
	expmmap "golang.org/x/exp/mmap"
)

// Contender names, as they appear after impl= in the benchmark names.
const (
	osFile     = "os.File"
	osReadFile = "os.ReadFile"
	mmFile     = "mmfile"
	mmPopulate = "mmfile-populate"
	mmRandom   = "mmfile-random"
	expMmap    = "exp-mmap"
	mmapGo     = "mmap-go"
	shmSeg     = "shm"
	sysvSeg    = "sysv"
	ioMemory   = "ioadapt.Memory"
	bytesRd    = "bytes.Reader"
	slice      = "[]byte"
)

// reader is what the read benchmarks need of a contender: positioned and
// positional reads. Contenders without a Read of their own get one from
// io.SectionReader, as a program using them would.
type reader interface {
	io.ReaderAt
	io.ReadSeeker
}

// source is a contender that reads an existing file, or an in-memory copy
// of it.
type source struct {
	name string
	// open returns the reader over path and a function that releases it.
	open func(tb testing.TB, path string) (reader, func())
	// mapped sources are memory that a first touch faults in; touch
	// populates them before timing.
	mapped bool
}

func check(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func openOS(tb testing.TB, path string) (reader, func()) {
	f, err := os.Open(path)
	check(tb, err)
	return f, func() { f.Close() }
}

func openMmfile(opts ...mmfile.Option) func(testing.TB, string) (reader, func()) {
	return func(tb testing.TB, path string) (reader, func()) {
		f, err := mmfile.Open(path, opts...)
		check(tb, err)
		return f, func() { check(tb, f.Close()) }
	}
}

func openExp(tb testing.TB, path string) (reader, func()) {
	r, err := expmmap.Open(path)
	check(tb, err)
	return io.NewSectionReader(r, 0, int64(r.Len())), func() { check(tb, r.Close()) }
}

// mmapGoReader reads a mmap-go mapping as a plain slice: bytes.Reader is
// exactly the raw copy with the io semantics.
type mmapGoReader struct {
	*bytes.Reader
	m mmapgo.MMap
	f *os.File
}

func openMmapGo(tb testing.TB, path string) (reader, func()) {
	f, err := os.Open(path)
	check(tb, err)
	m, err := mmapgo.Map(f, mmapgo.RDONLY, 0)
	check(tb, err)
	r := &mmapGoReader{Reader: bytes.NewReader(m), m: m, f: f}
	return r, func() {
		check(tb, m.Unmap())
		f.Close()
	}
}

// The in-memory and shared-memory contenders hold a copy of the 1 GiB
// fixture, made once per process; path only names which one.
func openBytes(tb testing.TB, _ string) (reader, func()) {
	return bytes.NewReader(inMemory()), func() {}
}

func openMemory(tb testing.TB, _ string) (reader, func()) {
	return ioadapt.New(ioadapt.NewMemory(inMemory())), func() {}
}

var (
	sharedMu  sync.Mutex
	shmCopy   *shm.Segment
	sysvCopy  *sysv.Segment
	releasers []func()
)

// releaseShared closes the shared-memory copies at the end of the run.
func releaseShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for _, f := range releasers {
		f()
	}
	releasers = nil
}

func openShm(tb testing.TB, _ string) (reader, func()) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shmCopy == nil {
		s, err := shm.CreateUnique("mmapkit-bench-", bigSize)
		check(tb, err)
		check(tb, s.Unlink()) // the mapping stays; nothing is left behind
		_, err = s.WriteAt(inMemory(), 0)
		check(tb, err)
		shmCopy = s
		releasers = append(releasers, func() { s.Close() })
	}
	return shmCopy, func() {}
}

func openSysv(tb testing.TB, _ string) (reader, func()) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sysvCopy == nil {
		s, err := sysv.CreatePrivate(bigSize)
		check(tb, err)
		check(tb, s.Remove()) // freed at the last detach
		_, err = s.WriteAt(inMemory(), 0)
		check(tb, err)
		sysvCopy = s
		releasers = append(releasers, func() { s.Close() })
	}
	return sysvCopy, func() {}
}

var (
	srcOS       = source{name: osFile, open: openOS}
	srcMmfile   = source{name: mmFile, open: openMmfile(), mapped: true}
	srcPopulate = source{name: mmPopulate, open: openMmfile(mmfile.Populate())}
	srcExp      = source{name: expMmap, open: openExp, mapped: true}
	srcMmapGo   = source{name: mmapGo, open: openMmapGo, mapped: true}
	srcShm      = source{name: shmSeg, open: openShm}
	srcSysv     = source{name: sysvSeg, open: openSysv}
	srcMemory   = source{name: ioMemory, open: openMemory}
	srcBytes    = source{name: bytesRd, open: openBytes}
)

// hotSources read the page-cached 1 GiB file, or a copy of it in memory.
var hotSources = []source{srcOS, srcMmfile, srcExp, srcMmapGo, srcShm, srcSysv, srcMemory, srcBytes}

// populate faults every page of a mapped source in, as a long-lived
// mapping would have been after its first pass, so that the benchmarks
// measure the populated mapping. It touches every page rather than asking
// for MADV_POPULATE_READ: under a hypervisor with shadow page tables (PVM,
// as on the machine of docs/BENCHMARKS.md) the first access to a page still
// exits to the host after the guest's page tables were filled, and only a
// real touch leaves the mapping as fast as it gets.
func populate(tb testing.TB, r reader) {
	size, err := r.Seek(0, io.SeekEnd)
	check(tb, err)
	touch(tb, readerAt(r), size)
}

// lazy opens a source on its first use, so that a contender that -bench
// filters out costs no setup.
type lazy struct {
	src  source
	path string
	r    reader
	done func()
}

func (l *lazy) get(tb testing.TB) reader {
	if l.r == nil {
		l.r, l.done = l.src.open(tb, l.path)
		if l.src.mapped {
			populate(tb, l.r)
		}
	}
	return l.r
}

func (l *lazy) close() {
	if l.done != nil {
		l.done()
	}
}

// touch reads one byte of every page of r.
func touch(tb testing.TB, r io.ReaderAt, size int64) {
	var one [1]byte
	for off := int64(0); off < size; off += 4 * kib {
		if _, err := r.ReadAt(one[:], off); err != nil {
			tb.Fatal(err)
		}
	}
}

// readerAt returns the contender's own ReadAt, without the SectionReader
// that gives x/exp/mmap a Read.
func readerAt(r reader) io.ReaderAt {
	if s, ok := r.(*io.SectionReader); ok {
		ra, _, _ := s.Outer()
		return ra
	}
	return r
}
