//go:build windows

package ipc

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// objWait is how a handle of a Mutex, Semaphore or Event sleeps and wakes
// on Windows (section 9.3 of the layout). An object has many sleepers,
// in many processes and many goroutines of a handle, and a named
// auto-reset event holds one wake: so every participant slot has its own
// event, named after the slot's offset, and a waker sets the events of
// the slots whose bits are raised in the sleepers mask. In the handle,
// one goroutine (the pump) waits on the slot's event while any of the
// handle's goroutines sleeps, and broadcasts each wake to them by closing
// a channel.
//
// No wake is lost: a sleeper arms (reads the broadcast count) before it
// tries the operation; a waker that changed what the sleeper tries sees
// its bit (the Dekker pair of section 8.3) and sets the event after the
// sleeper armed; the event keeps that wake until the pump takes it, and
// the pump's broadcast then ends the sleep of every goroutine armed
// before it, or finds it not yet asleep, in which case sleep sees the
// count moved and returns at once.
type objWait struct {
	id   uint64
	stop windows.Handle // unnamed auto-reset event: the pump looks whether it should end

	mu       sync.Mutex                      // guards what follows
	own      int                             // our slot's index; -1 before attach
	evs      [MaxParticipants]windows.Handle // evs[i]: slot i's event, opened at the first wake of it (ours at attach)
	gen      uint64                          // broadcasts so far
	ch       chan struct{}                   // closed by the next broadcast
	sleeping int                             // goroutines in sleep
	pump     chan struct{}                   // closed when the pump has ended; nil: no pump
	closed   bool
}

func openObjWait(id uint64) (*objWait, error) {
	if id == 0 {
		return nil, detail(ErrInvalidHeader, "wait_id 0 (offset %d): the creator named no wait events, which Windows needs (layout 1.2)", offWaitID)
	}
	stop, err := windows.CreateEvent(nil, 0, 0, nil)
	if err != nil {
		return nil, os.NewSyscallError("CreateEvent", err)
	}
	return &objWait{id: id, stop: stop, own: -1, ch: make(chan struct{})}, nil
}

// slotEvent opens, creating it if need be, the event of the slot at
// offset off.
func (w *objWait) slotEvent(off int) (windows.Handle, error) {
	name := waitName(w.id, off)
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	h, err := windows.CreateEvent(nil, 0, 0, p)
	if err != nil && err != windows.ERROR_ALREADY_EXISTS {
		return 0, fmt.Errorf("wait event %s: %w", name, os.NewSyscallError("CreateEvent", err))
	}
	return h, nil
}

func (w *objWait) attach(i int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.evs[i] == 0 {
		h, err := w.slotEvent(objSlotOff(i))
		if err != nil {
			return err
		}
		w.evs[i] = h
	}
	w.own = i
	return nil
}

func (w *objWait) close() {
	w.mu.Lock()
	w.closed = true
	pump := w.pump
	if pump != nil {
		_ = windows.SetEvent(w.stop)
	}
	w.mu.Unlock()
	if pump != nil {
		<-pump
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, h := range w.evs {
		if h != 0 {
			windows.CloseHandle(h)
			w.evs[i] = 0
		}
	}
	if w.stop != 0 {
		windows.CloseHandle(w.stop)
		w.stop = 0
	}
}

func (w *objWait) arm() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen
}

// broadcast ends the sleep of every goroutine armed before it; the
// caller holds mu.
func (w *objWait) broadcast() {
	w.gen++
	close(w.ch)
	w.ch = make(chan struct{})
}

// sleep does not read the seq word (it would have to outside Access):
// every change that matters is followed by a wake, which the slot's
// event keeps until the pump takes it.
func (w *objWait) sleep(_ *uint32, _ uint32, armed uint64, until int64) (timedOut bool, err error) {
	w.mu.Lock()
	if w.closed || w.own < 0 {
		w.mu.Unlock()
		return false, os.NewSyscallError("WaitForMultipleObjects", windows.ERROR_INVALID_HANDLE)
	}
	if w.gen != armed {
		w.mu.Unlock()
		return false, nil
	}
	ch := w.ch
	w.sleeping++
	if w.pump == nil {
		w.pump = make(chan struct{})
		go w.run(w.evs[w.own], w.stop, w.pump)
	}
	w.mu.Unlock()
	t := time.NewTimer(time.Duration(max(until-sys.Now(), 0)))
	select {
	case <-ch:
	case <-t.C:
		timedOut = true
	}
	t.Stop()
	w.mu.Lock()
	if w.sleeping--; w.sleeping == 0 {
		_ = windows.SetEvent(w.stop)
	}
	w.mu.Unlock()
	return timedOut, nil
}

// run is the pump: it waits on the slot's event ev, and broadcasts each
// wake, until it is stopped (stop set) with no goroutine asleep, or the
// handle closes. It holds a thread while it waits, only while some
// goroutine of the handle sleeps.
func (w *objWait) run(ev, stop windows.Handle, done chan struct{}) {
	defer close(done)
	for {
		r, err := windows.WaitForMultipleObjects([]windows.Handle{ev, stop}, false, windows.INFINITE)
		w.mu.Lock()
		if err == nil && r == windows.WAIT_OBJECT_0 {
			w.broadcast()
		}
		if w.closed || w.sleeping == 0 || err != nil {
			if err != nil {
				w.broadcast() // the sleepers re-check on their own clock
			}
			w.pump = nil
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}

func (w *objWait) wake(_ *uint32, sleepers uint32, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if n < 0 {
		w.broadcast()
	} else if sleepers != 0 {
		// One slot, from a random start, so that no slot is always last.
		r := rand.IntN(32)
		rot := bits.RotateLeft32(sleepers, -r)
		sleepers = 1 << ((bits.TrailingZeros32(rot) + r) % 32)
	}
	for sleepers != 0 {
		i := bits.TrailingZeros32(sleepers)
		sleepers &^= 1 << i
		if i == w.own {
			if n >= 0 {
				w.broadcast()
			}
			continue
		}
		if w.evs[i] == 0 {
			h, err := w.slotEvent(objSlotOff(i))
			if err != nil {
				continue // the sleeper re-checks on its own clock
			}
			w.evs[i] = h
		}
		_ = windows.SetEvent(w.evs[i])
	}
}
