// Package region holds what the Regions of packages mmfile, shm and sysv
// share on top of package ioadapt: the trivial methods of a Region of fixed
// size without a backing store ([Fixed]), and running a method of a
// package's own over the memory held open, under that method's name
// ([Access]).
package region

import (
	"errors"
	"io/fs"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// Fixed is the state and the trivial methods of an [ioadapt.Region] of a
// fixed size that has no backing store, such as a shared-memory segment:
// Bytes, Size, Name and Writable report the fields, and Sync does nothing,
// since every process that maps the memory sees each store at once and
// there is nothing to make durable. The type that embeds it adds Close,
// which must set Mem to nil.
type Fixed struct {
	Mem      []byte // the mapped memory; nil before mapping and after Close
	Label    string // the Region's name in errors
	CanWrite bool   // mapped for writing
}

// Bytes returns the mapped memory.
func (f *Fixed) Bytes() []byte { return f.Mem }

// Size returns len(Bytes()).
func (f *Fixed) Size() int64 { return int64(len(f.Mem)) }

// Name returns the Region's name, as errors show it.
func (f *Fixed) Name() string { return f.Label }

// Writable reports whether the memory is mapped for writing.
func (f *Fixed) Writable() bool { return f.CanWrite }

// Sync does nothing: there is no backing store.
func (f *Fixed) Sync() error { return nil }

// Access runs fn over the memory of c held open, as [ioadapt.IO.Access]
// does, for a method of a package's own named op ("stat", "sync",
// "unlink"): after Close it returns the closed error under op, the name
// of the user's call, and not under "access". An error of fn is returned
// as it is, even one that matches [fs.ErrClosed].
func Access(c *ioadapt.IO, op string, fn func(b []byte) error) error {
	ran := false
	err := c.Access(func(b []byte) error {
		ran = true
		return fn(b)
	})
	if err != nil && !ran && errors.Is(err, fs.ErrClosed) {
		return &fs.PathError{Op: op, Path: c.Name(), Err: fs.ErrClosed}
	}
	return err
}
