package mmfile_test

// Attacks on the written-out ReadAt and WriteAt of the io core and on a
// view whose size grows in place: a fault that is not in the File's
// memory, and reads at the end of a file that appends grow.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/mmapkit/mmapkit/ioadapt"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// faultingMemory returns the memory of a File whose file another call
// cut to 0 bytes: every touch of it faults (SIGBUS), as a buffer of the
// caller's that is itself such a mapping would.
func faultingMemory(t *testing.T, dir string, size int) []byte {
	t.Helper()
	path := filepath.Join(dir, "hole")
	h := openRound(t, path, testkit.NonZero(size))
	t.Cleanup(func() { _ = h.Close() })
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	return h.Bytes()
}

// callFaulting runs call with faults turned into panics, as a caller that
// guards its own mapping does, and returns what call returned or the
// panic that reached it.
func callFaulting(call func() (int, error)) (n int, r any, err error) {
	defer func() { r = recover() }()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	n, err = call()
	return n, nil, err
}

// TestFaultInCallersBuffer reads into, and writes from, a buffer of the
// caller's that faults: the fault is not in the File's memory, so it
// must reach the caller as the panic it is (or as an error, as read(2)
// into such a buffer returns EFAULT), never as a count with a nil error,
// and must leave the File working: the root IO's written-out path, a
// section's, and each under the race detector's and the plain build.
func TestFaultInCallersBuffer(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 16<<20)
	page := os.Getpagesize()
	size := 4 * page
	want := testkit.NonZero(size)
	hole := faultingMemory(t, dir, size)
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(hole)))
	f := openRound(t, filepath.Join(dir, "file"), want)
	defer f.Close()
	sec, err := f.Section(0, int64(size))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		call func() (int, error)
	}{
		{"ReadAt", func() (int, error) { return f.ReadAt(hole[page:page+64], 64) }},
		{"ReadAt/large", func() (int, error) { return f.ReadAt(hole[:2*page], 0) }},
		{"Section.ReadAt", func() (int, error) { return sec.ReadAt(hole[page:page+64], 64) }},
		{"WriteAt", func() (int, error) { return f.WriteAt(hole[page:page+64], 64) }},
		{"Section.WriteAt", func() (int, error) { return sec.WriteAt(hole[page:page+64], 64) }},
	} {
		n, r, err := callFaulting(c.call)
		t.Logf("%s: %d, %v; panic %v", c.name, n, err, r)
		switch {
		case r != nil:
			fa, ok := r.(interface{ Addr() uintptr })
			if !ok || fa.Addr() < lo || fa.Addr()-lo >= uintptr(size) {
				t.Errorf("%s: panic %v, not the fault in the caller's buffer [%#x, %#x)", c.name, r, lo, lo+uintptr(size))
			}
		case err == nil:
			t.Errorf("%s from a buffer that faults = %d, nil: the fault was swallowed", c.name, n)
		}
		// The File is untouched and still works: no lock left held.
		got := make([]byte, size)
		if m, err := f.ReadAt(got, 0); err != nil || m != size || string(got) != string(want) {
			t.Fatalf("%s: then ReadAt = %d, %v, same bytes %v", c.name, m, err, string(got) == string(want))
		}
		if err := f.Truncate(int64(size)); err != nil {
			t.Fatalf("%s: then Truncate: %v", c.name, err)
		}
	}
}

// TestReadersAtGrowingEnd appends to a file by Write, WriteAt and
// io.Copy while readers read at and across its end, where each append
// raises the size of the view in place, and then closes it under them:
// as with an os.File, every read returns the bytes appended (never zeros:
// the data holds none) up to the end it saw, with io.EOF when short, and
// after Close an error matching fs.ErrClosed.
func TestReadersAtGrowingEnd(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 64<<20)
	const chunk, total = 1000, 2 << 20 // chunks that straddle pages
	want := testkit.NonZero(total)
	for _, how := range []string{"Write", "WriteAt", "io.Copy"} {
		t.Run(how, func(t *testing.T) {
			var whole, short atomic.Int64
			defer func() { t.Logf("reads: %d whole, %d short", whole.Load(), short.Load()) }()
			for round := range rounds(t, 10) {
				f := openRound(t, filepath.Join(dir, "grow"), nil)
				var done atomic.Bool // the appends ended and Close began
				var wg sync.WaitGroup
				errc := make(chan error, 3)
				for g := range 2 {
					spawn(&wg, func() {
						p := make([]byte, 3000)
						for {
							end := f.Size()
							// Reader 0 reads wholly inside the size it saw
							// (ReadAt's written-out path), reader 1 across it.
							off := max(end-int64(len(p))/int64(g+1), 0)
							n, err := f.ReadAt(p, off)
							if n > 0 && string(p[:n]) != string(want[off:off+int64(n)]) {
								errc <- fmt.Errorf("round %d reader %d: ReadAt(%d, %d) = %d, %v with bytes that were never written", round, g, len(p), off, n, err)
								return
							}
							switch {
							case err == nil && n == len(p):
								whole.Add(1)
							case err == io.EOF && n < len(p):
								short.Add(1)
							case errors.Is(err, fs.ErrClosed) && done.Load():
								return
							default:
								errc <- fmt.Errorf("round %d reader %d: ReadAt(%d, %d) = %d, %v", round, g, len(p), off, n, err)
								return
							}
						}
					})
				}
				var err error
				switch how {
				case "Write":
					for i := 0; i < total && err == nil; i += chunk {
						_, err = f.Write(want[i : i+min(chunk, total-i)])
					}
				case "WriteAt":
					for i := 0; i < total && err == nil; i += chunk {
						_, err = f.WriteAt(want[i:i+min(chunk, total-i)], int64(i))
					}
				case "io.Copy":
					_, err = io.Copy(f, &chunkReader{b: want, n: chunk})
				}
				if err != nil {
					t.Fatal(err)
				}
				done.Store(true)
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				wg.Wait()
				close(errc)
				for err := range errc {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(dir, "grow"))
				if err != nil || string(got) != string(want) {
					t.Fatalf("round %d: the file holds %d bytes (%v), same as written %v", round, len(got), err, string(got) == string(want))
				}
			}
		})
	}
}

// chunkReader returns b n bytes at a time, so that io.Copy appends in
// small steps.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	m := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[m:]
	return m, nil
}

// TestCallsWhileAnotherProcessResizes cuts the file to half its size with
// coreutils truncate(1), another process, and then restores its size,
// while goroutines read and write its tail with ReadAt and WriteAt, one
// of them reading across the end so that the File refreshes its size
// (a shrink, and then a growth that raises the view's size in place). As
// with an os.File, a call returns the file's bytes, or fails (io.EOF, or
// ErrFault where the pages are gone); once the cut is in, no call in the
// tail returns a nil error until the size is back, and then the tail
// holds zeros (as the file does) or what the writers wrote. A WriteAt
// whose store faults writes by pwrite(2), as an os.File does, and so
// succeeds.
func TestCallsWhileAnotherProcessResizes(t *testing.T) {
	truncate, err := exec.LookPath("truncate")
	if err != nil {
		t.Skip("no truncate(1) on PATH")
	}
	dir := testkit.SmallTmpfs(t, 16<<20)
	page := int64(os.Getpagesize())
	size := 64 * page
	cut := size / 2
	want := testkit.NonZero(int(size))
	path := filepath.Join(dir, "file")
	run := func(n int64) {
		t.Helper()
		if out, err := exec.Command(truncate, "-s", strconv.FormatInt(n, 10), path).CombinedOutput(); err != nil {
			t.Fatalf("truncate: %v: %s", err, out)
		}
	}
	var faults, eofs atomic.Int64
	for round := range rounds(t, 40) {
		// In odd rounds goroutine 1 writes: a store that faults goes to
		// pwrite(2), which extends the file as an os.File's WriteAt
		// does, so the tail may then read back with no error, and the
		// gap it leaves past the cut as zeros.
		writer := round%2 == 1
		f := openRound(t, path, want)
		// 0: whole, 1: cutting, 2: cut, 3: restoring, 4: restored.
		var phase atomic.Int32
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		stop := make(chan struct{})
		for g := range 4 {
			spawn(&wg, func() {
				p := make([]byte, 100+g*1000)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					off := cut + int64(i*4099+g*977)%(size-cut-int64(len(p)))
					if g == 3 {
						off = size - int64(len(p))/2 // across the end: refreshes
					}
					before := phase.Load()
					var n int
					var err error
					if g == 1 && writer {
						n, err = f.WriteAt(want[off:off+int64(len(p))], off)
						copy(p, want[off:off+int64(n)])
					} else {
						n, err = f.ReadAt(p, off)
					}
					after := phase.Load()
					ok := func(b []byte, at int64) bool {
						for j := range b {
							if b[j] != want[at+int64(j)] && (b[j] != 0 || after < 3 && !(writer && after > 0)) {
								return false
							}
						}
						return true
					}
					switch {
					case !ok(p[:n], off):
						errc <- fmt.Errorf("round %d goroutine %d (phases %d..%d): at %d of %d bytes: %d, %v, with bytes the file never held", round, g, before, after, off, len(p), n, err)
						return
					case err == nil && n == len(p) && (writer || g == 3 || before != 2 || after != 2):
					case err == io.EOF && n < len(p):
						eofs.Add(1)
					case errors.Is(err, ioadapt.ErrFault) && n < len(p) && after > 0:
						faults.Add(1)
					default:
						errc <- fmt.Errorf("round %d goroutine %d (phases %d..%d): at %d of %d bytes: %d, %v", round, g, before, after, off, len(p), n, err)
						return
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		phase.Store(1)
		run(cut)
		phase.Store(2)
		time.Sleep(time.Millisecond)
		phase.Store(3)
		run(size)
		phase.Store(4)
		time.Sleep(time.Millisecond)
		close(stop)
		wg.Wait()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
	}
	t.Logf("%d calls faulted, %d read io.EOF", faults.Load(), eofs.Load())
}

// TestReadersUnderTruncateCycles shrinks the file with its own Truncate
// to a size inside a page and grows it back, over and over, while the
// root IO and a section read it wholly inside and across the cut, and
// then closes it under them. A shrink makes a new view and the growth
// that follows raises that view's size in place. As with an os.File, a
// read returns the file's bytes (zeros past the cut once a shrink has
// been made: Truncate drops the tail), short with io.EOF only at the cut
// or the end, and after Close an error matching fs.ErrClosed.
func TestReadersUnderTruncateCycles(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 16<<20)
	page := int64(os.Getpagesize())
	size := 8 * page
	cut := 4*page + 100
	want := testkit.NonZero(int(size))
	for round := range rounds(t, 20) {
		f := openRound(t, filepath.Join(dir, "file"), want)
		sec, err := f.Section(0, size)
		if err != nil {
			t.Fatal(err)
		}
		var cycles atomic.Int64 // shrinks begun
		var closing atomic.Bool
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for g := range 4 {
			spawn(&wg, func() {
				read := f.ReadAt
				if g%2 == 1 {
					read = sec.ReadAt
				}
				p := make([]byte, 300)
				for i := 0; ; i++ {
					off := cut - 150 // across the cut
					if g >= 2 {
						off = size - int64(len(p)) - int64(i%int(3*page)) // inside, past the cut
					}
					shrunk := cycles.Load() > 0
					n, err := read(p, off)
					shrunk = shrunk || cycles.Load() > 0
					for j := range p[:n] {
						at := off + int64(j)
						if p[j] != want[at] && !(p[j] == 0 && at >= cut && shrunk) {
							errc <- fmt.Errorf("round %d reader %d: ReadAt(%d, %d) = %d, %v: byte %d is %d, the file held %d", round, g, len(p), off, n, err, at, p[j], want[at])
							return
						}
					}
					switch {
					case err == nil && n == len(p):
					case err == io.EOF && (int64(n) == max(cut-off, 0) || off+int64(n) == size):
					case errors.Is(err, fs.ErrClosed) && closing.Load():
						return
					default:
						errc <- fmt.Errorf("round %d reader %d: ReadAt(%d, %d) = %d, %v", round, g, len(p), off, n, err)
						return
					}
				}
			})
		}
		for range 20 {
			cycles.Add(1)
			if err := f.Truncate(cut); err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
		}
		closing.Store(true)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
	}
}

// TestReadersWhileAnotherProcessAppends appends to the file from a
// Python process while goroutines read at and across the end they last
// saw: a read that reaches the end refreshes the size, which raises the
// view's size in place while the others check their bound against it.
// As with an os.File, every read returns the bytes appended, short only
// with io.EOF, and the readers reach the last byte.
func TestReadersWhileAnotherProcessAppends(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	dir := testkit.SmallTmpfs(t, 16<<20)
	const chunk, total = 1000, 4 << 20
	want := testkit.NonZero(total)
	path := filepath.Join(dir, "file")
	f := openRound(t, path, nil)
	defer f.Close()
	// The same bytes as testkit.NonZero, appended in chunks that straddle
	// pages.
	script := fmt.Sprintf(`
import os
d = bytes(i %% 251 + 1 for i in range(%d))
fd = os.open(%q, os.O_WRONLY | os.O_APPEND)
for i in range(0, len(d), %d):
    os.write(fd, d[i:i+%d])
`, total, path, chunk, chunk)
	child := exec.Command(python, "-c", script)
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var midway atomic.Int64
	errc := make(chan error, 3)
	for g := range 3 {
		spawn(&wg, func() {
			p := make([]byte, 700+g*1500)
			var end int64
			deadline := time.Now().Add(testkit.HangTimeout)
			for i := 0; end < total; i++ {
				if time.Now().After(deadline) {
					errc <- fmt.Errorf("reader %d: at %d of %d bytes after %v", g, end, total, testkit.HangTimeout)
					return
				}
				// Reader 0 reads wholly inside what it saw every other
				// time, and else at it; the others across it.
				off := max(end-int64(len(p))/int64(g+1), 0)
				if g == 0 && i%2 == 1 {
					off = end
				}
				n, err := f.ReadAt(p, off)
				if string(p[:n]) != string(want[off:off+int64(n)]) {
					errc <- fmt.Errorf("reader %d: ReadAt(%d, %d) = %d, %v with bytes that were never written", g, len(p), off, n, err)
					return
				}
				if !(err == nil && n == len(p) || err == io.EOF && n < len(p)) {
					errc <- fmt.Errorf("reader %d: ReadAt(%d, %d) = %d, %v", g, len(p), off, n, err)
					return
				}
				if off+int64(n) > end && end > 0 && off+int64(n) < total {
					midway.Add(1)
				}
				end = max(end, off+int64(n))
			}
		})
	}
	defer func() { t.Logf("%d reads found the file grown before the appends ended", midway.Load()) }()
	if err := child.Wait(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

// TestEmptyReadAtTheEnd reads nothing at each offset around the end, on
// the root IO (whose ReadAt has a written-out path for a read inside the
// view) and on a section of the whole file: both must answer as
// bytes.Reader does, whose semantics ReadAt promises: 0, io.EOF at or
// past the end, 0, nil before it.
func TestEmptyReadAtTheEnd(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 1<<20)
	size := int64(os.Getpagesize()) + 10
	want := testkit.NonZero(int(size))
	f := openRound(t, filepath.Join(dir, "file"), want)
	defer f.Close()
	sec, err := f.Section(0, size)
	if err != nil {
		t.Fatal(err)
	}
	oracle := bytes.NewReader(want)
	for _, off := range []int64{0, size - 1, size, size + 1} {
		wn, werr := oracle.ReadAt(nil, off)
		for name, r := range map[string]io.ReaderAt{"File": f, "Section": sec} {
			if n, err := r.ReadAt(nil, off); n != wn || err != werr {
				t.Errorf("%s.ReadAt(nil, %d) of %d bytes = %d, %v; bytes.Reader: %d, %v", name, off, size, n, err, wn, werr)
			}
		}
	}
}
