package mmfile_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestWriteRacingCloseSaysSo closes a File while a writer stores into it
// in a loop, each store a different byte over the same range. Close does
// not wait for a lock-free store: one that Close cuts short may have put
// some of its bytes in the file, so its error must wrap fs.ErrClosed and
// say that it raced Close and that part of it may have reached the file,
// while a write that starts after Close gets the plain closed error.
//
// Close publishes the closed state at once but retires the memory only in
// its mmap(2), whose TLB shootdown reaches a store running on another CPU
// tens of microseconds later (in a VM), long after a 64 KiB store has
// ended. So both goroutines run pinned to one CPU: the kernel then runs
// Close only while the writer is preempted, which is nearly always in the
// middle of a store, and the store faults when it resumes. A try where
// bytes of the failed store are in the file must say that it raced Close;
// the test ends at the first try that takes the cut-short path, and
// fails if none of 1000 does.
func TestWriteRacingCloseSaysSo(t *testing.T) {
	for _, method := range []string{"WriteAt", "Write"} {
		t.Run(method, func(t *testing.T) { writeRacingClose(t, method) })
	}
}

func writeRacingClose(t *testing.T, method string) {
	// The largest store that goes into the memory without a lock.
	const n, off, tries = ioadapt.DirectWriteMin - 1, 4096, 1000
	path := writeFile(t, "race", make([]byte, off+n+4096))
	plain := "write " + path + ": " + fs.ErrClosed.Error()
	cpu := pinToOneCPU(t)
	for try := range tries {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		var stores atomic.Int64
		type result struct {
			n    int
			err  error
			v    byte // the byte of the store that failed
			seek bool // the Seek before a Write failed: no store began
		}
		done := make(chan result, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the pinned thread ends with the goroutine
			if err := pinThread(cpu); err != nil {
				done <- result{err: err}
				return
			}
			ps := [2][]byte{bytes.Repeat([]byte{1}, n), bytes.Repeat([]byte{2}, n)}
			for k := 0; ; k++ {
				var m int
				var err error
				seek := false
				if method == "WriteAt" {
					m, err = f.WriteAt(ps[k%2], off)
				} else if _, err = f.Seek(off, io.SeekStart); err != nil {
					seek = true
				} else {
					m, err = f.Write(ps[k%2])
				}
				if err != nil {
					done <- result{m, err, ps[k%2][0], seek}
					return
				}
				stores.Add(1)
			}
		}()
		for stores.Load() < 2 {
			// Spin rather than sleep: Close must run when the kernel
			// preempts the writer, not when the writer lets it.
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.seek && errors.Is(r.err, fs.ErrClosed) {
			continue // Close came between two Writes
		}
		if !errors.Is(r.err, fs.ErrClosed) || r.n != 0 {
			t.Fatalf("try %d: %s racing Close = %d, %v; want 0 and an error matching fs.ErrClosed", try, method, r.n, r.err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		landed := bytes.Count(data[off:off+n], []byte{r.v})
		msg := r.err.Error()
		if !strings.Contains(msg, "raced Close") {
			if landed > 0 {
				t.Fatalf("try %d: %s that Close cut short after %d of its %d bytes reached the file says %q; want it to say that it raced Close and that part of it may have reached the file",
					try, method, landed, n, msg)
			}
			if msg != plain {
				t.Fatalf("try %d: %s ended by Close says %q; want %q", try, method, msg, plain)
			}
			continue // the store began after Close
		}
		if !strings.HasPrefix(msg, "write "+path+": ") || !strings.Contains(msg, "may have reached the file") {
			t.Fatalf("try %d: %s that raced Close says %q; want it to name %s and say that part of it may have reached the file", try, method, msg, path)
		}
		_, err = f.WriteAt([]byte("after"), off)
		if err == nil || err.Error() != plain {
			t.Errorf("WriteAt after Close = %v; want %q", err, plain)
		}
		_, err = f.Write([]byte("after"))
		if err == nil || err.Error() != plain {
			t.Errorf("Write after Close = %v; want %q", err, plain)
		}
		t.Logf("try %d: %d of %d bytes landed before Close: %v", try, landed, n, r.err)
		return
	}
	t.Fatalf("in %d tries Close never cut a %s short: every store either ended before Close or began after it", tries, method)
}

// pinToOneCPU pins the test's goroutine and thread to one CPU that the
// process may use, until the test ends, and returns that CPU.
func pinToOneCPU(t *testing.T) int {
	t.Helper()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		t.Skipf("sched_getaffinity: %v", err)
	}
	cpu := 0
	for !old.IsSet(cpu) {
		cpu++
	}
	runtime.LockOSThread()
	t.Cleanup(func() {
		if err := unix.SchedSetaffinity(0, &old); err != nil {
			t.Errorf("restoring the CPU affinity: %v", err)
		}
		runtime.UnlockOSThread()
	})
	if err := pinThread(cpu); err != nil {
		t.Skip(err)
	}
	return cpu
}

// pinThread pins the calling thread to cpu.
func pinThread(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return os.NewSyscallError("sched_setaffinity", unix.SchedSetaffinity(0, &set))
}
