package ipc

import (
	"context"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// Event is a flag in shared memory that processes (and goroutines) wait
// for: the words of section 8.6 of docs/ipc-layout.md at an offset of a
// Region. [Event.Set] raises it and wakes the waiters; [Event.Wait]
// returns once it is raised.
//
// A manual-reset event stays set, and lets every waiter through, until
// [Event.Reset]. An auto-reset event lets one Wait through per Set: the
// Wait that returns lowers it again, and a Set with nobody waiting is
// kept for the next Wait. An event counts nothing: two Sets before a Wait
// let one Wait through. It has no owner: any handle may Set and Reset,
// and the death of a process changes nothing in it.
//
// An Event is safe for concurrent use. Close it when done.
type Event struct {
	o     *object
	state *uint32
	auto  bool
	try   try // isSet, bound once: a method value would allocate per Wait
}

// Event modes, in the event's mode word.
const (
	eventManual = 0
	eventAuto   = 1
)

// CreateEvent lays out a new event, not set, at offset off of r (a
// multiple of 8), auto-reset or manual-reset, and attaches this process
// to it; other processes join with [OpenEvent]. The [ObjectSize] bytes
// at off must be zeros.
//
// Options: [Participants], [ObjectLockFile]. The caller keeps r, which
// must stay open until the Event is closed.
func CreateEvent(r ioadapt.Region, off int64, autoReset bool, opts ...ObjectOption) (*Event, error) {
	o, err := createObject("createevent", r, off, kindEvent, newObjConfig(opts), eventInit(autoReset))
	if err != nil {
		return nil, err
	}
	return newEvent(o), nil
}

func eventInit(autoReset bool) func(b []byte) {
	return func(b []byte) {
		if autoReset {
			atomic.StoreUint32(u32(b, offEventMode), eventAuto)
		}
	}
}

// OpenEvent joins the event that [CreateEvent] laid out at offset off of
// r, with the checks and errors of [OpenMutex]. Options:
// [ObjectLockFile], [ObjectReadyTimeout].
func OpenEvent(r ioadapt.Region, off int64, opts ...ObjectOption) (*Event, error) {
	o, err := openObject("openevent", r, off, kindEvent, newObjConfig(opts))
	if err != nil {
		return nil, err
	}
	return newEvent(o), nil
}

// CreateNamedEvent creates a POSIX shared-memory segment of the given
// name that holds an event alone, as [CreateNamedMutex] does for a
// mutex. Options: [Participants].
func CreateNamedEvent(name string, autoReset bool, opts ...ObjectOption) (*Event, error) {
	o, err := namedObject("createevent", name, kindEvent, opts, eventInit(autoReset))
	if err != nil {
		return nil, err
	}
	return newEvent(o), nil
}

// OpenNamedEvent opens the segment of the given name and joins the event
// in it. Options: [ObjectReadyTimeout].
func OpenNamedEvent(name string, opts ...ObjectOption) (*Event, error) {
	o, err := namedObject("openevent", name, kindEvent, opts, nil)
	if err != nil {
		return nil, err
	}
	return newEvent(o), nil
}

func newEvent(o *object) *Event {
	e := &Event{o: o, state: u32(o.mem, offEventState), auto: o.param == eventAuto}
	e.try = e.isSet
	return e
}

// Name returns the name of the Region, as errors use it.
func (e *Event) Name() string { return e.o.name }

// AutoReset reports whether the event is auto-reset.
func (e *Event) AutoReset() bool { return e.auto }

// Set raises the event and wakes its waiters (of a manual-reset event:
// all of them; of an auto-reset one: one of them gets through). Setting
// a set event does nothing.
func (e *Event) Set() (err error) {
	defer e.o.guard("set", debug.SetPanicOnFault(true), &err, e.o.hold.Load())
	if e.o.closed.Load() {
		return e.o.closedErr("set")
	}
	atomic.StoreUint32(e.state, 1)
	e.o.wakeAll()
	return nil
}

// Reset lowers the event; Waits from then on wait for the next Set.
func (e *Event) Reset() (err error) {
	defer e.o.guard("reset", debug.SetPanicOnFault(true), &err, e.o.hold.Load())
	if e.o.closed.Load() {
		return e.o.closedErr("reset")
	}
	atomic.StoreUint32(e.state, 0)
	return nil
}

// IsSet reports whether the event is raised now; false after Close.
func (e *Event) IsSet() bool {
	var set bool
	_ = e.o.run("isset", func(b []byte) error { set = atomic.LoadUint32(u32(b, offEventState)) != 0; return nil })
	return set
}

// Wait returns once the event is set (and, for an auto-reset event, has
// lowered it), or when ctx is done, with an error matching ctx.Err(); a
// nil ctx waits for ever. Other errors wrap [fs.ErrClosed] (the handle
// was closed, even while Wait waited) or [ioadapt.ErrFault].
func (e *Event) Wait(ctx context.Context) error { return e.wait(ctx, 0) }

// WaitDeadline is [Event.Wait] that gives up at the deadline t, with an
// error wrapping [os.ErrDeadlineExceeded].
func (e *Event) WaitDeadline(t time.Time) error {
	return e.wait(context.Background(), clockAt(t))
}

func (e *Event) wait(ctx context.Context, dl int64) error {
	if e.o.closed.Load() {
		return e.o.closedErr("wait")
	}
	return e.o.await(ctx, dl, "wait", e.try)
}

// isSet is Wait's attempt: it finds the event set, and lowers it if it
// is an auto-reset event.
func (e *Event) isSet(b []byte, _ bool) (bool, int, error) {
	st := u32(b, offEventState)
	if e.auto {
		return atomic.CompareAndSwapUint32(st, 1, 0), watchNone, nil
	}
	return atomic.LoadUint32(st) != 0, watchNone, nil
}

// Close detaches the handle and frees its participant slot; a Wait in
// another goroutine returns an error wrapping [fs.ErrClosed]. A second
// Close returns one too.
func (e *Event) Close() error { return e.o.close(nil) }
