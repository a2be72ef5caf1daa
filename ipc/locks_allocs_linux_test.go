package ipc

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestWaitsAllocateNothing: a Lock that finds the mutex held, an Acquire
// that finds no permit and a Wait that finds the event lowered sleep and
// return without allocating (the mutex in heap memory and in a named
// segment): a contended lock must not feed the garbage collector, nor
// touch new heap pages, whose faults cost as much as a hand-off.
func TestWaitsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	named, err := CreateNamedMutex(segName(t))
	if err != nil {
		t.Fatal(err)
	}
	defer named.Close()
	other, err := OpenNamedMutex(named.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	heap := memMutex(t, 2)
	for name, pair := range map[string][2]*Mutex{"heap": {heap[0], heap[1]}, "named": {named, other}} {
		holder, waiter := pair[0], pair[1]
		sleeping := func() bool { return atomic.LoadUint32(holder.o.sleepersAddr)&waiter.o.bit != 0 }
		handOff(t, "mutex "+name, sleeping,
			func() error { return holder.Lock() }, holder.Unlock,
			func() error {
				if err := waiter.Lock(); err != nil {
					return err
				}
				return waiter.Unlock()
			})
	}
	sems := memSemaphore(t, 1, 1, 2)
	sleeping := func() bool { return atomic.LoadUint32(sems[0].o.sleepersAddr)&sems[1].o.bit != 0 }
	handOff(t, "semaphore", sleeping,
		func() error { return sems[0].Acquire(context.Background(), 1) },
		func() error { return sems[0].Release(1) },
		func() error {
			if err := sems[1].Acquire(context.Background(), 1); err != nil {
				return err
			}
			return sems[1].Release(1)
		})
	ev, err := CreateEvent(memRegion(ObjectSize(MaxParticipants)), 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	sleeping = func() bool { return atomic.LoadUint32(ev.o.sleepersAddr) != 0 }
	handOff(t, "auto-reset event", sleeping, func() error { return nil }, ev.Set,
		func() error { return ev.Wait(context.Background()) })
}

// handOff measures the allocations of rounds in which hold runs, then
// wait runs in another goroutine and sleeps (sleeping reports it), then
// release ends its sleep.
func handOff(t *testing.T, name string, sleeping func() bool, hold, release, wait func() error) {
	t.Helper()
	turn, back := make(chan struct{}), make(chan error)
	defer close(turn)
	go func() {
		for range turn {
			back <- wait()
		}
	}()
	failed := false
	round := func() {
		if failed {
			return
		}
		if err := hold(); err != nil {
			t.Errorf("%s: %v", name, err)
			failed = true
			return
		}
		turn <- struct{}{}
		for !sleeping() {
			runtime.Gosched()
		}
		err := release()
		if werr := <-back; err == nil {
			err = werr
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			failed = true
		}
	}
	round() // the first wait makes the handle's wait state and watch
	if a := testing.AllocsPerRun(100, round); a != 0 && !failed {
		t.Errorf("%s: %.1f allocations per round of a hold, a sleeping wait and a release", name, a)
	}
}

// TestCallsAllocateNothing: the calls that do not wait allocate nothing
// either, so that a semaphore used as a limiter in a loop, or a mutex
// taken and given back, feeds no garbage collection.
func TestCallsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	sem := memSemaphore(t, 2, 2, 1)[0]
	m := memMutex(t, 1)[0]
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"Semaphore Acquire+Release", func() error {
			if err := sem.Acquire(context.Background(), 1); err != nil {
				return err
			}
			return sem.Release(1)
		}},
		{"Semaphore TryAcquire+Release", func() error {
			if ok, err := sem.TryAcquire(2); !ok || err != nil {
				return fmt.Errorf("TryAcquire(2) of 2: %v, %v", ok, err)
			}
			return sem.Release(2)
		}},
		{"Mutex TryLock+Unlock", func() error {
			if ok, err := m.TryLock(); !ok || err != nil {
				return fmt.Errorf("TryLock of a free mutex: %v, %v", ok, err)
			}
			return m.Unlock()
		}},
	} {
		var err error
		n := testing.AllocsPerRun(100, func() {
			if e := c.call(); e != nil && err == nil {
				err = e
			}
		})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		} else if n != 0 {
			t.Errorf("%s: %v allocations", c.name, n)
		}
	}
}
