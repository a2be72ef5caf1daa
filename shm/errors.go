package shm

import "errors"

// Sentinel errors. Functions and methods return them wrapped in an
// [*fs.PathError] whose Path is the segment's name, with a message that
// gives the values involved, so test with [errors.Is].
//
// The conditions that other packages report too have the sentinels of
// package ioadapt: [ioadapt.ErrInvalidSize] (a negative size, or 0 on
// Windows), [ioadapt.ErrTooLarge] (a size beyond the address space),
// [ioadapt.ErrSizeMismatch] (a segment of another size than
// [ExpectSize] or [OpenOrCreate] asked for), [ioadapt.ErrNoSpace] (no room
// for a new segment) and [ioadapt.ErrUnsupported] (what the platform
// cannot do, options included).
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

	// ErrInsecure is returned by Open when the name is a symbolic link or
	// anything but a regular file, which it never follows or maps; when a
	// segment opened with [RequireSecure] is owned by another user or grants
	// more permissions than asked for; and by [FromFile] for a descriptor
	// that is not sealed against shrinking, which another process could use
	// to make the mapping fault.
	ErrInsecure = errors.New("insecure shared memory segment")
)
