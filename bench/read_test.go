package bench

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/mmapkit/mmapkit/mmfile"
)

// BenchmarkReadAt reads size bytes at random offsets (the same table for
// every contender) from the page-cached 1 GiB file, through a long-lived
// reader whose pages are all mapped.
func BenchmarkReadAt(b *testing.B) {
	path := cachedFile(b, readahead)
	for _, src := range hotSources {
		l := &lazy{src: src, path: path}
		for _, size := range []int64{64, 4 * kib, mib} {
			offs := offsets(bigSize, size, size, offsetTableSize)
			b.Run(fmt.Sprintf("size=%s/impl=%s", sizeName(size), src.name), func(b *testing.B) {
				ra := readerAt(l.get(b))
				p := make([]byte, size)
				b.SetBytes(size)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := ra.ReadAt(p, offs[i&(offsetTableSize-1)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
		l.close()
	}
}

// BenchmarkReadAtParallel is BenchmarkReadAt from g goroutines sharing one
// reader; ns/op is the wall time per read of all of them together.
func BenchmarkReadAtParallel(b *testing.B) {
	path := cachedFile(b, readahead)
	procs := runtime.GOMAXPROCS(0)
	for _, src := range []source{srcOS, srcMmfile, srcExp, srcBytes} {
		l := &lazy{src: src, path: path}
		for _, size := range []int64{64, 4 * kib} {
			offs := offsets(bigSize, size, size, offsetTableSize)
			for _, want := range []int{1, 2, 8} {
				// RunParallel starts parallelism×GOMAXPROCS goroutines.
				par := max(1, (want+procs-1)/procs)
				g := par * procs
				if want == 1 {
					g = 1
				}
				b.Run(fmt.Sprintf("size=%s/g=%d/impl=%s", sizeName(size), g, src.name), func(b *testing.B) {
					ra := readerAt(l.get(b))
					b.SetBytes(size)
					b.ReportAllocs()
					if g == 1 {
						p := make([]byte, size)
						i := 0
						for b.Loop() {
							if _, err := ra.ReadAt(p, offs[i&(offsetTableSize-1)]); err != nil {
								b.Fatal(err)
							}
							i++
						}
						return
					}
					b.SetParallelism(par)
					var seed atomic.Int64
					b.RunParallel(func(pb *testing.PB) {
						p := make([]byte, size)
						i := int(seed.Add(offsetTableSize / 8)) // spread the start points
						for pb.Next() {
							if _, err := ra.ReadAt(p, offs[i&(offsetTableSize-1)]); err != nil {
								panic(err)
							}
							i++
						}
					})
				})
			}
		}
		l.close()
	}
}

// coldReaders open the cold fixture for BenchmarkReadAtCold and
// BenchmarkReadCold. Each operation gets a fresh reader over a file that
// was just dropped from the page cache.
var coldSources = []source{
	srcOS,
	{name: mmFile, open: openMmfile()},
	{name: mmRandom, open: openMmfile(mmfile.WithAdvice(mmfile.Random))},
	{name: expMmap, open: openExp},
}

// BenchmarkReadAtCold reads 4 KiB at a random offset of a file that is not
// in the page cache: each operation is one trip to the disk. Mappings
// fault with read-around (the device's read_ahead_kb around the page),
// unless advised Random.
func BenchmarkReadAtCold(b *testing.B) {
	path := coldFile(b)
	for _, size := range []int64{4 * kib} {
		offs := offsets(bigSize, size, size, offsetTableSize)
		for _, src := range coldSources {
			b.Run(fmt.Sprintf("size=%s/impl=%s", sizeName(size), src.name), func(b *testing.B) {
				f, err := os.Open(path)
				check(b, err)
				defer f.Close()
				p := make([]byte, size)
				b.SetBytes(size)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					b.StopTimer()
					r, done := src.open(b, path)
					check(b, dropCache(f))
					ra := readerAt(r)
					b.StartTimer()
					if _, err := ra.ReadAt(p, offs[i&(offsetTableSize-1)]); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					done()
					b.StartTimer()
					i++
				}
			})
		}
	}
}

// BenchmarkRead reads the whole page-cached 1 GiB file from start to end
// with Read and a buffer of buf bytes, through a long-lived reader whose
// pages are mapped: the steady state of a program that keeps a file open.
func BenchmarkRead(b *testing.B) {
	path := cachedFile(b, readahead)
	for _, src := range []source{srcOS, srcMmfile, srcExp, srcMmapGo, srcMemory, srcBytes} {
		l := &lazy{src: src, path: path}
		for _, buf := range []int64{128 * kib, mib} {
			b.Run(fmt.Sprintf("size=1GiB/buf=%s/impl=%s", sizeName(buf), src.name), func(b *testing.B) {
				r := l.get(b)
				p := make([]byte, buf)
				b.SetBytes(bigSize)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := r.Seek(0, io.SeekStart); err != nil {
						b.Fatal(err)
					}
					readToEnd(b, r, p)
				}
			})
		}
		l.close()
	}
}

func readToEnd(b *testing.B, r io.Reader, p []byte) {
	n := 0
	for {
		m, err := r.Read(p)
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if n != bigSize {
		b.Fatalf("read %d bytes, want %d", n, bigSize)
	}
}

// freshSources open a new reader for every pass over the file: the cost a
// program pays to read a file once.
var freshSources = []source{
	srcOS,
	{name: mmFile, open: openMmfile()},
	srcPopulate,
	{name: expMmap, open: openExp},
	{name: mmapGo, open: openMmapGo},
}

// BenchmarkReadFresh opens the page-cached 1 GiB file, reads it to the end
// with a 1 MiB buffer and closes it, in both cache states: cache=readahead
// (large folios: a fault maps many pages) and cache=written (4 KiB folios:
// a fault maps few). The slow cache=written state runs the three
// contenders that tell the story: read(2), a mapping, a populated mapping.
func BenchmarkReadFresh(b *testing.B) {
	for _, state := range []string{readahead, written} {
		path := cachedFile(b, state)
		srcs := freshSources
		if state == written {
			srcs = srcs[:3]
		}
		for _, src := range srcs {
			b.Run(fmt.Sprintf("size=1GiB/cache=%s/impl=%s", state, src.name), func(b *testing.B) {
				p := make([]byte, mib)
				b.SetBytes(bigSize)
				b.ReportAllocs()
				for b.Loop() {
					r, done := src.open(b, path)
					readToEnd(b, r, p)
					done()
				}
			})
		}
	}
}

// BenchmarkReadCold is BenchmarkReadFresh on a file dropped from the page
// cache before each operation: the disk and readahead set the pace.
func BenchmarkReadCold(b *testing.B) {
	path := coldFile(b)
	srcs := []source{srcOS, {name: mmFile, open: openMmfile()}, srcPopulate, {name: expMmap, open: openExp}}
	for _, src := range srcs {
		b.Run(fmt.Sprintf("size=1GiB/impl=%s", src.name), func(b *testing.B) {
			f, err := os.Open(path)
			check(b, err)
			defer f.Close()
			p := make([]byte, mib)
			b.SetBytes(bigSize)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				check(b, dropCache(f))
				b.StartTimer()
				r, done := src.open(b, path)
				readToEnd(b, r, p)
				done()
			}
		})
	}
}

// sliceWriter copies what it is given into a preallocated buffer: the sink
// of a copy between two in-memory buffers.
type sliceWriter struct {
	b   []byte
	pos int
}

func (w *sliceWriter) Write(p []byte) (int, error) {
	n := copy(w.b[w.pos:], p)
	w.pos += n
	if n < len(p) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// pipeSink starts the test binary as a child that reads a pipe to the end,
// and returns the pipe's writing end.
func pipeSink(b *testing.B) (*os.File, func()) {
	pr, pw, err := os.Pipe()
	check(b, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=discard")
	cmd.Stdin = pr
	cmd.Stderr = os.Stderr
	check(b, cmd.Start())
	pr.Close()
	return pw, func() {
		pw.Close()
		check(b, cmd.Wait())
	}
}

// BenchmarkCopy copies the whole page-cached 1 GiB file with io.Copy into
// a sink: an in-memory buffer (sink=buffer: the memory-bandwidth test),
// a CRC-32 (sink=crc32) and a pipe to another process that discards it
// (sink=pipe). io.Copy uses whatever the contender offers: WriterTo
// (mmfile, os.File, bytes.Reader) or a 32 KiB buffer (x/exp/mmap through
// io.SectionReader).
func BenchmarkCopy(b *testing.B) {
	path := cachedFile(b, readahead)
	for _, src := range []source{srcOS, srcMmfile, srcExp, srcBytes} {
		l := &lazy{src: src, path: path}
		for _, sink := range []string{"buffer", "crc32", "pipe"} {
			b.Run(fmt.Sprintf("size=1GiB/sink=%s/impl=%s", sink, src.name), func(b *testing.B) {
				r := l.get(b)
				var w io.Writer
				var reset func()
				switch sink {
				case "buffer":
					sw := &sliceWriter{b: copyBuffer()}
					w, reset = sw, func() { sw.pos = 0 }
				case "crc32":
					h := crc32.NewIEEE()
					w, reset = h, h.Reset
				case "pipe":
					pw, stop := pipeSink(b)
					defer stop()
					w, reset = pw, func() {}
				}
				b.SetBytes(bigSize)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := r.Seek(0, io.SeekStart); err != nil {
						b.Fatal(err)
					}
					reset()
					n, err := io.Copy(w, r)
					if err != nil || n != bigSize {
						b.Fatalf("copied %d bytes: %v", n, err)
					}
				}
			})
		}
		l.close()
	}
}

var copyDst []byte

// copyBuffer is the 1 GiB destination of sink=buffer, made once.
func copyBuffer() []byte {
	if copyDst == nil {
		copyDst = make([]byte, bigSize)
		for i := 0; i < len(copyDst); i += 4 * kib {
			copyDst[i] = 1 // fault it in before timing
		}
	}
	return copyDst
}
