package mmfile

import (
	"errors"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// Errors returned by this package, wrapped in an [*fs.PathError] that names
// the file; test with [errors.Is]. The io methods of [File] return the
// sentinels of package ioadapt as well: [ioadapt.ErrClosed] (which is
// [fs.ErrClosed]), [ioadapt.ErrInvalidOffset], [ioadapt.ErrReadOnly],
// [ioadapt.ErrFixedSize] and [ioadapt.ErrFault].
var (
	// ErrNotRegular is returned when the path is not a regular file: a
	// directory, a FIFO, a socket or a device, which cannot be mapped as a
	// file. Stream those with [os.File] instead.
	ErrNotRegular = errors.New("not a regular file")

	// ErrNotMappable is returned for a regular file whose contents the
	// kernel makes up when it is read, as on procfs and sysfs
	// (/proc/self/cmdline, /sys/kernel/notes): its size says 0 or a page
	// whatever it holds, and a mapping of it shows nothing or fails. Read
	// such a file with [os.ReadFile].
	ErrNotMappable = errors.New("file cannot be mapped")

	// ErrBadFlag is returned by [OpenFile] for a flag that a mapping cannot
	// honour: O_WRONLY (a mapping needs read access), O_APPEND, or a flag
	// outside O_RDONLY, O_RDWR, O_CREATE, O_EXCL, O_TRUNC and O_SYNC.
	ErrBadFlag = errors.New("flag not supported for a mapped file")

	// ErrRange is returned when a [Range] lies outside the file, or is
	// negative or overflows.
	ErrRange = errors.New("range outside the file")

	// ErrTooLarge is returned when a file or range does not fit in the
	// address space of the platform (on 32-bit builds).
	ErrTooLarge = errors.New("too large to map on this platform")

	// ErrUnsupported is returned, wrapped, for an option or method that the
	// platform cannot honour, or that the kind of mapping cannot honour
	// without losing data ([DontNeed] on a [Private] mapping). It is
	// [errors.ErrUnsupported].
	ErrUnsupported = ioadapt.ErrUnsupported
)
