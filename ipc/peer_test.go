//go:build linux || windows

package ipc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/sysv"
)

// deathBound is what a test allows between a peer's kill (SIGKILL, TerminateProcess) and the
// survivor's ErrPeerDead before calling it a failure: far above the few
// milliseconds it takes, so that a busy machine does not fail the test;
// the latencies are logged.
const deathBound = 5 * time.Second

// namedPipe makes a named segment with a pipe of the given capacity for
// child processes to join; it returns the pipe and the region spec.
func namedPipe(t *testing.T, capacity int64, opts ...Option) (*Pipe, string) {
	t.Helper()
	s, p := shmPipe(t, capacity, opts...)
	return p, "shm:" + s.Name()
}

// sysvPipe makes a System V segment (no file: liveness by pid and start
// time) with a pipe, for child processes to join.
func sysvPipe(t *testing.T, capacity int64, opts ...Option) (*Pipe, string) {
	t.Helper()
	s, err := sysv.CreatePrivate(PipeSize(capacity))
	if err != nil {
		t.Skipf("no System V shared memory here: %v", err)
	}
	t.Cleanup(func() { s.Remove(); s.Close() })
	p, err := CreatePipe(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, "sysv:" + strconv.Itoa(s.ID())
}

// regions are the kinds of shared memory the cross-process tests run on.
var regions = map[string]func(*testing.T, int64, ...Option) (*Pipe, string){
	"shm":  namedPipe,
	"sysv": sysvPipe,
}

// TestReaderSeesWriterDie: a writer process commits bytes and is killed;
// the reader, blocked, reads every committed byte and then ErrPeerDead,
// within milliseconds. Then another process takes the writer's end and
// the reader reads on.
func TestReaderSeesWriterDie(t *testing.T) {
	for name, mk := range regions {
		t.Run(name, func(t *testing.T) {
			p, region := mk(t, 1<<16)
			r, err := p.Reader()
			if err != nil {
				t.Fatal(err)
			}
			c := startChild(t, "write", region, "from=0,count=100000,chunk=3000,hold=1")
			c.expect("ready")
			n, err := checkStreamN(r, 0, 100000)
			if err != nil {
				t.Fatalf("read %d bytes: %v", n, err)
			}
			c.expect("written")
			errc := make(chan error, 1)
			go func() { _, err := r.Read(make([]byte, 10)); errc <- err }()
			time.Sleep(5 * time.Millisecond)
			killed := time.Now()
			c.kill()
			var rerr error
			select {
			case rerr = <-errc:
			case <-time.After(deathBound):
				t.Fatalf("Read still blocked %v after the writer was killed", deathBound)
			}
			t.Logf("ErrPeerDead %v after the kill", time.Since(killed))
			wantErr(t, rerr, ErrPeerDead, "writer process "+strconv.Itoa(c.pid()), "died without closing")
			// Not sticky: it says so again, without blocking.
			_, err = r.Read(make([]byte, 10))
			wantErr(t, err, ErrPeerDead)

			c2 := startChild(t, "write", region, "from=100000,count=50000,chunk=777")
			c2.expect("ready")
			n, err = checkStream(r, 100000)
			if err != io.EOF || n != 50000 {
				t.Fatalf("after another writer took over: read %d bytes, %v", n, err)
			}
			c2.wait()
		})
	}
}

// checkStreamN reads exactly n bytes of the pattern from position from.
func checkStreamN(r io.Reader, from, n int) (int, error) {
	m, err := checkStream(io.LimitReader(r, int64(n)), from)
	if err == io.EOF && m == n {
		err = nil
	}
	return m, err
}

// TestWriterSeesReaderDie: the writer, blocked on a full ring, gets
// ErrPeerDead when the reader process is killed; a new reader takes the
// end and gets the bytes the dead one never read.
func TestWriterSeesReaderDie(t *testing.T) {
	for name, mk := range regions {
		t.Run(name, func(t *testing.T) {
			p, region := mk(t, 4096)
			w, err := p.Writer()
			if err != nil {
				t.Fatal(err)
			}
			c := startChild(t, "hold", region, "role=reader")
			c.expect("ready")
			n, err := w.Write(pattern(0, 4096))
			if err != nil || n != 4096 {
				t.Fatalf("filling the ring: %d, %v", n, err)
			}
			errc := make(chan error, 1)
			go func() { _, err := w.Write(pattern(4096, 10)); errc <- err }()
			time.Sleep(5 * time.Millisecond)
			killed := time.Now()
			c.kill()
			select {
			case err = <-errc:
			case <-time.After(deathBound):
				t.Fatalf("Write still blocked %v after the reader was killed", deathBound)
			}
			t.Logf("ErrPeerDead %v after the kill", time.Since(killed))
			wantErr(t, err, ErrPeerDead, "reader process "+strconv.Itoa(c.pid()))
			_, err = w.Write([]byte("x"))
			wantErr(t, err, ErrPeerDead)

			c2 := startChild(t, "read", region, "from=0")
			c2.expect("ready")
			if _, err := w.Write(pattern(4096, 20000)); err != nil {
				t.Fatalf("writing to the new reader: %v", err)
			}
			w.Close()
			if got := c2.line(); got != "read 24096 EOF" {
				t.Fatalf("the new reader says %q", got)
			}
			c2.wait()
		})
	}
}

// TestWriterSeesReaderDieUnblocked: a reader dies while the writer is not
// waiting; the writer learns at the latest when the ring fills.
func TestWriterSeesReaderDieUnblocked(t *testing.T) {
	p, region := namedPipe(t, 4096)
	w, err := p.Writer()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "hold", region, "role=reader")
	c.expect("ready")
	c.kill()
	var written int
	within(t, "writing to a dead reader", func() {
		for err == nil {
			var n int
			n, err = w.Write(make([]byte, 100))
			written += n
		}
	})
	wantErr(t, err, ErrPeerDead)
	if written > 4096 {
		t.Errorf("%d bytes written to a dead reader's ring of 4096", written)
	}
}

// TestSecondEndProcess: while a process holds an end, another process's
// attempt is refused with ErrInUse naming its pid, and so is this one's.
func TestSecondEndProcess(t *testing.T) {
	for name, mk := range regions {
		t.Run(name, func(t *testing.T) {
			p, region := mk(t, 4096)
			c := startChild(t, "hold", region, "role=writer")
			c.expect("ready")
			_, err := p.Writer()
			wantErr(t, err, ErrInUse, "already has a writer", "pid "+strconv.Itoa(c.pid()))
			c2 := startChild(t, "hold", region, "role=writer")
			if got := c2.expect("inuse"); !strings.Contains(got, "pid "+strconv.Itoa(c.pid())) {
				t.Errorf("the second child says %q", got)
			}
			c2.wait()
			r, err := p.Reader()
			if err != nil {
				t.Fatalf("the reader's end is free: %v", err)
			}
			r.Close()
			c.kill()
			w, err := p.Writer()
			if err != nil {
				t.Fatalf("taking the dead writer's end: %v", err)
			}
			w.Close()
		})
	}
}

// TestStallInCommit: a writer killed inside Commit, after its bytes are in
// the ring and before the tail is stored, leaves nothing visible: the
// reader gets the records before, whole, and then ErrPeerDead.
func TestStallInCommit(t *testing.T) {
	p, region := namedPipe(t, 1<<14, Messages())
	r, err := p.Reader()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "write", region, "from=0,count=5,hold=1")
	c.expect("ready")
	c.expect("written")
	c.kill()
	c2 := startChild(t, "stall", region, "from=5")
	c2.expect("ready")
	c2.expect("stalled")
	c2.kill()
	buf := make([]byte, 2000)
	for i := range 5 {
		n, err := r.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], record(i)) {
			t.Fatalf("record %d: %d bytes, %v", i, n, err)
		}
	}
	_, err = r.Read(buf)
	wantErr(t, err, ErrPeerDead, fmt.Sprintf("writer process %d", c2.pid()))
}

// TestPeerNeverCame: a reader waiting for a writer that never attaches is
// not told of a death; its deadline ends the wait.
func TestPeerNeverCame(t *testing.T) {
	p, _ := namedPipe(t, 4096)
	r, err := p.Reader()
	if err != nil {
		t.Fatal(err)
	}
	r.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	within(t, "a Read with no writer", func() {
		_, err = r.Read(make([]byte, 1))
	})
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read with no writer: %v, want the deadline", err)
	}
}

// TestBrokenPipeProcess: a reader process reads what it wants and closes
// its end while the writer is blocked on a full ring; the writer's call
// fails with EPIPE, and so does every later one.
func TestBrokenPipeProcess(t *testing.T) {
	p, region := namedPipe(t, 4096)
	w, err := p.Writer()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "readclose", region, "from=0,count=5000")
	c.expect("ready")
	errc := make(chan error, 1)
	go func() {
		// 5000 bytes reach the reader; the rest can never fit.
		_, err := w.Write(pattern(0, 5000+2*4096))
		errc <- err
	}()
	c.expect("closed")
	select {
	case err = <-errc:
	case <-time.After(deathBound):
		t.Fatalf("Write still blocked %v after the reader closed", deathBound)
	}
	wantErr(t, err, syscall.EPIPE, "the reader closed")
	_, err = w.Write([]byte("x"))
	wantErr(t, err, syscall.EPIPE)
	if err := w.Close(); err != nil {
		t.Errorf("closing the writer of a broken pipe: %v", err)
	}
}

// TestDeadlineProcess: a read with a deadline, from a writer process that
// is alive and writes nothing, ends at the deadline with
// os.ErrDeadlineExceeded; so does a write to a full ring that a live
// reader process does not drain. Neither end mistakes the silence for a
// death.
func TestDeadlineProcess(t *testing.T) {
	p, region := namedPipe(t, 4096)
	r, err := p.Reader()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "hold", region, "role=writer")
	c.expect("ready")
	start := time.Now()
	r.SetReadDeadline(start.Add(200 * time.Millisecond))
	_, err = r.Read(make([]byte, 1))
	wantErr(t, err, os.ErrDeadlineExceeded)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("Read returned %v after it began, before its deadline of 200ms", d)
	}
	c.kill()
	r.SetReadDeadline(time.Time{})
	_, err = r.Read(make([]byte, 1))
	wantErr(t, err, ErrPeerDead)

	p2, region2 := namedPipe(t, 4096)
	w, err := p2.Writer()
	if err != nil {
		t.Fatal(err)
	}
	c2 := startChild(t, "hold", region2, "role=reader")
	c2.expect("ready")
	if _, err := w.Write(pattern(0, 4096)); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	w.SetWriteDeadline(start.Add(200 * time.Millisecond))
	n, err := w.Write([]byte("more"))
	if n != 0 {
		t.Errorf("Write to a full ring wrote %d bytes", n)
	}
	wantErr(t, err, os.ErrDeadlineExceeded)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("Write returned %v after it began, before its deadline of 200ms", d)
	}
}
