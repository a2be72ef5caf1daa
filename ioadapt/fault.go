package ioadapt

import (
	"fmt"
	"io/fs"
	"runtime/debug"
	"syscall"
	"unsafe"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// guard prepares the calling goroutine to survive a fault in the Region's
// memory. It returns the goroutine's previous setting, which the deferred
// [IO.recoverFault] restores.
func (c *IO) guard() bool {
	if !c.s.faults {
		return false
	}
	return debug.SetPanicOnFault(true)
}

// recoverFault turns a fault inside the Region's memory into an error
// wrapping [ErrFault], stored in *errp. It must be deferred directly, after
// [IO.guard]. A panic that is not such a fault is re-raised unchanged.
//
// SetPanicOnFault makes the runtime raise a panic, instead of killing the
// process, for a SIGBUS or SIGSEGV at a non-nil address (on Windows, an
// access violation or in-page error); the panic value carries the faulting
// address, which tells our mapping apart from a fault anywhere else.
func (c *IO) recoverFault(old bool, op string, errp *error) {
	if !c.s.faults {
		return
	}
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		c.faultError(r, op, errp)
	}
}

// unpinGuarded ends a call that [IO.pin] pinned and [IO.guard] guarded:
// what recoverFault does, then the release of the shared lock, in the one
// deferred call that the hot paths can afford. A foreign panic is re-raised
// after the lock is released, so that Close does not wait forever.
func (c *IO) unpinGuarded(old bool, op string, errp *error) {
	if !c.s.faults {
		c.s.mu.RUnlock()
		return
	}
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		defer c.s.mu.RUnlock()
		c.faultError(r, op, errp)
		return
	}
	c.s.mu.RUnlock()
}

// faultError stores in *errp the error for a fault r inside the Region, or
// re-panics with r when it is not one. The caller holds s.mu.
func (c *IO) faultError(r any, op string, errp *error) {
	fault, ok := r.(interface{ Addr() uintptr })
	if !ok {
		panic(r)
	}
	b := c.s.buf
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	addr := fault.Addr()
	if len(b) == 0 || addr < base || addr-base >= uintptr(cap(b)) {
		panic(r)
	}
	*errp = c.faultAt(op, int64(addr-base))
}

// faultAt returns the error for a fault at offset off of the Region's
// memory. The caller holds s.mu.
func (c *IO) faultAt(op string, off int64) error {
	b := c.s.buf
	return &fs.PathError{Op: op, Path: c.s.name, Err: c.explain(b[:cap(b)], int(off), true)}
}

// readFaultAt is faultAt for a fault known to come from reading the
// memory, such as write(2)'s EFAULT: it was no store.
func (c *IO) readFaultAt(op string, off int64) error {
	b := c.s.buf
	return &fs.PathError{Op: op, Path: c.s.name, Err: c.explain(b[:cap(b)], int(off), false)}
}

// FaultExplainer is implemented by a Region that can tell why touching its
// memory faulted: a file mapping can compare the offset with the file's
// size now, and look at its file system's free space. The error of a fault
// then says what happened and wraps the cause as well as [ErrFault]; a
// Region without it gets a message that names the possible causes.
type FaultExplainer interface {
	// ExplainFault returns the cause of a fault at offset off of the
	// Region's memory, or nil when it cannot tell. [IO] calls it with the
	// Region held open, from the call that faulted; it must not touch the
	// memory.
	ExplainFault(off int64) error
}

// explain returns the error for a fault at offset off of b, the Region's
// memory. The caller holds s.mu.
func (c *IO) explain(b []byte, off int, mayBeStore bool) error {
	// The signal does not reach us, only the address: SIGSEGV for a store
	// into a read-only mapping, SIGBUS for a page that the file cannot
	// supply. A read-only page that reads fine faulted for a store.
	if mayBeStore && !c.s.writable && readable(b, off) {
		return errs.New(fmt.Sprintf("memory fault at offset %d: store into a read-only mapping", off), ErrFault, ErrReadOnly)
	}
	if e, ok := c.s.region.(FaultExplainer); ok {
		if cause := e.ExplainFault(int64(off)); cause != nil {
			msg := fmt.Sprintf("memory fault at offset %d", off)
			if _, errno := cause.(syscall.Errno); !errno {
				msg += ": " + cause.Error() // errs.New adds an errno's text
			}
			return errs.New(msg, ErrFault, cause)
		}
	}
	return errs.Detail(ErrFault, "memory fault at offset %d: the backing file shrank or its storage failed", off)
}

// readable reports whether the byte at b[i] can be read without a fault.
func readable(b []byte, i int) (ok bool) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if recover() != nil {
			ok = false
		}
	}()
	load(b, i)
	return true
}

// load reads b[i]. It is not inlined, so that the read is not optimised
// away.
//
//go:noinline
func load(b []byte, i int) byte { return b[i] }
