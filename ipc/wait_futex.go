//go:build !windows

package ipc

import "github.com/mmapkit/mmapkit/internal/sys"

// waits is what an end holds to sleep on the wait words of its object and
// to wake them (section 6.3 of the layout). A futex names a word by its
// address, so with futexes it holds nothing.
type waits struct{}

// openWaits prepares the wait words at the offsets offs of the object
// whose header holds the wait_id id.
func openWaits(uint64, ...int) (*waits, error) { return &waits{}, nil }

// close releases what openWaits took; wake may still be called after it,
// and does nothing then.
func (*waits) close() {}

// wake wakes whoever sleeps on the word at off of the object's memory b;
// the caller has changed the word (or another that the sleeper checks)
// first.
func (*waits) wake(b []byte, off int) { _, _ = sys.FutexWake(u32(b, off), -1) }

// sleep blocks until the word at addr, offset off of the object, is woken
// or no longer holds val, or until the time until (on the sys.Now
// clock), and reports whether the time ran out. It may return early for
// no reason. It runs outside Access and reads no memory itself but
// through the kernel, which answers EFAULT for memory that is gone.
func (*waits) sleep(addr *uint32, _ int, val uint32, until int64) (timedOut bool, err error) {
	return sys.FutexWait(addr, val, until)
}
