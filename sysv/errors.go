package sysv

import "errors"

// Sentinel errors. Functions and methods of this package return them inside
// an [*fs.PathError] whose Path names the key ("key 0x0000abcd") or the id
// ("id 42"), together with the errno the kernel gave when there was one, so
// test with [errors.Is]: errors.Is(err, ErrTooLarge) and
// errors.Is(err, unix.EINVAL) both hold for a size above shmmax.
//
// The conditions that other packages report too have the sentinels of
// package ioadapt: [ioadapt.ErrInvalidSize] (a size of zero or less, or
// one whose rounding up to whole pages overflows), [ioadapt.ErrTooLarge]
// (a size beyond what the platform's int can address),
// [ioadapt.ErrSizeMismatch] (an existing segment of another size than the
// one asked for or expected; the message gives the key, both sizes and
// the id), [ioadapt.ErrNoSpace] (creating would pass shmall, the
// system-wide total, in pages; it wraps ENOSPC too) and
// [ioadapt.ErrUnsupported] (no System V shared memory on this platform,
// or List on macOS).
//
// The kernel's own answers need no sentinel of ours: a missing key wraps
// ENOENT and so matches [fs.ErrNotExist], a key taken on exclusive create
// wraps EEXIST and matches [fs.ErrExist], a refused permission wraps EACCES
// and matches [fs.ErrPermission].
var (
	// ErrTooLarge is returned when the size asked for is above the
	// system's largest segment, shmmax (/proc/sys/kernel/shmmax on Linux,
	// kern.sysv.shmmax on macOS). The message gives the key, the size and
	// the limit. A size beyond the address space is
	// [ioadapt.ErrTooLarge] instead.
	ErrTooLarge = errors.New("segment size above the system limit")

	// ErrTooMany is returned when creating a segment would pass the
	// system's segment count, shmmni (/proc/sys/kernel/shmmni). The kernel
	// says ENOSPC, which the error wraps too; the message gives the key,
	// the count in use and the limit. Segments that were never removed
	// count: see List and ipcrm(1).
	ErrTooMany = errors.New("too many segments")
)
