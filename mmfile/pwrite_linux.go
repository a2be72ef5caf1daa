package mmfile

import (
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noAppendRefused records that the kernel refused RWF_NOAPPEND, which
// Linux has from 6.9 on: older kernels fail pwritev2(2) with EOPNOTSUPP
// for a flag they do not know (ENOSYS before 4.6, which lacks the call).
// It is learned once, at the first refusal, so that every later write
// makes one system call, as before.
var noAppendRefused atomic.Bool

// pwrite writes p at off of f (pwriteAll).
//
// On Linux pwrite(2) ignores the offset of a descriptor in append mode
// and appends (see BUGS in pwrite(2)). Map shares its caller's open file
// description (shared), whose O_APPEND the caller may set after Map, so
// every write goes by pwritev2(2) with RWF_NOAPPEND, which writes at the
// offset whatever the flag says. Where the kernel refuses the flag, a
// shared descriptor's flags are read before each write instead, and one
// in append mode fails the write (ErrBadFlag) rather than put the bytes
// at the end. A descriptor of OpenFile's own is never in append mode.
func pwrite(f *os.File, p []byte, off int64, shared bool) (int, error) {
	fd := int(f.Fd())
	return pwriteAll(p, off, func(b []byte, off int64) (int, error) { return pwriteOnce(f, fd, b, off, shared) })
}

// pwriteOnce makes one write of b at off, by pwritev2 with RWF_NOAPPEND
// until the kernel refuses it, and then by plainPwrite.
func pwriteOnce(f *os.File, fd int, b []byte, off int64, shared bool) (int, error) {
	if noAppendRefused.Load() {
		return plainPwrite(f, fd, b, off, shared)
	}
	m, err := unix.Pwritev2(fd, [][]byte{b}, off, unix.RWF_NOAPPEND)
	switch err {
	case unix.EOPNOTSUPP, unix.ENOSYS:
		noAppendRefused.Store(true)
		return plainPwrite(f, fd, b, off, shared)
	case unix.EINVAL, unix.EPERM, unix.EACCES:
		// The flag or the call refused (a seccomp filter that refuses
		// pwritev2 but not pwrite, with EPERM or EACCES), or the write
		// itself (an O_DIRECT descriptor and an unaligned buffer; a
		// memfd sealed against writes; a security module's refusal).
		// The same call with nothing to write tells which: it fails
		// only for the first, since the kernel returns before any check
		// of the file for an empty write. A plain pwrite could not: on
		// a shared descriptor in append mode it is not even tried.
		if _, perr := unix.Pwritev2(fd, nil, off, unix.RWF_NOAPPEND); perr == nil {
			return 0, err
		}
		noAppendRefused.Store(true)
		return plainPwrite(f, fd, b, off, shared)
	}
	return m, err
}

// plainPwrite is pwrite(2) of b at off, after checking that a shared
// descriptor is not in append mode. The check and the write are two
// calls: a caller that sets O_APPEND between them still gets an append.
func plainPwrite(f *os.File, fd int, b []byte, off int64, shared bool) (int, error) {
	if shared {
		if err := checkNotAppending(f, off); err != nil {
			return 0, err
		}
	}
	return unix.Pwrite(fd, b, off)
}
