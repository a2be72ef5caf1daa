package sysv

import (
	"errors"
	"strings"
	"syscall"
)

// Sentinel errors. Functions and methods of this package return them inside
// an [*fs.PathError] whose Path names the key ("key 0x0000abcd") or the id
// ("id 42"), together with the errno the kernel gave when there was one, so
// test with [errors.Is]: errors.Is(err, ErrTooLarge) and
// errors.Is(err, unix.EINVAL) both hold for a size above shmmax.
//
// The kernel's own answers need no sentinel of ours: a missing key wraps
// ENOENT and so matches [fs.ErrNotExist], a key taken on exclusive create
// wraps EEXIST and matches [fs.ErrExist], a refused permission wraps EACCES
// and matches [fs.ErrPermission].
var (
	// ErrInvalidSize is returned for a size of zero or less (a System V
	// segment holds at least one byte) and for a size whose rounding up to
	// whole pages overflows. The message gives the size.
	ErrInvalidSize = errors.New("invalid segment size")

	// ErrTooLarge is returned when the size asked for is above the
	// system's largest segment, shmmax (/proc/sys/kernel/shmmax on Linux,
	// kern.sysv.shmmax on macOS), or above what the platform's int can
	// address. The message gives the key, the size and the limit.
	ErrTooLarge = errors.New("segment size above the system limit")

	// ErrTooMany is returned when creating a segment would pass the
	// system's segment count, shmmni (/proc/sys/kernel/shmmni). The kernel
	// says ENOSPC, which the error wraps too; the message gives the key,
	// the count in use and the limit. Segments that were never removed
	// count: see List and ipcrm(1).
	ErrTooMany = errors.New("too many segments")

	// ErrNoSpace is returned when creating a segment would pass the
	// system-wide total of shared memory, shmall (/proc/sys/kernel/shmall,
	// in pages). It wraps ENOSPC too; the message gives the key, the size,
	// the pages in use and the limit.
	ErrNoSpace = errors.New("shared memory total above the system limit")

	// ErrSizeMismatch is returned when a segment exists with another size
	// than the one asked for: by Create (without exclusivity) and
	// OpenOrCreate when the existing segment is smaller (the kernel's
	// EINVAL, also wrapped) or larger, and by Open and AttachID when the
	// segment's size differs from the one given with ExpectSize. The
	// message gives the key, both sizes and the segment's id.
	ErrSizeMismatch = errors.New("segment size mismatch")

	// ErrUnsupported is returned by every function on a platform without
	// System V shared memory (anything but Linux and macOS), and by List on
	// macOS. It is [errors.ErrUnsupported].
	ErrUnsupported = errors.ErrUnsupported
)

// sysvError is an error with a message of its own that still matches each
// of errs with errors.Is and errors.As: a sentinel of ours, an errno, or
// both.
type sysvError struct {
	msg  string
	errs []error
}

func (e *sysvError) Error() string   { return e.msg }
func (e *sysvError) Unwrap() []error { return e.errs }

// newError returns an error that reads as msg, followed by the text of the
// errno among errs when there is one, and wraps every non-nil error in errs.
func newError(msg string, errs ...error) error {
	var kept []error
	var b strings.Builder
	b.WriteString(msg)
	for _, err := range errs {
		if err == nil {
			continue
		}
		kept = append(kept, err)
		if isErrno(err) {
			b.WriteString(": ")
			b.WriteString(err.Error())
		}
	}
	return &sysvError{msg: b.String(), errs: kept}
}

func isErrno(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno)
}
