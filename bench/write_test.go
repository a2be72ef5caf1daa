package bench

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	mmapgo "github.com/edsrzf/mmap-go"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
	"golang.org/x/sys/unix"
)

// rawWriterAt is WriteAt as a plain slice copy, the way a program writes
// through a mmap-go mapping or into a heap buffer.
type rawWriterAt []byte

func (w rawWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(w)) {
		return 0, io.ErrShortWrite
	}
	n := copy(w[off:], p)
	if n < len(p) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// target is a contender that writes a file in place, or memory of the same
// size.
type target struct {
	name string
	// open returns the writer over path (size bytes) and its release.
	open func(tb testing.TB, path string, size int64) (io.WriterAt, func())
	// fileBacked targets write the page cache of path.
	fileBacked bool
}

var (
	tgtOS = target{name: osFile, fileBacked: true, open: func(tb testing.TB, path string, _ int64) (io.WriterAt, func()) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		check(tb, err)
		return f, func() { f.Close() }
	}}
	tgtMmfile = target{name: mmFile, fileBacked: true, open: func(tb testing.TB, path string, _ int64) (io.WriterAt, func()) {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		check(tb, err)
		return f, func() { check(tb, f.Close()) }
	}}
	tgtMmapGo = target{name: mmapGo, fileBacked: true, open: func(tb testing.TB, path string, _ int64) (io.WriterAt, func()) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		check(tb, err)
		m, err := mmapgo.Map(f, mmapgo.RDWR, 0)
		check(tb, err)
		return rawWriterAt(m), func() {
			check(tb, m.Unmap())
			f.Close()
		}
	}}
	tgtShm = target{name: shmSeg, open: func(tb testing.TB, _ string, size int64) (io.WriterAt, func()) {
		s, err := shm.CreateUnique("mmapkit-bench-", size)
		check(tb, err)
		check(tb, s.Unlink())
		return s, func() { check(tb, s.Close()) }
	}}
	tgtSysv = target{name: sysvSeg, open: func(tb testing.TB, _ string, size int64) (io.WriterAt, func()) {
		s, err := sysv.CreatePrivate(size)
		check(tb, err)
		check(tb, s.Remove())
		return s, func() { check(tb, s.Close()) }
	}}
	tgtMemory = target{name: ioMemory, open: func(tb testing.TB, _ string, size int64) (io.WriterAt, func()) {
		return ioadapt.New(ioadapt.NewMemory(make([]byte, size))), func() {}
	}}
	tgtSlice = target{name: slice, open: func(tb testing.TB, _ string, size int64) (io.WriterAt, func()) {
		return rawWriterAt(make([]byte, size)), func() {}
	}}
)

// dirty writes one byte into every page, so that each is dirty (and, in a
// mapping, mapped writable) before timing starts.
func dirty(tb testing.TB, w io.WriterAt, size int64) {
	one := []byte{0xa5}
	for off := int64(0); off < size; off += 4 * kib {
		if _, err := w.WriteAt(one, off); err != nil {
			tb.Fatal(err)
		}
	}
}

const writeFileSize = 64 * mib

// BenchmarkWriteAt writes 64 bytes at random offsets of a 64 MiB file (or
// segment, or buffer) whose pages are all dirty already: the steady state
// of a program updating records in place.
func BenchmarkWriteAt(b *testing.B) {
	path := plainFile(b, "write.64m", writeFileSize)
	const size = 64
	offs := offsets(writeFileSize, size, size, offsetTableSize)
	for _, tgt := range []target{tgtOS, tgtMmfile, tgtMmapGo, tgtShm, tgtSysv, tgtMemory, tgtSlice} {
		b.Run(fmt.Sprintf("size=%s/impl=%s", sizeName(size), tgt.name), func(b *testing.B) {
			w, done := tgt.open(b, path, writeFileSize)
			defer done()
			dirty(b, w, writeFileSize)
			p := make([]byte, size)
			fill(p, 0)
			b.SetBytes(size)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := w.WriteAt(p, offs[i&(offsetTableSize-1)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkWriteAtClean writes 64 bytes into a page that is clean (written
// back): in a shared mapping the first store to it takes a write fault
// (page_mkwrite) so that the kernel can track it as dirty again. Every
// operation writes a different page of a 16 MiB file; when all have been
// written, fdatasync (outside the timer) cleans them.
func BenchmarkWriteAtClean(b *testing.B) {
	const fileSize = 16 * mib
	path := plainFile(b, "clean.16m", fileSize)
	const size = 64
	pages := int64(fileSize / (4 * kib))
	for _, tgt := range []target{tgtOS, tgtMmfile, tgtMmapGo} {
		b.Run(fmt.Sprintf("size=%s/impl=%s", sizeName(size), tgt.name), func(b *testing.B) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			check(b, err)
			defer f.Close()
			w, done := tgt.open(b, path, fileSize)
			defer done()
			check(b, unix.Fdatasync(int(f.Fd())))
			p := make([]byte, size)
			fill(p, 0)
			b.SetBytes(size)
			b.ReportAllocs()
			i := int64(0)
			for b.Loop() {
				if i == pages {
					b.StopTimer()
					check(b, unix.Fdatasync(int(f.Fd())))
					i = 0
					b.StartTimer()
				}
				// A stride that is odd in pages visits every page once.
				pg := (i * 4099) % pages
				if _, err := w.WriteAt(p, pg*4*kib+(i*size)%(4*kib)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// appender is a file that grows by Write.
type appender interface {
	io.Writer
	io.Closer
}

// appendCreators make the files that the append benchmarks grow.
var appendCreators = []struct {
	name   string
	create func(path string) (appender, error)
}{
	{osFile, func(path string) (appender, error) { return os.Create(path) }},
	{mmFile, func(path string) (appender, error) { return mmfile.Create(path, 0) }},
}

// appendSize is how far BenchmarkAppend grows its file: 64 MiB rather than
// 1 GiB, because growing through a mapping takes a page fault per 4 KiB page
// (tens of seconds per GiB on a loaded virtual machine) and the suite must
// finish in minutes. The cost is per page, so it scales linearly.
const appendSize = 64 * mib

// BenchmarkAppend creates a file and appends to it in chunks until it holds
// appendSize bytes, then closes it (without sync, as os.File.Close does not
// sync).
func BenchmarkAppend(b *testing.B) {
	benchAppend(b, func(f appender, p []byte) error {
		for n := int64(0); n < appendSize; n += int64(len(p)) {
			if _, err := f.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// chunkReader returns n bytes in reads of chunk bytes, and is no
// io.WriterTo, so that io.Copy into a file goes through its ReadFrom.
type chunkReader struct {
	p    []byte
	left int64
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.p[:min(int64(len(r.p)), r.left)])
	r.left -= int64(n)
	return n, nil
}

// BenchmarkAppendCopy is BenchmarkAppend by io.Copy from a reader that
// returns one chunk per Read: the file's ReadFrom does the appending.
func BenchmarkAppendCopy(b *testing.B) {
	benchAppend(b, func(f appender, p []byte) error {
		_, err := io.Copy(f, &chunkReader{p: p, left: appendSize})
		return err
	})
}

// benchAppend times, for each chunk size and each of appendCreators,
// creating a file, growing it to appendSize bytes with grow (which writes
// chunks of p) and closing it.
func benchAppend(b *testing.B, grow func(f appender, p []byte) error) {
	for _, chunk := range []int64{4 * kib, 64 * kib} {
		for _, c := range appendCreators {
			b.Run(fmt.Sprintf("size=%s/chunk=%s/impl=%s", sizeName(appendSize), sizeName(chunk), c.name), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "append")
				p := make([]byte, chunk)
				fill(p, 0)
				b.SetBytes(appendSize)
				b.ReportAllocs()
				for b.Loop() {
					f, err := c.create(path)
					check(b, err)
					if err := grow(f, p); err != nil {
						b.Fatal(err)
					}
					check(b, f.Close())
					b.StopTimer()
					check(b, os.Remove(path))
					b.StartTimer()
				}
			})
		}
	}
}

// syncer dirties a range and makes it durable.
type syncer struct {
	name string
	open func(tb testing.TB, path string) (w io.WriterAt, durable func(off, n int64) error, done func())
}

var syncers = []syncer{
	{osFile, func(tb testing.TB, path string) (io.WriterAt, func(off, n int64) error, func()) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		check(tb, err)
		return f, func(int64, int64) error { return unix.Fdatasync(int(f.Fd())) }, func() { f.Close() }
	}},
	{mmFile, func(tb testing.TB, path string) (io.WriterAt, func(off, n int64) error, func()) {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		check(tb, err)
		return f, f.SyncRange, func() { check(tb, f.Close()) }
	}},
	{"mmfile-Sync", func(tb testing.TB, path string) (io.WriterAt, func(off, n int64) error, func()) {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		check(tb, err)
		return f, func(int64, int64) error { return f.Sync() }, func() { check(tb, f.Close()) }
	}},
	{"mmfile-WriteAtSync", func(tb testing.TB, path string) (io.WriterAt, func(off, n int64) error, func()) {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		check(tb, err)
		return writerAtFunc(f.WriteAtSync), func(int64, int64) error { return nil }, func() { check(tb, f.Close()) }
	}},
}

// writerAtFunc is a WriteAt method as an io.WriterAt.
type writerAtFunc func(p []byte, off int64) (int, error)

func (w writerAtFunc) WriteAt(p []byte, off int64) (int, error) { return w(p, off) }

// BenchmarkSync writes one page (4 KiB) into a 64 MiB file and makes it
// durable: os.File with pwrite and fdatasync, mmfile with WriteAt and
// SyncRange of the page (msync MS_SYNC), mmfile-Sync with WriteAt and
// Sync of the whole file, and mmfile-WriteAtSync with WriteAtSync (pwrite
// and msync of the page). The fixture is written in large chunks, so its
// page cache holds large folios: a store dirties a whole one, a pwrite
// only the blocks it writes.
func BenchmarkSync(b *testing.B) { benchSync(b, 4*kib) }

// BenchmarkSyncBulk is BenchmarkSync with 64 MiB, the whole file, written
// (in 1 MiB WriteAts) and made durable per operation.
func BenchmarkSyncBulk(b *testing.B) { benchSync(b, 64*mib) }

func benchSync(b *testing.B, size int64) {
	path := plainFile(b, "sync.64m", 64*mib)
	for _, s := range syncers {
		b.Run(fmt.Sprintf("size=%s/impl=%s", sizeName(size), s.name), func(b *testing.B) {
			w, durable, done := s.open(b, path)
			defer done()
			chunk := min(size, mib)
			p := make([]byte, chunk)
			b.SetBytes(size)
			b.ReportAllocs()
			i := int64(0)
			for b.Loop() {
				off := (i * size) % (64 * mib)
				binary.LittleEndian.PutUint64(p, uint64(i)) // new contents every time
				for o := off; o < off+size; o += chunk {
					if _, err := w.WriteAt(p, o); err != nil {
						b.Fatal(err)
					}
				}
				if err := durable(off, size); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
