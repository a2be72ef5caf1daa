//go:build windows

package ipc

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// waits holds, for each wait word of an object, a named auto-reset event
// (section 9 of the layout). Windows has no wait on a shared address
// (WaitOnAddress is private to a process), so a word's sleeper waits on
// its event and a waker sets it after changing the word. An auto-reset
// event is a semaphore that counts to one: a wake that finds no sleeper
// stays pending until the next wait, so none is lost between a sleeper's
// last check and its wait, and pending wakes never pile up. One process
// sleeps on a pipe's word at a time (the end's calls are serialised), so
// one pending wake is enough.
//
// Every participant opens the events of both words when it attaches and
// keeps them until it leaves, so that the events (which live while a
// handle is open) outlast any wake that a sleeper has not consumed.
type waits struct {
	offs []int

	mu  sync.RWMutex     // guards evs against close while wake runs in another goroutine
	evs []windows.Handle // evs[i] is the event of the word at offs[i]; nil after close
}

// waitName is the name of the event of the word at offset off of the
// object whose header holds the wait_id id.
func waitName(id uint64, off int) string {
	return fmt.Sprintf(`Local\mmapkit-ipc-%016x-%d`, id, off)
}

// openWaits opens, creating them if need be, the events of the wait words
// at offs of the object whose header holds the wait_id id.
func openWaits(id uint64, offs ...int) (*waits, error) {
	if id == 0 {
		return nil, detail(ErrInvalidHeader, "wait_id 0 (offset %d): the pipe's creator named no wait events", offWaitID)
	}
	w := &waits{offs: offs}
	for _, off := range offs {
		name := waitName(id, off)
		p, err := windows.UTF16PtrFromString(name)
		if err != nil {
			w.close()
			return nil, err
		}
		h, err := windows.CreateEvent(nil, 0, 0, p)
		if err != nil && err != windows.ERROR_ALREADY_EXISTS {
			w.close()
			return nil, fmt.Errorf("wait event %s: %w", name, os.NewSyscallError("CreateEvent", err))
		}
		w.evs = append(w.evs, h)
	}
	return w, nil
}

func (w *waits) close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.evs {
		windows.CloseHandle(h)
	}
	w.evs = nil
}

// event returns the event of the word at off; the caller holds mu.
func (w *waits) event(off int) windows.Handle {
	for i, o := range w.offs {
		if o == off && i < len(w.evs) {
			return w.evs[i]
		}
	}
	return 0
}

func (w *waits) wake(_ []byte, off int) {
	if w == nil {
		return
	}
	w.mu.RLock()
	if h := w.event(off); h != 0 {
		_ = windows.SetEvent(h)
	}
	w.mu.RUnlock()
}

// sleep waits on the word's event. It does not compare the word with
// val: it would have to read the memory outside Access, and every change
// that matters to a sleeper is followed by a wake, which the event keeps
// until this wait consumes it. The owner of the end closes the events
// only between its calls, so the handle stays valid while it waits.
func (w *waits) sleep(_ *uint32, off int, _ uint32, until int64) (timedOut bool, err error) {
	w.mu.RLock()
	h := w.event(off)
	w.mu.RUnlock()
	if h == 0 {
		return false, os.NewSyscallError("WaitForSingleObject", windows.ERROR_INVALID_HANDLE)
	}
	d := until - sys.Now()
	ms := uint32(0)
	if d > 0 {
		// Rounded up: a wait that ends early would spin until the time.
		ms = uint32(min((d+int64(time.Millisecond)-1)/int64(time.Millisecond), int64(windows.INFINITE-1)))
	}
	ev, err := windows.WaitForSingleObject(h, ms)
	switch {
	case err != nil:
		return false, os.NewSyscallError("WaitForSingleObject", err)
	case ev == uint32(windows.WAIT_TIMEOUT):
		return true, nil
	}
	return false, nil
}
