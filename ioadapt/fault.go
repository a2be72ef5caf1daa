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
// access violation or in-page error); the panic value
// carries the faulting address, which tells our mapping apart from a
// fault anywhere else.
func (c *IO) recoverFault(old bool, op string, errp *error) {
	if !c.s.faults {
		return
	}
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
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
	*errp = &fs.PathError{Op: op, Path: c.s.name, Err: detail(ErrFault,
		"memory fault at offset %d: the backing file shrank or its storage failed", addr-base)}
}
