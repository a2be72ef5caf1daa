package mmfile

import "errors"

// Errors returned by this package, wrapped in an [*fs.PathError] that names
// the file; test with [errors.Is]. The conditions that other packages
// report too have the sentinels of package ioadapt: [ioadapt.ErrClosed]
// (which is [fs.ErrClosed]), [ioadapt.ErrInvalidOffset],
// [ioadapt.ErrInvalidSize] (a negative size), [ioadapt.ErrTooLarge] (a
// file or range beyond the address space), [ioadapt.ErrReadOnly],
// [ioadapt.ErrFixedSize], [ioadapt.ErrFault] and [ioadapt.ErrUnsupported]
// (an option or method that the platform, or the kind of mapping, cannot
// honour: the message names it and the platform).
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
	// outside O_RDONLY, O_RDWR, O_CREATE, O_EXCL, O_TRUNC and O_SYNC; by
	// [Map] with [ReadWrite] for a file open with O_APPEND; and by a write
	// through a File that Map made, once the caller has put the shared
	// descriptor in append mode, on a kernel without RWF_NOAPPEND (before
	// Linux 6.9), where the write would otherwise be appended.
	ErrBadFlag = errors.New("flag not supported for a mapped file")

	// ErrRange is returned when a [Range] lies outside the file, or is
	// negative or overflows.
	ErrRange = errors.New("range outside the file")
)
