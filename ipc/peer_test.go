//go:build linux

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

	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// deathBound is what a test allows between a peer's SIGKILL and the
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
				t.Fatalf("Read still blocked %v after the writer's SIGKILL", deathBound)
			}
			t.Logf("ErrPeerDead %v after SIGKILL", time.Since(killed))
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
				t.Fatalf("Write still blocked %v after the reader's SIGKILL", deathBound)
			}
			t.Logf("ErrPeerDead %v after SIGKILL", time.Since(killed))
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

// TestInheritedSegment: a writer whose child inherited the segment's
// descriptor dies; the child's descriptor is another open file
// description, so it holds no lock of the writer's, and the reader still
// learns of the death.
func TestInheritedSegment(t *testing.T) {
	p, region := namedPipe(t, 4096)
	r, err := p.Reader()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "hold", region, "role=writer,fork=1")
	c.expect("ready")
	line := c.expect("forked")
	gpid, _ := strconv.Atoi(strings.TrimPrefix(line, "forked "))
	defer syscall.Kill(gpid, syscall.SIGKILL)
	errc := make(chan error, 1)
	go func() { _, err := r.Read(make([]byte, 1)); errc <- err }()
	c.kill()
	select {
	case err = <-errc:
	case <-time.After(deathBound):
		t.Fatalf("Read still blocked %v after the writer died, its child alive", deathBound)
	}
	wantErr(t, err, ErrPeerDead)
	if err := syscall.Kill(gpid, 0); err != nil {
		t.Fatalf("the writer's child is gone too (%v): the test proves nothing", err)
	}
}

// TestMemfdPeer: a pipe in an anonymous segment, handed to the child as a
// descriptor: the child maps it, reads the stream, and the death of a
// writer holding the end is seen through the memfd's locks.
func TestMemfdPeer(t *testing.T) {
	s, err := shm.CreateAnonymous(PipeSize(1 << 14))
	if err != nil {
		t.Skipf("no memfd here: %v", err)
	}
	defer s.Close()
	p, err := CreatePipe(s)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f, err := s.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := p.Writer()
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "read", "fd:3", "from=0", f)
	c.expect("ready")
	if _, err := w.Write(pattern(0, 200000)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := c.line(); got != "read 200000 EOF" {
		t.Fatalf("child says %q", got)
	}
	c.wait()
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

// TestSlotWithoutLocks: in a region without a file, a slot's owner is
// alive while its pid has a process with its start time; a zombie is
// dead.
func TestSlotWithoutLocks(t *testing.T) {
	id, err := self()
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if !pidAlive(peerSnap{word: owner(slotAttached, 1, id.pid), start: id.start, pidNS: id.pidNS}) {
		t.Error("this process is not alive")
	}
	if pidAlive(peerSnap{word: owner(slotAttached, 1, id.pid), start: id.start + 1, pidNS: id.pidNS}) {
		t.Error("a process with another start time is alive: pid reuse goes unseen")
	}
	if !pidAlive(peerSnap{word: owner(slotAttached, 1, 1<<22+7), start: 1, pidNS: id.pidNS + 1}) {
		t.Error("a process of another PID namespace is dead: it cannot be told")
	}
	c := startChild(t, "sleep", "", "")
	cpid := c.pid()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Not reaped yet: a zombie, with its start time still in /proc.
	deadline := time.Now().Add(hang)
	for {
		if st, state, err := procState(cpid); err == nil && state == 'Z' {
			if pidAlive(peerSnap{word: owner(slotAttached, 1, cpid), start: st, pidNS: id.pidNS}) {
				t.Error("a zombie is alive")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed child never became a zombie")
		}
		time.Sleep(time.Millisecond)
	}
	c.cmd.Wait()
	if pidAlive(peerSnap{word: owner(slotAttached, 1, cpid), start: 1, pidNS: id.pidNS}) {
		t.Error("a reaped process is alive")
	}
}

func procState(pid int) (uint64, byte, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	st, err := strconv.ParseUint(f[19], 10, 64)
	return st, f[0][0], err
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
