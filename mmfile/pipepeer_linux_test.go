package mmfile_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"regexp"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// hangLimit turns a hang into a failure; it is far longer than any of
// these calls takes on a loaded machine.
const hangLimit = 20 * time.Second

// within runs fn and fails the test if it does not return within
// hangLimit: the calls here must never deadlock.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(hangLimit):
		t.Fatalf("%s hangs after %v", what, hangLimit)
	}
}

// waitPipeFull waits until the pipe whose read end is r holds as many
// bytes as it can, so that a writer into it is blocked in write(2).
func waitPipeFull(t *testing.T, r *os.File) {
	t.Helper()
	capacity, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(hangLimit)
	for {
		queued, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if queued >= capacity {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pipe holds %d of %d bytes: WriteTo does not write", queued, capacity)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAppendToItselfThroughPipe copies a File onto its own end through a
// pipe, the two ends served by two goroutines: io.Copy(pipe, f) and
// io.Copy(f at its end, pipe). With an os.File the copy doubles the file,
// and so it does through an io.Pipe. Through an os.Pipe, a File's WriteTo
// holds the File pinned during each write(2) into the pipe, so the
// growing write of the goroutine that drains the pipe waits for the
// writer, which waits for the pipe to be drained.
func TestAppendToItselfThroughPipe(t *testing.T) {
	for _, kind := range []string{"io.Pipe", "os.Pipe"} {
		t.Run(kind, func(t *testing.T) {
			data := testkit.Pattern(1 << 20)
			path := writeFile(t, "self", data)
			f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var pr io.ReadCloser
			var pw io.WriteCloser
			if kind == "os.Pipe" {
				pr, pw, err = os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
			} else {
				pr, pw = io.Pipe()
			}
			defer pr.Close()
			sent := make(chan error, 1)
			go func() {
				_, err := io.Copy(pw, f) // f.WriteTo(pw)
				pw.Close()
				sent <- err
			}()
			got := make(chan error, 1)
			go func() {
				_, err := io.Copy(io.NewOffsetWriter(f, int64(len(data))), pr)
				got <- err
			}()
			for _, ch := range []chan error{sent, got} {
				select {
				case err := <-ch:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(hangLimit):
					pr.Close() // release the writer, so the test can end
					t.Fatalf("io.Copy of the File onto its end through an %s hangs after %v", kind, hangLimit)
				}
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			want := append(append([]byte(nil), data...), data...)
			if b, _ := os.ReadFile(path); !bytes.Equal(b, want) {
				t.Fatalf("the file has %d bytes; want the %d bytes twice", len(b), len(data))
			}
		})
	}
}

// stuckWriteTo opens a writable File of 1 MiB and starts a WriteTo of it
// into a pipe that nobody reads, and returns once the pipe is full, with
// the pipe's read end (closing it ends the WriteTo with EPIPE) and where
// the WriteTo's error will come.
func stuckWriteTo(t *testing.T) (*mmfile.File, *os.File, chan error) {
	t.Helper()
	f, err := mmfile.OpenFile(writeFile(t, "src", testkit.Pattern(1<<20)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pw.Close() })
	copied := make(chan error, 1)
	go func() { _, err := f.WriteTo(pw); copied <- err }()
	waitPipeFull(t, pr)
	return f, pr, copied
}

// TestCloseDuringWriteToFullPipe: a WriteTo into a pipe that nobody reads
// is blocked; Close of the File must still return, as Close of an os.File
// source returns while io.Copy from it is blocked writing.
func TestCloseDuringWriteToFullPipe(t *testing.T) {
	f, pr, copied := stuckWriteTo(t)
	closed := make(chan error, 1)
	go func() { closed <- f.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
		pr.Close() // the writer wakes, and finds the File closed
		if err := <-copied; !errors.Is(err, fs.ErrClosed) && !errors.Is(err, unix.EPIPE) {
			t.Errorf("the blocked WriteTo after Close = %v; want fs.ErrClosed or EPIPE", err)
		}
	case <-time.After(hangLimit):
		t.Errorf("Close hangs for %v while WriteTo is blocked on a full pipe", hangLimit)
		pr.Close() // the writer gets EPIPE and lets go
		<-copied
		<-closed
	}
}

// TestReadAtDuringWriteToFullPipe: a WriteTo into a pipe that nobody reads
// is blocked, and another goroutine appends to the File. Neither the
// append nor a third goroutine's read may wait for the pipe to drain.
func TestReadAtDuringWriteToFullPipe(t *testing.T) {
	f, pr, copied := stuckWriteTo(t)
	defer f.Close()
	appended := make(chan error, 1)
	go func() { _, err := f.WriteAt([]byte("more"), 1<<20); appended <- err }()
	read := make(chan error, 1)
	go func() {
		_, err := f.ReadAt(make([]byte, 10), 0)
		read <- err
	}()
	select {
	case err := <-read:
		if err != nil {
			t.Errorf("ReadAt: %v", err)
		}
	case <-time.After(hangLimit):
		pr.Close() // the writer gets EPIPE and lets go: the others follow
		<-copied
		<-appended
		<-read
		t.Fatalf("ReadAt blocked for %v behind a growing write that waits for a WriteTo stuck on a full pipe", hangLimit)
	}
	select {
	case err := <-appended:
		if err != nil {
			t.Errorf("WriteAt past the end: %v", err)
		}
	case <-time.After(hangLimit):
		t.Errorf("WriteAt past the end blocked for %v by a WriteTo stuck on a full pipe", hangLimit)
	}
	pr.Close() // the WriteTo wakes to EPIPE
	if err := <-copied; !errors.Is(err, unix.EPIPE) {
		t.Errorf("the blocked WriteTo after its reader left = %v; want EPIPE", err)
	}
}

// TestCloseDuringBlockedPeers: Close returns while a ReadFrom waits on a
// reader that sends nothing (an os.Pipe, an io.Pipe), and while a WriteTo
// waits on an io.Pipe that nobody reads; each call then fails with
// fs.ErrClosed.
func TestCloseDuringBlockedPeers(t *testing.T) {
	for _, c := range []string{"ReadFrom(os.Pipe)", "ReadFrom(io.Pipe)", "WriteTo(io.Pipe)"} {
		t.Run(c, func(t *testing.T) {
			path := writeFile(t, "f", testkit.Pattern(1<<20))
			f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			var release func()
			done := make(chan error, 1)
			switch c {
			case "ReadFrom(os.Pipe)":
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				release = func() { w.Write([]byte("late")); w.Close() }
				go func() { _, err := f.ReadFrom(r); done <- err }()
			case "ReadFrom(io.Pipe)":
				r, w := io.Pipe()
				release = func() { w.Write([]byte("late")); w.Close() }
				go func() { _, err := f.ReadFrom(r); done <- err }()
			case "WriteTo(io.Pipe)":
				r, w := io.Pipe()
				release = func() { r.Close() }
				go func() { _, err := f.WriteTo(w); done <- err }()
			}
			waitBlockedInPeer(t)
			within(t, "Close while "+c+" is blocked", func() {
				if err := f.Close(); err != nil {
					t.Error(err)
				}
			})
			release()
			if err := <-done; !errors.Is(err, fs.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("%s after Close = %v; want fs.ErrClosed", c, err)
			}
		})
	}
}

// waitBlockedInPeer waits until a goroutine is blocked in a peer's Read or
// Write called by the io core.
func waitBlockedInPeer(t *testing.T) {
	t.Helper()
	re := regexp.MustCompile(`(?s)(io\.\(\*pipe\)\.(read|write)|poll\.\(\*FD\)\.Read).*ioadapt\.\(\*IO\)\.(ReadFrom|WriteTo)`)
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(hangLimit)
	for {
		for _, g := range bytes.Split(buf[:runtime.Stack(buf, true)], []byte("\n\n")) {
			if re.Match(g) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no goroutine came to wait in a peer")
		}
		time.Sleep(time.Millisecond)
	}
}
