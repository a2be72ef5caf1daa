package mmfile_test

// Attacks on the lock-free io core (ioadapt.Retirer): races and limits
// that the guarantees of the package doc must survive.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestAttackShrinkPartialPage races ReadAt with this File's own Truncate
// to a size inside a page. Under a lock, a read of [off, off+n) that
// straddles the new end returns the file's bytes (before the Truncate)
// or the bytes up to the new end with io.EOF (after it). Without one, a
// reader that loaded the view before the Truncate published the shorter
// one copies, after ftruncate zeroed the tail of the last page, zeros
// that the file never held, and returns them as data with no error. The
// package doc admits zeros past the end only where another process
// truncated the file, not for the File's own Truncate.
func TestAttackShrinkPartialPage(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 16<<20)
	page := int64(os.Getpagesize())
	size := 4 * page
	cut := 2*page + 100          // inside the third page
	off, n := cut-50, int64(200) // straddles cut, inside the page
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i%251) + 1 // no zero byte anywhere
	}
	path := filepath.Join(dir, "file")
	var zeros, whole, short, closed atomic.Int64
	for round := range rounds(t, 500) {
		f := openRound(t, path, want)
		var wg sync.WaitGroup
		var started sync.WaitGroup
		errc := make(chan error, 2)
		for g := range 2 {
			started.Add(1)
			spawn(&wg, func() {
				p := make([]byte, n)
				first := true
				for {
					m, err := f.ReadAt(p, off)
					if first {
						started.Done()
						first = false
					}
					switch {
					case err == nil && m == int(n):
						if string(p) != string(want[off:off+n]) {
							zeros.Add(1)
							errc <- fmt.Errorf("round %d reader %d: ReadAt(%d, %d) = %d, nil; bytes %d.. of the read are %v, the file never held them (want %v)",
								round, g, n, off, m, cut-off, p[cut-off:cut-off+8], want[cut:cut+8])
							return
						}
						whole.Add(1)
					case err == io.EOF && int64(m) == cut-off:
						short.Add(1)
						return // the Truncate is in: every later read is short too
					case errors.Is(err, fs.ErrClosed):
						closed.Add(1)
						return
					default:
						errc <- fmt.Errorf("round %d reader %d: ReadAt(%d, %d) = %d, %v", round, g, n, off, m, err)
						return
					}
				}
			})
		}
		started.Wait()
		cutRound(t, f, cut, &wg, errc)
	}
	t.Logf("reads: %d whole, %d short, %d closed", whole.Load(), short.Load(), closed.Load())
}

// TestAttackShrinkLosesWrite races WriteAt with this File's own Truncate
// to a size inside a page. A writer that saw, by stat(2), the file cut
// already and then got success from a WriteAt past the new end wrote
// after the cut, so the file must hold its bytes, as with an os.File.
// Without a lock, a writer that loaded the view before the Truncate
// published the shorter one stores into the page past the new end after
// ftruncate, where the bytes are never part of the file.
func TestAttackShrinkLosesWrite(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 16<<20)
	page := int64(os.Getpagesize())
	size := 4 * page
	cut := 2*page + 100
	off := cut + 50 // past the new end, in the page that holds it
	p := make([]byte, 100)
	for i := range p {
		p[i] = byte(i%251) + 1
	}
	path := filepath.Join(dir, "file")
	var late atomic.Int64
	for round := range rounds(t, 500) {
		f := openRound(t, path, make([]byte, size))
		var wg sync.WaitGroup
		var started sync.WaitGroup
		started.Add(1)
		errc := make(chan error, 1)
		wrote := make(chan bool, 1)
		spawn(&wg, func() {
			first := true
			for {
				fi, err := os.Stat(path)
				if err != nil {
					errc <- err
					return
				}
				cutAlready := fi.Size() == cut
				n, err := f.WriteAt(p, off)
				if first {
					started.Done()
					first = false
				}
				if err != nil || n != len(p) {
					errc <- fmt.Errorf("round %d: WriteAt(%d, %d) = %d, %v", round, len(p), off, n, err)
					return
				}
				if cutAlready {
					wrote <- true
					return
				}
				if fi.Size() != size {
					return // the cut, then a write that grew the file again
				}
			}
		})
		started.Wait()
		cutRound(t, f, cut, &wg, errc)
		if len(wrote) == 0 {
			continue
		}
		late.Add(1)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(got)) < off+int64(len(p)) || string(got[off:off+int64(len(p))]) != string(p) {
			t.Fatalf("round %d: WriteAt(%d, %d) after the cut to %d returned success, but the file is %d bytes and does not hold the bytes written",
				round, len(p), off, cut, len(got))
		}
	}
	t.Logf("%d rounds with a write after the cut", late.Load())
}

// openRound writes data to path and opens it for writing.
func openRound(t *testing.T, path string, data []byte) *mmfile.File {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// cutRound truncates f to cut while the round's goroutines run, waits
// for them, closes f and fails on the first error they sent.
func cutRound(t *testing.T, f *mmfile.File, cut int64, wg *sync.WaitGroup, errc chan error) {
	t.Helper()
	if err := f.Truncate(cut); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

// TestAttackReopenUnderAddressSpaceLimit opens, reads and closes a
// 256 MiB file 16 times in a child whose RLIMIT_AS leaves 768 MiB above
// what it has mapped: an os.File or an unmapping File never holds more
// than one mapping, so every open must succeed. A File that retires its
// memory at Close keeps the addresses reserved until a collection runs,
// and a loop that allocates little runs none.
func TestAttackReopenUnderAddressSpaceLimit(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 1<<20)
	path := filepath.Join(dir, "sparse")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(256 << 20); err != nil { // sparse: no memory
		t.Fatal(err)
	}
	f.Close()
	out, err := runBounded(child("as-reopen", path))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// attackJobs are the other processes of the attack tests.
var attackJobs = testkit.Jobs{
	"as-reopen": func() error {
		path := os.Getenv(pathEnv)
		vm, _, err := limitAddressSpace(768 << 20)
		if err != nil {
			return err
		}
		p := make([]byte, 1)
		for i := range 16 {
			f, err := mmfile.Open(path)
			if err != nil {
				return fmt.Errorf("open %d of a 256 MiB file under RLIMIT_AS (768 MiB above the %d kB mapped): %v", i, vm, err)
			}
			if _, err := f.ReadAt(p, 200<<20); err != nil {
				return fmt.Errorf("read %d: %v", i, err)
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		fmt.Println("opened and closed 16 times")
		return nil
	},
}
