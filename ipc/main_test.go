//go:build linux || windows

package ipc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

// testPrefix starts the name of every segment this run of the tests makes,
// so that TestMain can tell them from everybody else's.
var testPrefix = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("mmapkit-ipctest-%d-%s-", os.Getpid(), hex.EncodeToString(b[:]))
}()

// childEnv switches the test binary into a peer process: its value names
// the job (see children_test.go). It is testkit's switch, so that tools
// that know testkit's jobs (testkit.Command) start ipc's peers too.
const childEnv = testkit.JobEnv

// TestMain lets the test binary serve as the peer process of the
// cross-process tests; otherwise it runs the tests, then fails the run if
// they left a segment behind.
// livenessBound is the longest a survivor may stay blocked after its
// peer's death: the re-check of a watched sleeper (recheckWatched) and a
// margin for a busy machine. Deaths are normally seen within milliseconds
// (the pidfd, the process handle); the scenarios log the distribution.
const livenessBound = recheckWatched + time.Second

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		if _, ok := lockJobs[job]; ok {
			testkit.Serve(lockJobs) // does the job and exits
		}
		os.Exit(runChild(job))
	}
	code := m.Run()
	if left := leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "tests left shared memory segments behind: %s\n", strings.Join(left, ", "))
		for _, n := range left {
			_ = shm.Unlink(n)
		}
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func leftovers() []string {
	infos, err := shm.List()
	if err != nil {
		return nil
	}
	var left []string
	for _, in := range infos {
		if strings.HasPrefix(in.Name, testPrefix) {
			left = append(left, in.Name)
		}
	}
	return left
}

var nameSeq atomic.Int64

// segName returns a fresh segment name for this run, and removes the
// segment of that name when the test ends, whatever happened.
func segName(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("%s%d", testPrefix, nameSeq.Add(1))
	t.Cleanup(func() {
		// Windows has no unlink: a segment goes with its last handle.
		if err := shm.Unlink(name); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrUnsupported) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return name
}

// memPipe lays out a pipe of the given capacity in heap memory, closed
// when the test ends.
func memPipe(t testing.TB, capacity int64, opts ...Option) *Pipe {
	t.Helper()
	mem := ioadapt.NewMemory(make([]byte, PipeSize(capacity)))
	p, err := CreatePipe(mem, append([]Option{Capacity(capacity)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// shmPipe makes a named segment for a pipe of the given capacity and
// lays the pipe out in it; both are closed, and the name removed, when
// the test ends.
func shmPipe(t testing.TB, capacity int64, opts ...Option) (*shm.Segment, *Pipe) {
	t.Helper()
	s, err := shm.Create(segName(t), PipeSize(capacity))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := CreatePipe(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return s, p
}

// ends attaches both ends of p.
func ends(t testing.TB, p *Pipe, opts ...Option) (*Writer, *Reader) {
	t.Helper()
	w, err := p.Writer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Reader(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return w, r
}

// wantErr checks that err matches target, is an *fs.PathError, and says
// every fragment of want.
func wantErr(t testing.TB, err, target error, want ...string) {
	t.Helper()
	testkit.WantPathError(t, err, target, want...)
}

// pattern returns n bytes that differ at every offset for a long while,
// starting at stream position off.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = patternByte(off + i)
	}
	return b
}

func patternByte(i int) byte { return byte(i*7 + i>>8 + i>>16) }
