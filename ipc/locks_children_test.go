//go:build linux || windows

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

// The processes of the cross-process tests of the Mutex, Semaphore and
// Event: the test binary re-run through testkit, with the segment's name
// and the job's parameters in the environment. They report on standard
// output, one line per event.
const (
	lockSegEnv  = "MMAPKIT_LOCKS_SEGMENT" // the shm segment's name
	lockArgsEnv = "MMAPKIT_LOCKS_ARGS"    // key=value,...
)

// The layout of a test segment: the object at 0, the data it guards
// past it.
const (
	lockSegSize  = 3 * 4096
	offGuarded   = 8192 // a counter, a u64 the mutex guards
	offInside    = 8200 // the pid of the child inside its critical section, or 0
	offViolation = 8208 // set by a child that saw the object break its promise
)

var lockJobs = testkit.Jobs{
	// Lock the mutex, say "locked" (or "ownerdead"), then hold it until
	// killed.
	"mutex-hold": func() error {
		seg, m, err := jobObject(OpenMutex)
		if err != nil {
			return err
		}
		defer seg.Close()
		err = m.Lock()
		switch {
		case errors.Is(err, ErrOwnerDead):
			fmt.Println("ownerdead")
		case err != nil:
			return err
		default:
			fmt.Println("locked")
		}
		sleepForever()
		return nil
	},
	// Increment the guarded counter n times under the mutex, with a
	// plain load and store, then exit; with at=T (Unix ns), from T on,
	// so that the processes of a test contend.
	"mutex-count": func() error {
		seg, m, err := jobObject(OpenMutex)
		if err != nil {
			return err
		}
		defer seg.Close()
		defer m.Close()
		n := jobArgs().int("n")
		b := seg.Bytes()
		fmt.Println("ready")
		time.Sleep(time.Until(time.Unix(0, int64(jobArgs().int("at")))))
		for range n {
			if err := m.Lock(); err != nil {
				return err
			}
			p := (*uint64)(u64(b, offGuarded))
			*p++ // not atomic: the mutex is what makes it safe
			if err := m.Unlock(); err != nil {
				return err
			}
		}
		return nil
	},
	// Lock and unlock for ever, marking the critical section, until
	// killed; an ErrOwnerDead is repaired (MarkConsistent) and told.
	"mutex-churn": func() error {
		seg, m, err := jobObject(OpenMutex)
		if err != nil {
			return err
		}
		defer seg.Close()
		b := seg.Bytes()
		inside := u64(b, offInside)
		pid := uint64(os.Getpid())
		fmt.Println("ready")
		for i := 0; ; i++ {
			err := m.Lock()
			if errors.Is(err, ErrOwnerDead) {
				fmt.Println("ownerdead")
				atomic.StoreUint64(inside, 0)
				err = m.MarkConsistent()
			}
			if err != nil {
				return err
			}
			atomic.StoreUint64(inside, pid)
			if i%16 == 0 {
				time.Sleep(time.Duration(i%5) * 10 * time.Microsecond)
			}
			atomic.StoreUint64(inside, 0)
			if err := m.Unlock(); err != nil {
				return err
			}
		}
	},
	// Acquire and release random counts for ever, checking that the
	// permits held by everybody never pass the maximum, until killed.
	"sem-churn": func() error {
		seg, s, err := jobObject(OpenSemaphore)
		if err != nil {
			return err
		}
		defer seg.Close()
		a := jobArgs()
		b := seg.Bytes()
		inUse := u64(b, offGuarded)
		fmt.Println("ready")
		for i := 0; ; i++ {
			n := 1 + (i*7+a.int("seed"))%min(3, s.Max())
			if err := s.Acquire(context.Background(), n); err != nil {
				return err
			}
			if v := atomic.AddUint64(inUse, uint64(n)); v > uint64(s.Max()) {
				atomic.StoreUint64(u64(b, offViolation), v)
			}
			atomic.AddUint64(inUse, ^uint64(n-1))
			if err := s.Release(n); err != nil {
				return err
			}
		}
	},
	// Acquire n permits, say "acquired", hold them until killed.
	"sem-hold": func() error {
		seg, s, err := jobObject(OpenSemaphore)
		if err != nil {
			return err
		}
		defer seg.Close()
		if err := s.Acquire(context.Background(), jobArgs().int("n")); err != nil {
			return err
		}
		fmt.Println("acquired")
		sleepForever()
		return nil
	},
	// Acquire 1 permit and release it again every millisecond, saying
	// "ticking" after the first, until killed: each Release wakes the
	// semaphore's sleepers.
	"sem-tick": func() error {
		seg, s, err := jobObject(OpenSemaphore)
		if err != nil {
			return err
		}
		defer seg.Close()
		for i := 0; ; i++ {
			if err := s.Acquire(context.Background(), 1); err != nil {
				return err
			}
			if err := s.Release(1); err != nil {
				return err
			}
			if i == 0 {
				fmt.Println("ticking")
			}
			time.Sleep(time.Millisecond)
		}
	},
	// Wait for the event, say "woken", n times.
	"event-wait": func() error {
		seg, e, err := jobObject(OpenEvent)
		if err != nil {
			return err
		}
		defer seg.Close()
		fmt.Println("ready")
		for range max(1, jobArgs().int("n")) {
			if err := e.Wait(context.Background()); err != nil {
				return err
			}
			fmt.Println("woken")
		}
		return e.Close()
	},
}

// jobObject opens the test segment and the object at its start with
// open (OpenMutex, OpenSemaphore, OpenEvent). The segment is named by
// lockSegEnv, or is the anonymous one at descriptor N for "fd:N".
func jobObject[T any](open func(r ioadapt.Region, off int64, opts ...ObjectOption) (T, error)) (*shm.Segment, T, error) {
	var zero T
	seg, err := jobSegment(os.Getenv(lockSegEnv))
	if err != nil {
		return nil, zero, err
	}
	o, err := open(seg, 0)
	if err != nil {
		seg.Close()
		return nil, zero, err
	}
	return seg, o, nil
}

func jobSegment(spec string) (*shm.Segment, error) {
	if !strings.HasPrefix(spec, "fd:") {
		return shm.Open(spec)
	}
	r, err := openRegion(spec)
	if err != nil {
		return nil, err
	}
	return r.(*shm.Segment), nil
}

func jobArgs() childArgs { return envArgs(lockArgsEnv) }

// segMutex makes a test segment with a mutex at its start; both are
// closed, and the name removed, when the test ends.
func segMutex(t testing.TB) (*shm.Segment, string, *Mutex) {
	t.Helper()
	seg, name := lockSeg(t)
	m, err := CreateMutex(seg, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return seg, name, m
}

// lockSeg makes a test segment, removed when the test ends.
func lockSeg(t testing.TB) (*shm.Segment, string) {
	t.Helper()
	name := segName(t)
	s, err := shm.Create(name, lockSegSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, name
}

// startLockChild runs the test binary as a process doing one of
// lockJobs on the segment seg, with args (key=value,...).
func startLockChild(t testing.TB, job, seg, args string) *child {
	t.Helper()
	return runChildCmd(t, testkit.Command(job, lockSegEnv+"="+seg, lockArgsEnv+"="+args, noExitSleep))
}
