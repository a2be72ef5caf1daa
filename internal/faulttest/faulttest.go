// Package faulttest holds what the fault-and-abuse scenarios of every
// package share (make test-faults): the tally of rounds that the suite's
// report reads, the check that a leak loop left no descriptor or mapping
// behind, and the goroutines that hammer a Region while it faults.
package faulttest

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// Tally counts the rounds of a scenario and the rounds that failed. When
// the test ends it logs "faults: runs=N failures=F", the line that
// scripts/test-faults.sh turns into a row of its table.
type Tally struct {
	t              *testing.T
	runs, failures int
}

// New returns the Tally of the scenario t.
func New(t *testing.T) *Tally {
	ty := &Tally{t: t}
	t.Cleanup(func() { t.Logf("faults: runs=%d failures=%d", ty.runs, ty.failures) })
	return ty
}

// Round records one run; a non-nil err is a failure, reported for the
// first five.
func (ty *Tally) Round(err error) {
	ty.t.Helper()
	ty.runs++
	if err != nil {
		ty.failures++
		if ty.failures <= 5 {
			ty.t.Errorf("round %d: %v", ty.runs, err)
		}
	}
}

// CheckNoGrowth fails t if the process holds more descriptors, or more
// than slack more mappings of files and segments, than before.
func CheckNoGrowth(t *testing.T, fds, maps, slack int) {
	t.Helper()
	if d := testkit.FDs(t) - fds; d > 0 {
		t.Errorf("%d descriptors more after the loop", d)
	}
	if d := testkit.Maps(t) - maps; d > slack {
		t.Errorf("%d mappings more after the loop", d)
	}
}

// Region is what Hammer reads and writes: a mapped file or segment.
type Region interface {
	io.ReaderAt
	io.WriterAt
}

// Hammer reads, writes and copies r from four goroutines, at offsets over
// data (r's contents), until the returned stop is called. Every call must
// succeed or fail with an error wrapping ioadapt.ErrFault that names
// name; stop returns the first call that did otherwise.
func Hammer(r Region, data []byte, name string) (stop func() error) {
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	done := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, 256)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				off := int64((g*4099 + i*577) % (len(data) - len(p)))
				var err error
				switch (g + i) % 3 {
				case 0:
					_, err = r.ReadAt(p, off)
				case 1:
					_, err = r.WriteAt(data[off:off+int64(len(p))], off)
				case 2:
					_, err = io.Copy(io.Discard, io.NewSectionReader(r, off, int64(len(p))))
				}
				if err != nil && (!errors.Is(err, ioadapt.ErrFault) || !strings.Contains(err.Error(), name)) {
					errs <- fmt.Errorf("goroutine %d: unexpected error %v", g, err)
					return
				}
			}
		}()
	}
	return func() error {
		close(done)
		wg.Wait()
		close(errs)
		return <-errs
	}
}

// HammerDuring hammers r as [Hammer] does while cmd, another process that
// makes r fault (a truncation), runs to its end. It returns the first
// failure: a call of the hammer's, or cmd's, with what cmd said.
func HammerDuring(r Region, data []byte, name string, cmd *exec.Cmd) error {
	stop := Hammer(r, data, name)
	out, err := cmd.CombinedOutput()
	if herr := stop(); herr != nil {
		return herr
	}
	if err != nil {
		return fmt.Errorf("child: %v: %s", err, out)
	}
	return nil
}
