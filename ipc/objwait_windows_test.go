package ipc

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// TestObjectWaitEventNames: a waiter of an Event on Windows sleeps on its
// slot's named event, as section 9.3 of the layout names it, and a peer
// that follows the layout (stores event_state, then sets the event of
// the slot whose sleepers bit is raised) wakes every goroutine waiting
// on that handle.
func TestObjectWaitEventNames(t *testing.T) {
	mem := memRegion(ObjectSize(4))
	buf := mem.Bytes()
	setter, err := CreateEvent(mem, 0, false, Participants(4))
	if err != nil {
		t.Fatal(err)
	}
	defer setter.Close()
	var waiters [2]*Event
	errc := make(chan error, 8)
	for i := range waiters {
		if waiters[i], err = OpenEvent(mem, 0); err != nil {
			t.Fatal(err)
		}
		defer waiters[i].Close()
		for range 3 { // several goroutines of one handle
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			go func() { errc <- waiters[i].Wait(ctx) }()
		}
	}
	sleepers := func() uint32 { return atomic.LoadUint32(u32(buf, offEventSleepers)) }
	deadline := time.Now().Add(hang)
	for sleepers() != 0b110 {
		if time.Now().After(deadline) {
			t.Fatalf("sleepers mask %#b, want 0b110 (slots 1 and 2 waiting)", sleepers())
		}
		time.Sleep(time.Millisecond)
	}
	id := binary.LittleEndian.Uint64(buf[80:])
	ev := openWaitEvent(t, id, 256+128*1, "the event of slot 1")
	// What a peer does: the state first, then the event. Only slot 1's:
	// the handle must pass the one wake of its event on to all three of
	// its goroutines.
	atomic.StoreUint32(u32(buf, offEventState), 1)
	if err := windows.SetEvent(ev); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 3 {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("a waiter of slot 1, woken through its named event: %v", err)
			}
		case <-time.After(hang):
			t.Fatalf("the waiters of slot 1 still sleep %v after their event was set", hang)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("slot 1's waiters took %v to wake: the event did not wake them, their re-check did", d)
	}
	// Slot 2 was not woken: it finds the state at its own re-check (1 s).
	for range 3 {
		if err := <-errc; err != nil {
			t.Errorf("a waiter of slot 2: %v", err)
		}
	}
}

// TestObjectWaitIDZero: on Windows an object whose header has wait_id 0
// (a creator of layout 1.1) cannot be joined: its waiters could not name
// their events. The error names the field.
func TestObjectWaitIDZero(t *testing.T) {
	mem := memRegion(ObjectSize(2))
	m, err := CreateMutex(mem, 0, Participants(2))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	binary.LittleEndian.PutUint64(mem.Bytes()[80:], 0)
	_, err = OpenMutex(mem, 0)
	wantErr(t, err, ErrInvalidHeader, "wait_id 0")
}
