package shm

import (
	"errors"
	"fmt"
)

// Sentinel errors. Functions and methods return them wrapped in an
// [*fs.PathError] whose Path is the segment's name, with a message that
// gives the values involved, so test with [errors.Is].
//
// Errors from the system keep their errno: [fs.ErrExist] (exclusive create
// of a name in use), [fs.ErrNotExist] (open of a missing name) and
// [fs.ErrPermission] match through errors.Is, as they do for [os.Open].
var (
	// ErrInvalidName is returned for a name that could reach outside the
	// shared-memory namespace or that the system would refuse: empty, "."
	// or "..", containing "/" (after the one leading "/" that is allowed),
	// a NUL byte (or, on Windows, a backslash or invalid UTF-8), or longer
	// than 255 bytes; and for a name that starts with "sem.", which on
	// Linux is a named semaphore of glibc's sem_open(3) ("/sem.x" is the
	// file of sem_open("/x")), on every platform alike. The message quotes
	// the name and says which rule it breaks.
	ErrInvalidName = errors.New("invalid shared memory name")

	// ErrInvalidSize is returned for a negative size, or one that does not
	// fit in the address space, and on Windows for a zero size.
	ErrInvalidSize = errors.New("invalid shared memory size")

	// ErrSizeMismatch is returned when a segment opened with [ExpectSize],
	// or by [OpenOrCreate], is not the size asked for. The message names
	// both sizes. The segment is left as it was: opening never resizes.
	ErrSizeMismatch = errors.New("shared memory size mismatch")

	// ErrInsecure is returned by Open when the name is a symbolic link or
	// anything but a regular file, which it never follows or maps; when a
	// segment opened with [RequireSecure] is owned by another user or grants
	// more permissions than asked for; and by [FromFile] for a descriptor
	// that is not sealed against shrinking, which another process could use
	// to make the mapping fault.
	ErrInsecure = errors.New("insecure shared memory segment")

	// ErrNoSpace is returned when the shared-memory file system cannot hold
	// a new segment. The half-made segment is removed; the message names the
	// size asked for and the free space. The error also matches
	// [syscall.ENOSPC].
	ErrNoSpace = errors.New("not enough space for shared memory segment")

	// ErrUnsupported is returned for what the platform cannot do: named
	// segments on systems other than Linux and Windows, anonymous segments,
	// Unlink, List and RemoveStale on Windows. It is
	// [errors.ErrUnsupported].
	ErrUnsupported = errors.ErrUnsupported
)

// detailError gives one or more sentinels a message that carries the values
// involved, while errors.Is still finds each of them.
type detailError struct {
	msg  string
	errs []error
}

func (e *detailError) Error() string   { return e.msg }
func (e *detailError) Unwrap() []error { return e.errs }

// detail returns an error that reads as the formatted message and wraps
// sentinel.
func detail(sentinel error, format string, args ...any) error {
	return &detailError{msg: fmt.Sprintf(format, args...), errs: []error{sentinel}}
}
