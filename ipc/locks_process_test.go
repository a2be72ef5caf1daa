//go:build linux || windows

package ipc

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// TestMutexProcesses: processes increment a plain counter in the
// shared memory under the mutex, with loads and stores that are not
// atomic; the total is exact.
func TestMutexProcesses(t *testing.T) {
	seg, name, m := segMutex(t)
	const procs, each = 6, 3000
	var cmds []*exec.Cmd
	for range procs {
		cmds = append(cmds, testkit.Command("mutex-count", lockSegEnv+"="+name, lockArgsEnv+"=n="+strconv.Itoa(each), noExitSleep))
	}
	done := countUnder(m, seg.Bytes(), each) // this process takes part too
	if err := testkit.RunAll(cmds); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkCount(t, m, seg.Bytes(), procs+1, each)
}

// checkCount checks that the counter at offGuarded of b, under m, is
// procs*each.
func checkCount(t *testing.T, m *Mutex, b []byte, procs, each int) {
	t.Helper()
	if err := m.Lock(); err != nil {
		t.Fatal(err)
	}
	got := *u64(b, offGuarded)
	m.Unlock()
	if want := uint64(procs * each); got != want {
		t.Fatalf("counter %d after %d processes of %d increments, want %d", got, procs, each, want)
	}
}

// countUnder increments the counter at offGuarded of b n times under m,
// in a goroutine, and sends the first error (or nil) when done.
func countUnder(m *Mutex, b []byte, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		for range n {
			if err := m.Lock(); err != nil {
				done <- err
				return
			}
			*u64(b, offGuarded) += 1
			if err := m.Unlock(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// TestMutexOwnerDeath: a process killed while it holds the mutex; the
// Lock waiting in this process takes it with ErrOwnerDead within the
// liveness bound, and, once marked consistent, the mutex works on.
func TestMutexOwnerDeath(t *testing.T) {
	_, name, m := segMutex(t)
	c := startLockChild(t, "mutex-hold", name, "")
	c.expect("locked")
	if ok, err := m.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of a mutex a live process holds: %v %v", ok, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- m.Lock() }()
	time.Sleep(20 * time.Millisecond) // let it sleep
	killed := time.Now()
	pid := strconv.Itoa(c.pid())
	c.kill()
	var got error
	select {
	case got = <-errc:
	case <-time.After(hang):
		t.Fatalf("Lock still blocked %v after the holder's SIGKILL", hang)
	}
	d := time.Since(killed)
	t.Logf("ErrOwnerDead %v after the holder's SIGKILL", d)
	wantErr(t, got, ErrOwnerDead, "pid "+pid, "died")
	if d > livenessBound {
		t.Errorf("the waiter woke %v after the death, past %v", d, livenessBound)
	}
	if err := m.MarkConsistent(); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	c2 := startLockChild(t, "mutex-hold", name, "")
	c2.expect("locked")
	c2.kill()
	// Nobody waited: the next Lock finds the dead holder itself.
	wantErr(t, m.Lock(), ErrOwnerDead, "pid "+strconv.Itoa(c2.pid()))
	wantErr(t, m.Unlock(), ErrNotRecoverable, "without MarkConsistent")
	// A process that comes later is refused too.
	out, err := testkit.Command("mutex-hold", lockSegEnv+"="+name, noExitSleep).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot be locked again") {
		t.Fatalf("a process locking the unrecoverable mutex: %v: %s", err, out)
	}
}

// TestSemaphoreProcessDeath: the permits of a killed process go back to
// the count, and a waiter gets them.
func TestSemaphoreProcessDeath(t *testing.T) {
	seg, name := lockSeg(t)
	s, err := CreateSemaphore(seg, 0, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := startLockChild(t, "sem-hold", name, "n=2")
	c.expect("acquired")
	if ok, err := s.TryAcquire(2); ok || err != nil {
		t.Fatalf("TryAcquire(2) with 1 available: %v %v", ok, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Acquire(context.Background(), 3) }()
	time.Sleep(20 * time.Millisecond)
	killed := time.Now()
	c.kill()
	select {
	case err = <-errc:
	case <-time.After(hang):
		t.Fatalf("Acquire still blocked %v after the holder's SIGKILL", hang)
	}
	t.Logf("the dead holder's permits acquired %v after its SIGKILL", time.Since(killed))
	if err != nil {
		t.Fatal(err)
	}
	if s.Held() != 3 || s.Available() != 0 {
		t.Fatalf("held %d, available %d, want 3 and 0", s.Held(), s.Available())
	}
	if err := s.Release(3); err != nil {
		t.Fatal(err)
	}
	if s.Available() != 3 {
		t.Fatalf("available %d after the release, want 3", s.Available())
	}
}

// TestSemaphoreRescueUnderWakes: the permit of a killed process comes
// back to a waiter that other wake-ups keep from ever sleeping out its
// re-check interval: a process releasing every millisecond wakes it far
// more often than every 50 ms. The waiter must still find the dead
// holder's permit on time, not only once the wake-ups stop.
func TestSemaphoreRescueUnderWakes(t *testing.T) {
	seg, name := lockSeg(t)
	s, err := CreateSemaphore(seg, 0, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	holder := startLockChild(t, "sem-hold", name, "n=1")
	holder.expect("acquired")
	startLockChild(t, "sem-tick", name, "").expect("ticking")
	errc := make(chan error, 1)
	go func() { errc <- s.AcquireDeadline(time.Now().Add(10*time.Second), 2) }()
	// Kill the holder once the Acquire sleeps, so that only a waiter's
	// re-check can find the death.
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		s.o.mu.Lock()
		n := s.o.sleeping
		s.o.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Since(start) > hang {
			t.Fatalf("the Acquire did not sleep within %v", hang)
		}
	}
	killed := time.Now()
	holder.kill()
	err = <-errc
	d := time.Since(killed)
	t.Logf("the Acquire of the dead holder's permit returned %v after its SIGKILL, under a release every millisecond", d)
	if err != nil {
		t.Fatal(err)
	}
	// The doc promises 50 ms; the bound leaves room for a busy machine.
	if bound := 2 * time.Second; d > bound {
		t.Errorf("the waiter took %v to get the dead holder's permit, past %v", d, bound)
	}
	if s.Held() != 2 {
		t.Errorf("held %d, want 2", s.Held())
	}
}

// TestEventProcesses: a process waiting on an auto-reset event wakes
// once per Set.
func TestEventProcesses(t *testing.T) {
	seg, name := lockSeg(t)
	e, err := CreateEvent(seg, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := startLockChild(t, "event-wait", name, "n=3")
	c.expect("ready")
	for range 3 {
		if err := e.Set(); err != nil {
			t.Fatal(err)
		}
		c.expect("woken")
		// The Wait lowered it: wait until the child is back asleep.
		for atomic.LoadUint32(u32(seg.Bytes(), offEventState)) != 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}
