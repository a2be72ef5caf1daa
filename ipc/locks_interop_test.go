//go:build linux

package ipc

import (
	"bufio"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// lockPeers builds the C peer of the locks and finds Python.
func lockPeers(t *testing.T) []peer { return buildPeers(t, "locks") }

// startPeer runs a peer of the locks and returns its lines of output.
func startPeer(t *testing.T, p peer, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := p.command(args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewReader(out)
}

// expectLine fails unless the next line of r is want, within hang.
func expectLine(t *testing.T, who string, r *bufio.Reader, want string) {
	t.Helper()
	got := make(chan string, 1)
	go func() { s, _ := r.ReadString('\n'); got <- strings.TrimSpace(s) }()
	select {
	case s := <-got:
		if s != want {
			t.Fatalf("%s said %q, want %q", who, s, want)
		}
	case <-time.After(hang):
		t.Fatalf("%s said nothing for %v", who, hang)
	}
}

// TestLocksInterop: the C and Python peers, Go processes and this one
// take turns on one Mutex, incrementing a plain counter, to the exact
// total; a peer killed holding the Mutex or permits of a Semaphore is
// seen by Go as ErrOwnerDead, or its permits come back; a peer recovers
// a Mutex whose Go holder was killed.
func TestLocksInterop(t *testing.T) {
	peers := lockPeers(t)
	t.Run("counter", func(t *testing.T) {
		seg, name, m := segMutex(t)
		path := "/dev/shm/" + name
		total := 0
		var cmds []*exec.Cmd
		for _, p := range peers {
			n := 3000
			if p.name == "Python" {
				n = 500
			}
			cmds = append(cmds, p.command("count", path, strconv.Itoa(n)))
			total += n
		}
		for range 2 {
			cmds = append(cmds, testkit.Command("mutex-count", lockSegEnv+"="+name, lockArgsEnv+"=n=3000", noExitSleep))
			total += 3000
		}
		done := countUnder(m, seg.Bytes(), 3000)
		total += 3000
		if err := testkit.RunAll(cmds); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		m.Lock()
		got := *u64(seg.Bytes(), offGuarded)
		m.Unlock()
		if got != uint64(total) {
			t.Fatalf("counter %d, want %d", got, total)
		}
	})
	for _, p := range peers {
		t.Run(p.name+" holder killed", func(t *testing.T) {
			_, name, m := segMutex(t)
			cmd, out := startPeer(t, p, "hold", "/dev/shm/"+name)
			expectLine(t, p.name, out, "locked")
			errc := make(chan error, 1)
			go func() { errc <- m.Lock() }()
			time.Sleep(20 * time.Millisecond)
			killed := time.Now()
			cmd.Process.Signal(syscall.SIGKILL)
			var got error
			select {
			case got = <-errc:
			case <-time.After(hang):
				t.Fatalf("Lock still blocked %v after the %s holder's SIGKILL", hang, p.name)
			}
			t.Logf("ErrOwnerDead %v after the SIGKILL", time.Since(killed))
			wantErr(t, got, ErrOwnerDead, "pid "+strconv.Itoa(cmd.Process.Pid), "died")
			if err := m.MarkConsistent(); err != nil {
				t.Fatal(err)
			}
			m.Unlock()
		})
		t.Run(p.name+" recovers from Go", func(t *testing.T) {
			_, name, m := segMutex(t)
			c := startLockChild(t, "mutex-hold", name, "")
			c.expect("locked")
			cmd, out := startPeer(t, p, "count", "/dev/shm/"+name, "1")
			time.Sleep(20 * time.Millisecond)
			c.kill()
			expectLine(t, p.name, out, "ownerdead")
			expectLine(t, p.name, out, "done")
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			if err := m.Lock(); err != nil {
				t.Fatalf("Lock after the %s peer repaired and unlocked: %v", p.name, err)
			}
			m.Unlock()
		})
		t.Run(p.name+" permits killed", func(t *testing.T) {
			seg, name := lockSeg(t)
			s, err := CreateSemaphore(seg, 0, 3, 3)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			cmd, out := startPeer(t, p, "acquire", "/dev/shm/"+name, "2")
			expectLine(t, p.name, out, "acquired")
			if ok, err := s.TryAcquire(2); ok || err != nil {
				t.Fatalf("TryAcquire(2) while the %s peer holds 2 of 3: %v %v", p.name, ok, err)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			if err := s.Acquire(ctx, 3); err != nil {
				t.Fatalf("Acquire(3) after the %s holder's death: %v", p.name, err)
			}
			s.Release(3)
		})
	}
}
