//go:build linux

package shm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestReadersWhileAnotherProcessShrinks cuts a named segment to half its
// size with coreutils truncate(1), another process, while goroutines
// read and write its tail with ReadAt and WriteAt and then Close it: a
// call returns the segment's bytes, or an error wrapping
// ioadapt.ErrFault where the pages are gone (where an os.File would
// return io.EOF), never a nil error for bytes it could not touch, zeros
// among them; once truncate has exited, every call in the tail fails; and
// after Close every error matches fs.ErrClosed.
func TestReadersWhileAnotherProcessShrinks(t *testing.T) {
	truncate, err := exec.LookPath("truncate")
	if err != nil {
		t.Skip("no truncate(1) on PATH")
	}
	page := int64(os.Getpagesize())
	size := 64 * page
	cut := size / 2
	want := testkit.NonZero(int(size))
	var faults atomic.Int64
	for round := range 5 {
		s, err := CreateUnique(testPrefix+"shrink-", size)
		if err != nil {
			t.Fatal(err)
		}
		name := s.Name()
		t.Cleanup(func() { _ = Unlink(name) })
		if _, err := s.WriteAt(want, 0); err != nil {
			t.Fatal(err)
		}
		f, err := s.File()
		if err != nil {
			t.Fatal(err)
		}
		var cutDone, closing atomic.Bool
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := make([]byte, 100+g*1000)
				for i := 0; ; i++ {
					off := cut + int64(i*4099+g*977)%(size-cut-int64(len(p)))
					after := cutDone.Load()
					var n int
					var err error
					if g%2 == 0 {
						n, err = s.ReadAt(p, off)
					} else {
						n, err = s.WriteAt(want[off:off+int64(len(p))], off)
						copy(p, want[off:off+int64(n)])
					}
					switch {
					case closing.Load() && errors.Is(err, os.ErrClosed):
						return
					case err == nil && n == len(p) && string(p) == string(want[off:off+int64(n)]) && !after:
					case errors.Is(err, ioadapt.ErrFault) && n < len(p) && string(p[:n]) == string(want[off:off+int64(n)]):
						faults.Add(1)
					default:
						errc <- fmt.Errorf("round %d goroutine %d (after the cut %v): at %d of %d bytes: %d, %v; the bytes are the segment's: %v",
							round, g, after, off, len(p), n, err, string(p[:n]) == string(want[off:off+int64(n)]))
						return
					}
				}
			}()
		}
		// truncate(1) opens the segment by this process's descriptor.
		out, err := exec.Command(truncate, "-s", strconv.FormatInt(cut, 10),
			"/proc/"+strconv.Itoa(os.Getpid())+"/fd/"+strconv.Itoa(int(f.Fd()))).CombinedOutput()
		if err != nil {
			t.Fatalf("truncate: %v: %s", err, out)
		}
		cutDone.Store(true)
		for range 1000 {
			if _, err := s.ReadAt(make([]byte, 8), cut); !errors.Is(err, ioadapt.ErrFault) {
				t.Fatalf("round %d: ReadAt at the cut %d after truncate(1): %v, want ErrFault", round, cut, err)
			}
		}
		closing.Store(true)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		f.Close()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
	}
	t.Logf("%d calls faulted", faults.Load())
}
