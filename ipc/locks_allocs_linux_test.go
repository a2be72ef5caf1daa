package ipc

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestWaitsAllocateNothing: a Lock that finds the mutex held, and a Wait
// that finds the event lowered, sleep and return without allocating, in
// heap memory and in a named segment: a contended lock must not feed the
// garbage collector, nor touch new heap pages, whose faults cost as much
// as a hand-off.
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
	ev, err := CreateEvent(memRegion(ObjectSize(MaxParticipants)), 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	sleeping := func() bool { return atomic.LoadUint32(ev.o.sleepersAddr) != 0 }
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
