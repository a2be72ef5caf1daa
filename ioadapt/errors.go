package ioadapt

import (
	"errors"
	"fmt"
	"io/fs"
)

// Sentinel errors. Methods return them wrapped in an [*fs.PathError] that
// names the operation and the Region, so test with [errors.Is].
var (
	// ErrClosed is returned by every method of an [IO] after Close, and by a
	// second Close. It is [fs.ErrClosed], so os-style checks match too.
	ErrClosed = fs.ErrClosed

	// ErrInvalidOffset is returned for a negative offset or position, a
	// negative length, or an offset+length that overflows int64. The wrapped
	// message gives the value.
	ErrInvalidOffset = errors.New("invalid offset")

	// ErrInvalidWhence is returned by Seek for a whence other than
	// io.SeekStart, io.SeekCurrent or io.SeekEnd.
	ErrInvalidWhence = errors.New("invalid whence")

	// ErrFixedSize is returned by a write that runs past the end of a Region
	// that cannot grow (after writing what fits), and by Truncate on such a
	// Region.
	ErrFixedSize = errors.New("region has a fixed size")

	// ErrReadOnly is returned by every write to a Region mapped without
	// write access.
	ErrReadOnly = errors.New("region is read-only")

	// ErrFault is returned when touching the Region's memory faulted: the
	// file behind it was truncated by another process, its tmpfs ran out of
	// space, or its storage returned an I/O error; or code given to
	// [IO.Access] stored into a Region that is not writable, and then the
	// error matches [ErrReadOnly] too. The message says which, where the
	// Region can tell (see [FaultExplainer]).
	ErrFault = errors.New("memory fault in mapped region")

	// ErrUnsupported is returned for what the platform cannot do. It is
	// [errors.ErrUnsupported].
	ErrUnsupported = errors.ErrUnsupported
)

// detailError gives a sentinel a message that carries the values involved,
// while errors.Is still finds the sentinel.
type detailError struct {
	msg string
	err error
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.err }

// detail returns an error that reads as the formatted message and wraps
// sentinel.
func detail(sentinel error, format string, args ...any) error {
	return &detailError{msg: fmt.Sprintf(format, args...), err: sentinel}
}
