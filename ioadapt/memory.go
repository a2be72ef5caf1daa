package ioadapt

import (
	"io/fs"
	"math"

	"github.com/edsrzf/mmap-go"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// Memory is a [Region] over a byte slice on the Go heap, for a buffer in
// the process that needs the io methods of an [IO]. It never faults and
// has no backing store.
type Memory struct {
	b []byte
}

// NewMemory returns a Region over b. The Region is b itself, not a copy:
// writes through it are visible in b.
func NewMemory(b []byte) *Memory { return &Memory{b: b[:len(b):len(b)]} }

// Bytes returns the slice given to [NewMemory].
func (m *Memory) Bytes() []byte { return m.b }

// Size returns len(Bytes()).
func (m *Memory) Size() int64 { return int64(len(m.b)) }

// Writable reports true: heap memory is always writable.
func (m *Memory) Writable() bool { return true }

// Name returns "memory".
func (m *Memory) Name() string { return "memory" }

// Sync does nothing: heap memory has no backing store.
func (m *Memory) Sync() error { return nil }

// Close drops the reference to the slice.
func (m *Memory) Close() error { m.b = nil; return nil }

// FaultFree marks heap memory as unable to fault.
func (m *Memory) FaultFree() {}

// Anonymous is a [Region] over a private anonymous mapping: zeroed memory
// outside the Go heap, returned to the system by Close. It suits large
// buffers that the garbage collector should not scan or move.
type Anonymous struct {
	m    mmap.MMap
	size int64
}

// NewAnonymous maps size bytes of zeroed, private memory. A zero size maps
// nothing and needs no system call.
func NewAnonymous(size int64) (*Anonymous, error) {
	const op = "mapanon"
	switch {
	case size < 0:
		return nil, &fs.PathError{Op: op, Path: "anonymous", Err: errs.Detail(ErrInvalidSize, "negative size %d", size)}
	case uint64(size) > math.MaxInt:
		return nil, &fs.PathError{Op: op, Path: "anonymous", Err: errs.Detail(ErrTooLarge, "size %d is above the largest int, %d", size, math.MaxInt)}
	}
	if size == 0 {
		return &Anonymous{}, nil
	}
	m, err := mmap.MapRegion(nil, int(size), mmap.RDWR, mmap.ANON, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: "anonymous", Err: err}
	}
	return &Anonymous{m: m, size: size}, nil
}

// Bytes returns the mapped memory.
func (a *Anonymous) Bytes() []byte { return a.m }

// Size returns the size given to [NewAnonymous].
func (a *Anonymous) Size() int64 { return a.size }

// Writable reports true.
func (a *Anonymous) Writable() bool { return true }

// Name returns "anonymous".
func (a *Anonymous) Name() string { return "anonymous" }

// Sync does nothing: anonymous memory has no backing store.
func (a *Anonymous) Sync() error { return nil }

// Close unmaps the memory.
func (a *Anonymous) Close() error {
	if a.m == nil {
		return nil
	}
	if err := a.m.Unmap(); err != nil {
		return &fs.PathError{Op: "close", Path: "anonymous", Err: err}
	}
	return nil
}

// FaultFree marks anonymous memory as unable to fault: it has no file that
// could shrink under it.
func (a *Anonymous) FaultFree() {}

// Retired returns nothing: heap memory is never unmapped, and the garbage
// collector keeps it while a call holds it. Being a [Retirer], Memory is
// read and written without a lock.
func (m *Memory) Retired() [][]byte { return nil }

// StopRetiring does nothing: Memory never retires.
func (m *Memory) StopRetiring() {}
