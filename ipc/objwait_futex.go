//go:build !windows

package ipc

import "github.com/mmapkit/mmapkit/internal/sys"

// objWait is how a handle of a Mutex, Semaphore or Event sleeps on the
// object's seq word and wakes the other participants (section 8.3 of the
// layout). A futex names the word by its address and queues every
// sleeper of every process on it, so with futexes it holds nothing.
type objWait struct{}

// openObjWait prepares the waits of the object whose header holds the
// wait_id id.
func openObjWait(uint64) (*objWait, error) { return &objWait{}, nil }

// attach prepares the sleeps of slot i of the object, which this handle
// has claimed.
func (*objWait) attach(int) error { return nil }

// close releases what openObjWait and attach took; wake may still be
// called after it, and does nothing then.
func (*objWait) close() {}

// arm is called before each attempt, as the seq word is loaded: sleep
// returns at once if a wake came since. Futexes compare the word itself.
func (*objWait) arm() uint64 { return 0 }

// sleep blocks until the seq word at seq is woken or no longer holds
// val, or a wake came since arm returned armed, or until the time until
// (on the sys.Now clock), and reports whether the time ran out. It may
// return early for no reason.
func (*objWait) sleep(seq *uint32, val uint32, _ uint64, until int64) (timedOut bool, err error) {
	return sys.FutexWait(seq, val, until)
}

// wake wakes n sleepers (n < 0: all) of the participants whose bits are
// set in sleepers (the object's sleepers mask, as loaded); the caller
// has added 1 to the seq word at seq first.
func (*objWait) wake(seq *uint32, _ uint32, n int) { _, _ = sys.FutexWake(seq, n) }
