package mmfile_test

// The races of the io core's lock-free path on real files: ReadAt and
// WriteAt take no lock, so Close, growth and shrinking run while copies
// are in flight, and the retired memory (ioadapt.Retirer) must keep every
// such copy correct: the right bytes, or ErrClosed, or ErrFault where the
// file shrank, never a crash and never another mapping's bytes.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// rounds is how many times each race runs: fewer under the race detector,
// which slows each one down tenfold.
func rounds(t *testing.T, n int) int {
	if testing.Short() || raceEnabled {
		n = max(n/10, 3)
	}
	return n
}

// spawn runs fn in a goroutine that wg waits for.
func spawn(wg *sync.WaitGroup, fn func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		fn()
	}()
}

// readRandomly starts reader g of a round: until stop closes, it calls
// read with a buffer of 1 to most bytes and an offset where that many fit
// in size, and it stops at read's first error, which goes to errc.
func readRandomly(wg *sync.WaitGroup, stop <-chan struct{}, round, g, most int, size int64, read func(p []byte, off int64) error, errc chan<- error) {
	spawn(wg, func() {
		rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
		p := make([]byte, most)
		for {
			select {
			case <-stop:
				return
			default:
			}
			n := 1 + rng.IntN(most)
			if err := read(p[:n], rng.Int64N(size-int64(n))); err != nil {
				errc <- err
				return
			}
		}
	})
}

// stopReaders stops the readers of a round, closes f and fails t with
// the first error a reader sent.
func stopReaders(t *testing.T, round int, stop chan struct{}, wg *sync.WaitGroup, f *mmfile.File, errc chan error) {
	t.Helper()
	close(stop)
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	close(errc)
	for err := range errc {
		t.Fatalf("round %d: %v", round, err)
	}
}

// waitFor waits until cond holds, up to testkit.HangTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testkit.HangTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, testkit.HangTimeout)
		}
		runtime.Gosched()
	}
}

// TestLockFreeReadersAtClose closes a File while goroutines read it
// through ReadAt, Read and a section, then maps other files of the same
// size filled with another byte while the readers may still be copying:
// every read returns the file's bytes or an error matching fs.ErrClosed,
// and no read ever returns the other files' bytes, which it would if the
// closed file's addresses were unmapped and mapped again under a reader.
func TestLockFreeReadersAtClose(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 256<<20)
	const size = 1 << 20
	want := testkit.Pattern(size)
	path := filepath.Join(dir, "file")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte{0xEE}, size) // Pattern never has 16 0xEE in a row
	var others []string
	for i := range 8 {
		p := filepath.Join(dir, "other"+strconv.Itoa(i))
		if err := os.WriteFile(p, other, 0o644); err != nil {
			t.Fatal(err)
		}
		others = append(others, p)
	}
	var reads, closedSeen atomic.Int64
	for round := range rounds(t, 30) {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		sec, err := f.Section(4096, size-4096)
		if err != nil {
			t.Fatal(err)
		}
		var started atomic.Int64
		errc := make(chan error, 16)
		var wg sync.WaitGroup
		for g := range 6 {
			own, err := f.Section(0, size) // a seek position of its own, for Read
			if err != nil {
				t.Fatal(err)
			}
			spawn(&wg, func() {
				defer started.Add(1) // also where it stops before the third read
				rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				p := make([]byte, 256<<10)
				for i := 0; ; i++ {
					n := 1 + rng.IntN(len(p))
					off := rng.Int64N(size - int64(n))
					var m int
					var err error
					base := off
					switch g % 3 {
					case 0:
						m, err = f.ReadAt(p[:n], off)
					case 1:
						base = 4096 + off%(size-4096-int64(n))
						m, err = sec.ReadAt(p[:n], base-4096)
					case 2:
						if _, err = own.Seek(off, io.SeekStart); err == nil {
							m, err = own.Read(p[:n])
						}
					}
					if i == 2 {
						started.Add(1)
					}
					if errors.Is(err, fs.ErrClosed) {
						closedSeen.Add(1)
						return
					}
					reads.Add(1)
					switch {
					case err != nil && g%3 != 2:
						errc <- fmt.Errorf("reader %d: ReadAt(%d, %d): %v", g, n, base, err)
						return
					case err != nil && err != io.EOF:
						errc <- fmt.Errorf("reader %d: Read(%d) at %d: %v", g, n, base, err)
						return
					case !bytes.Equal(p[:m], want[base:base+int64(m)]):
						what := "wrong bytes"
						if bytes.Contains(p[:m], other[:16]) {
							what = "another file's bytes"
						}
						errc <- fmt.Errorf("reader %d: %d bytes at %d: %s", g, m, base, what)
						return
					}
				}
			})
		}
		waitFor(t, "readers started", func() bool { return started.Load() >= 6 })
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		// New mappings while the readers finish: the kernel would hand
		// out the closed file's addresses first if they were free.
		var held []*mmfile.File
		for _, p := range others {
			o, err := mmfile.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, o)
		}
		wg.Wait()
		for _, o := range held {
			o.Close()
		}
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		if t.Failed() {
			t.Fatalf("round %d", round)
		}
	}
	t.Logf("%d reads correct, %d ended by ErrClosed", reads.Load(), closedSeen.Load())
}

// TestLockFreeWriteAtRacingClose closes a File while goroutines write
// their own slots with WriteAt, a new byte value each round: every write
// returns nil or ErrClosed, and the file ends with each slot holding the
// last write that succeeded, or bytes of the one in flight at Close.
func TestLockFreeWriteAtRacingClose(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 64<<20)
	const writers, slot = 6, 8192
	path := filepath.Join(dir, "file")
	for round := range rounds(t, 20) {
		if err := os.WriteFile(path, make([]byte, writers*slot), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := make([]int, writers) // the last round that succeeded
		var started atomic.Int64
		errc := make(chan error, writers)
		var wg sync.WaitGroup
		for g := range writers {
			spawn(&wg, func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				for r := 1; ; r++ {
					n := 64 << rng.IntN(8) // 64 B to 8 KiB, from the slot's start
					p := bytes.Repeat([]byte{byte(r%250 + 1)}, n)
					if n < slot {
						p = bytes.Repeat([]byte{byte(r%250 + 1)}, slot) // the whole slot, so it holds one value
					}
					_, err := f.WriteAt(p, int64(g*slot))
					if r == 3 {
						started.Add(1)
					}
					if errors.Is(err, fs.ErrClosed) {
						return
					}
					if err != nil {
						errc <- fmt.Errorf("writer %d: %v", g, err)
						return
					}
					last[g] = r
				}
			})
		}
		waitFor(t, "writers started", func() bool { return started.Load() == writers })
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for g := range writers {
			ok, next := byte(last[g]%250+1), byte((last[g]+1)%250+1)
			for i, c := range got[g*slot : (g+1)*slot] {
				if c != ok && c != next {
					t.Fatalf("round %d: slot %d byte %d is %d; the last write that succeeded wrote %d (the next %d)", round, g, i, c, ok, next)
				}
			}
		}
	}
}

// TestLockFreeReadersUnderGrowth reads the start of a file from several
// goroutines while it grows: by Truncate in this process, which remaps,
// and by appends of another process, which the readers' refreshes map.
// With memory locked, every growth maps afresh and retires the old range
// (mremap would extend the lock), so both ways of growing are covered.
// Every read of the start returns its bytes.
func TestLockFreeReadersUnderGrowth(t *testing.T) {
	for _, locked := range []bool{false, true} {
		t.Run(fmt.Sprintf("locked=%v", locked), func(t *testing.T) {
			dir := testkit.SmallTmpfs(t, 512<<20)
			const head = 64 << 10
			want := testkit.Pattern(head)
			for round := range rounds(t, 8) {
				path := filepath.Join(dir, "file")
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				if locked {
					if err := f.LockMemory(); err != nil {
						t.Skipf("LockMemory: %v (RLIMIT_MEMLOCK)", err)
					}
				}
				stop := make(chan struct{})
				errc := make(chan error, 8)
				var reads atomic.Int64
				var wg sync.WaitGroup
				for g := range 4 {
					readRandomly(&wg, stop, round, g, 4096, head, func(p []byte, off int64) error {
						m, err := f.ReadAt(p, off)
						if err != nil || !bytes.Equal(p[:m], want[off:off+int64(m)]) {
							return fmt.Errorf("reader %d: ReadAt(%d, %d) = %d, %v; bytes right: %v", g, len(p), off, m, err, bytes.Equal(p[:m], want[off:off+int64(m)]))
						}
						if g == 0 && reads.Add(1)%64 == 0 {
							f.Size() // learns the other process's appends: a refresh
						}
						return nil
					}, errc)
				}
				appender := child("append", path, "MMAPKIT_TEST_BYTES="+strconv.Itoa(4<<20), "MMAPKIT_TEST_SEED=1")
				if err := appender.Start(); err != nil {
					t.Fatal(err)
				}
				for size := int64(head); size < 16<<20; size = size*3/2 + 4096 {
					if err := f.Truncate(max(size, f.Size())); err != nil {
						t.Fatal(err)
					}
				}
				if err := appender.Wait(); err != nil {
					t.Fatalf("appending process: %v", err)
				}
				f.Size()
				stopReaders(t, round, stop, &wg, f, errc)
			}
		})
	}
}

// TestLockFreeReadersUnderShrink reads a file from several goroutines
// while it shrinks, by Truncate of the File and by a truncate behind its
// back: every read returns the file's bytes, with io.EOF where it reached
// the end, or an error wrapping ErrFault where the file shrank under the
// copy; never bytes that were not in the file.
func TestLockFreeReadersUnderShrink(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 64<<20)
	const size = 4 << 20
	want := testkit.Pattern(size)
	path := filepath.Join(dir, "file")
	var faults, eofs, whole atomic.Int64
	for round := range rounds(t, 8) {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		errc := make(chan error, 8)
		var wg sync.WaitGroup
		for g := range 4 {
			readRandomly(&wg, stop, round, g, 64<<10, size, func(p []byte, off int64) error {
				m, err := f.ReadAt(p, off)
				switch {
				case !bytes.Equal(p[:m], want[off:off+int64(m)]):
					return fmt.Errorf("reader %d: ReadAt(%d, %d) returned %d bytes that are not the file's (%v)", g, len(p), off, m, err)
				case err == nil:
					whole.Add(1)
				case err == io.EOF:
					eofs.Add(1)
				case errors.Is(err, ioadapt.ErrFault):
					faults.Add(1)
				default:
					return fmt.Errorf("reader %d: ReadAt(%d, %d): %v", g, len(p), off, err)
				}
				return nil
			}, errc)
		}
		for cut := int64(size); cut > 0; cut -= size / 16 {
			if cut/(size/16)%2 == 0 {
				err = f.Truncate(cut)
			} else {
				err = os.Truncate(path, cut) // behind the File's back
			}
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		stopReaders(t, round, stop, &wg, f, errc)
	}
	t.Logf("reads: %d whole, %d to the end, %d faulted", whole.Load(), eofs.Load(), faults.Load())
}

// TestRetiredMemoryReleased checks that the memory a Close or a growth
// retired is unmapped once nothing holds it: after many files were opened,
// grown and closed, and collections ran, none of their addresses is still
// reserved.
func TestRetiredMemoryReleased(t *testing.T) {
	dir := t.TempDir()
	var starts []string
	for i := range 32 {
		path := filepath.Join(dir, "f"+strconv.Itoa(i))
		f, err := mmfile.Create(path, 4096)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, fmt.Sprintf("%x-", unsafe.SliceData(f.Bytes())))
		if err := f.Truncate(1 << 20); err != nil { // a remap: grown or moved
			t.Fatal(err)
		}
		starts = append(starts, fmt.Sprintf("%x-", unsafe.SliceData(f.Bytes())))
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	reserved := func() (n int) {
		maps, err := os.Open("/proc/self/maps")
		if err != nil {
			t.Skipf("no /proc/self/maps: %v", err)
		}
		defer maps.Close()
		sc := bufio.NewScanner(maps)
		for sc.Scan() {
			for _, s := range starts {
				if strings.HasPrefix(sc.Text(), s) && strings.Contains(sc.Text(), " ---p ") {
					n++
				}
			}
		}
		return n
	}
	deadline := time.Now().Add(testkit.HangTimeout)
	for n := reserved(); n > 0; n = reserved() {
		if time.Now().After(deadline) {
			t.Fatalf("%d retired ranges are still reserved after collections for %v", n, testkit.HangTimeout)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
