package ioadapt

import (
	"io/fs"
	"runtime/debug"
	"unsafe"
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
// memory.
func (c *IO) faultAt(op string, off int64) error {
	return &fs.PathError{Op: op, Path: c.s.name, Err: detail(ErrFault,
		"memory fault at offset %d: the backing file shrank or its storage failed", off)}
}
