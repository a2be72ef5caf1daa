package ioadapt

import (
	"errors"
	"io/fs"
)

// Sentinel errors. Methods return them wrapped in an [*fs.PathError] that
// names the operation and the Region, so test with [errors.Is].
//
// They are the module's one sentinel for each condition that more than one
// package reports: a bad size or one beyond the address space, a Region of
// another size than expected, no room for a new one, what the platform
// cannot do. Packages mmfile, shm and sysv return these, and keep sentinels
// of their own only for what is theirs alone (a file that is not regular,
// a name that could escape the shared-memory directory, a system limit).
var (
	// ErrClosed is returned by every method of an [IO] after Close, and by a
	// second Close. It is [fs.ErrClosed], so os-style checks match too.
	ErrClosed = fs.ErrClosed

	// ErrInvalidOffset is returned for a negative offset or position, a
	// range with a negative length or outside the Region, or an
	// offset+length that overflows int64. The message gives the values.
	ErrInvalidOffset = errors.New("invalid offset")

	// ErrInvalidSize is returned for a size that no Region can have: a
	// negative one, given to Truncate or to a constructor (NewAnonymous,
	// mmfile.Create, shm.Create, sysv.Create), and a size that the kind
	// of Region cannot have (0 for a System V segment or a Windows
	// shared-memory segment). The message gives the size.
	ErrInvalidSize = errors.New("invalid size")

	// ErrTooLarge is returned for a size that does not fit in this
	// process's address space: beyond the largest int of the platform
	// (on 32-bit builds, 2 GiB), or beyond the 128 TiB of user address
	// space of 64-bit systems, for a file or range to map, a segment to
	// create, or a growth.
	ErrTooLarge = errors.New("too large for the address space")

	// ErrSizeMismatch is returned when an existing Region is not the size
	// asked for: a shared-memory segment opened with ExpectSize, or by
	// OpenOrCreate, that has another size. The message names both sizes.
	// Opening never resizes.
	ErrSizeMismatch = errors.New("size mismatch")

	// ErrNoSpace is returned when the system cannot hold a new segment:
	// its shared-memory file system is full (shm), or the system-wide
	// total of System V shared memory would pass its limit (sysv). The
	// message names the size asked for and the room there is; the error
	// also matches [syscall.ENOSPC].
	ErrNoSpace = errors.New("no space for the region")

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

	// ErrUnsupported is returned for what the platform cannot do, an
	// option it cannot honour included: the message names it and the
	// platform. It is [errors.ErrUnsupported].
	ErrUnsupported = errors.ErrUnsupported
)
