//go:build linux

package shm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestLockFreeReadersAtClose closes a segment while goroutines read it
// with ReadAt, and then makes other segments filled with another byte:
// every read returns the segment's bytes or an error matching
// fs.ErrClosed, never the other segments' bytes. A named segment retires
// its memory at Close (a reservation until no read holds it); an
// anonymous one, a sealed memfd that the io core reads without the fault
// guard, keeps it mapped until then.
func TestLockFreeReadersAtClose(t *testing.T) {
	const size = 1 << 20
	want := testkit.Pattern(size)
	other := bytes.Repeat([]byte{0xEE}, size)
	for _, anon := range []bool{false, true} {
		t.Run(fmt.Sprintf("anonymous=%v", anon), func(t *testing.T) {
			for round := range 10 {
				var s *Segment
				var err error
				if anon {
					s, err = CreateAnonymous(size)
				} else {
					s, err = CreateUnique(testPrefix+"lockfree-", size)
				}
				if err != nil {
					t.Fatal(err)
				}
				if !anon {
					name := s.Name()
					t.Cleanup(func() { _ = Unlink(name) })
				}
				if _, faultFree := s.r.region(anon).(ioadapt.FaultFree); faultFree != anon {
					t.Fatalf("the Region of the segment claims FaultFree: %v", faultFree)
				}
				if _, err := s.WriteAt(want, 0); err != nil {
					t.Fatal(err)
				}
				var started atomic.Int64
				errc := make(chan error, 4)
				var wg sync.WaitGroup
				for g := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer started.Add(1)
						rng := rand.New(rand.NewPCG(uint64(round), uint64(g)))
						p := make([]byte, 256<<10)
						for i := 0; ; i++ {
							n := 1 + rng.IntN(len(p))
							off := rng.Int64N(size - int64(n))
							m, err := s.ReadAt(p[:n], off)
							if i == 2 {
								started.Add(1)
							}
							if errors.Is(err, fs.ErrClosed) {
								return
							}
							if err != nil || !bytes.Equal(p[:m], want[off:off+int64(m)]) {
								errc <- fmt.Errorf("reader %d: ReadAt(%d, %d) = %d, %v; another segment's bytes: %v", g, n, off, m, err, bytes.Contains(p[:m], other[:16]))
								return
							}
						}
					}()
				}
				deadline := time.Now().Add(testkit.HangTimeout)
				for started.Load() < 4 && time.Now().Before(deadline) {
					runtime.Gosched()
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				var others []*Segment
				for range 4 {
					o, err := CreateAnonymous(size)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := o.WriteAt(other, 0); err != nil {
						t.Fatal(err)
					}
					others = append(others, o)
				}
				wg.Wait()
				for _, o := range others {
					o.Close()
				}
				close(errc)
				for err := range errc {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		})
	}
}
