//go:build linux

package ipc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/shm"
)

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
