//go:build linux

// The fault scenarios of the Mutex and the Semaphore: holders killed at
// random points, inside the critical section, inside Lock and inside
// Unlock, inside Acquire and Release. make test runs a few rounds of
// each; make test-faults (the faults tag) runs hundreds, and each
// scenario logs "faults: runs=N failures=F" for the suite's table.

package ipc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/faulttest"
	"github.com/mmapkit/mmapkit/shm"
)

// roundSeg makes a test segment for one round and a cleanup that removes
// it at once.
func roundSeg() (*shm.Segment, string, func(), error) {
	name := fmt.Sprintf("%s%d", testPrefix, nameSeq.Add(1))
	s, err := shm.Create(name, lockSegSize)
	if err != nil {
		return nil, "", nil, err
	}
	return s, name, func() { s.Close(); shm.Unlink(name) }, nil
}

// TestFaultKillMutexHolder kills a process that locks and unlocks the
// mutex in a loop, at a random moment. The next Lock gets the mutex with
// ErrOwnerDead when, and only when, the dead process held it: its slot
// was in the lock word when it died (and it always is when the process
// died inside its critical section). In half the rounds this process
// is already waiting in Lock when the holder dies, and must wake within
// the liveness bound.
func TestFaultKillMutexHolder(t *testing.T) {
	ty := faulttest.New(t)
	var lat latencies
	var held, free int
	for round := range faultRounds {
		ty.Round(killMutexRound(t, round, &lat, &held, &free))
	}
	lat.log(t, "a waiting Lock returned after the holder's SIGKILL")
	t.Logf("the holder died holding the mutex in %d rounds, not holding it in %d", held, free)
}

func killMutexRound(t *testing.T, round int, lat *latencies, held, free *int) error {
	seg, name, cleanup, err := roundSeg()
	if err != nil {
		return err
	}
	defer cleanup()
	m, err := CreateMutex(seg, 0)
	if err != nil {
		return err
	}
	defer m.Close()
	c := startLockChild(t, "mutex-churn", name, "")
	if s := c.line(); s != "ready" {
		return fmt.Errorf("child: %q", s)
	}
	b := seg.Bytes()
	waiting := round%2 == 1
	errc := make(chan error, 1)
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
	if waiting {
		go func() { errc <- m.Lock() }()
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	}
	killed := time.Now()
	c.kill()
	inside := atomic.LoadUint64(u64(b, offInside)) != 0
	if !waiting {
		// Nobody else touches the mutex now: its lock word is the one
		// the process left.
		w := atomic.LoadUint64(u64(b, offMutexLock))
		if inside && w == 0 {
			return fmt.Errorf("the holder died inside its critical section, and the lock word is 0")
		}
		err = m.Lock()
		if w != 0 {
			*held++
			if !errors.Is(err, ErrOwnerDead) {
				return fmt.Errorf("lock word %#x named the dead process, and Lock returned %v, want ErrOwnerDead", w, err)
			}
		} else {
			*free++
			if err != nil {
				return fmt.Errorf("the dead process did not hold the mutex, and Lock returned %v", err)
			}
		}
	} else {
		select {
		case err = <-errc:
		case <-time.After(hang):
			return fmt.Errorf("Lock still blocked %v after the holder's SIGKILL", hang)
		}
		d := time.Since(killed)
		*lat = append(*lat, d)
		if d > livenessBound {
			return fmt.Errorf("Lock returned %v after the holder's SIGKILL, past the bound %v", d, livenessBound)
		}
		switch {
		case errors.Is(err, ErrOwnerDead):
			*held++
		case err == nil:
			*free++
			if inside {
				return fmt.Errorf("the holder died inside its critical section, and Lock returned without ErrOwnerDead")
			}
		default:
			return fmt.Errorf("Lock: %v", err)
		}
	}
	if errors.Is(err, ErrOwnerDead) {
		if err := m.MarkConsistent(); err != nil {
			return err
		}
	}
	return m.Unlock()
}

// TestFaultKillSemaphoreHolders runs processes that acquire and release
// permits in a loop and kills them all at a random moment, each at its
// own point of Acquire, Release or the time between. The permits they held at any instant never passed the maximum,
// and once they are dead every permit is back: this process acquires the
// maximum within the liveness bound, and not one more.
func TestFaultKillSemaphoreHolders(t *testing.T) {
	ty := faulttest.New(t)
	var lat latencies
	for round := range max(4, faultRounds/4) {
		ty.Round(killSemaphoreRound(t, round, &lat))
	}
	lat.log(t, "every permit back after the last holder's SIGKILL")
}

func killSemaphoreRound(t *testing.T, round int, lat *latencies) error {
	seg, name, cleanup, err := roundSeg()
	if err != nil {
		return err
	}
	defer cleanup()
	const most = 3
	s, err := CreateSemaphore(seg, 0, most, most)
	if err != nil {
		return err
	}
	defer s.Close()
	var cs []*child
	for i := range 3 {
		c := startLockChild(t, "sem-churn", name, fmt.Sprintf("seed=%d", round*3+i))
		if l := c.line(); l != "ready" {
			return fmt.Errorf("child: %q", l)
		}
		cs = append(cs, c)
	}
	// All at once, so that no survivor takes the permits of one that
	// died between its count of permits in use and its Release: that
	// count (offGuarded) would then hold permits nobody holds.
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	for _, c := range cs {
		c.cmd.Process.Signal(syscall.SIGKILL)
	}
	for _, c := range cs {
		c.cmd.Wait()
	}
	killed := time.Now()
	b := seg.Bytes()
	if v := atomic.LoadUint64(u64(b, offViolation)); v != 0 {
		return fmt.Errorf("the holders saw %d permits held at once, past the maximum %d", v, most)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := s.Acquire(ctx, most); err != nil {
		return fmt.Errorf("acquiring the %d permits after every holder died: %v (available %d)", most, err, s.Available())
	}
	d := time.Since(killed)
	*lat = append(*lat, d)
	if d > livenessBound {
		return fmt.Errorf("the permits came back %v after the deaths, past the bound %v", d, livenessBound)
	}
	if ok, err := s.TryAcquire(1); ok || err != nil {
		return fmt.Errorf("a permit past the maximum: TryAcquire(1) = %v, %v", ok, err)
	}
	return s.Release(most)
}
