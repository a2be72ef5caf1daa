//go:build unix

package mmfile

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// mapPastEOF: a Unix mapping may extend past the end of the file (touching
// those pages raises SIGBUS, and the io core never does), so capacity can
// run ahead of the size and appends need not remap.
const mapPastEOF = true

// syncNeedsFsync: msync(MS_SYNC) writes the data back durably; fsync is
// needed only for a changed size.
const syncNeedsFsync = false

// openFlags are added to every open: O_NONBLOCK keeps an open of a FIFO
// from blocking until a writer comes, so the regular-file check can say no.
const openFlags = unix.O_NONBLOCK

func granularity() int64 { return int64(os.Getpagesize()) }

func mapFile(f *os.File, off int64, length int, writable, private, populate bool) ([]byte, error) {
	prot, flags := unix.PROT_READ, unix.MAP_SHARED
	if writable {
		prot |= unix.PROT_WRITE
	}
	if private {
		flags = unix.MAP_PRIVATE
	}
	if populate {
		if populateFlag == 0 {
			return nil, ErrUnsupported
		}
		flags |= populateFlag
	}
	return unix.Mmap(int(f.Fd()), off, length, prot, flags)
}

func unmap(b []byte) error { return unix.Munmap(b) }

func flush(b []byte) error { return unix.Msync(b, unix.MS_SYNC) }

func lockMem(b []byte) error   { return unix.Mlock(b) }
func unlockMem(b []byte) error { return unix.Munlock(b) }

func advise(b []byte, a Advice) error {
	var adv int
	switch a {
	case Normal:
		adv = unix.MADV_NORMAL
	case Sequential:
		adv = unix.MADV_SEQUENTIAL
	case Random:
		adv = unix.MADV_RANDOM
	case WillNeed:
		adv = unix.MADV_WILLNEED
	case DontNeed:
		adv = unix.MADV_DONTNEED
	case HugePage:
		if hugePageAdvice < 0 {
			return ErrUnsupported
		}
		adv = hugePageAdvice
	default:
		return ErrUnsupported
	}
	if len(b) == 0 {
		return nil
	}
	return unix.Madvise(b, adv)
}

// dupFile duplicates f's descriptor, close-on-exec, so that the mapping
// owns a descriptor of its own.
func dupFile(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	return os.NewFile(uintptr(nfd), f.Name()), nil
}

// appendMode reports whether f was opened with O_APPEND.
func appendMode(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) }); err != nil {
		return false, err
	}
	return flags&unix.O_APPEND != 0, ferr
}

// pwrite writes p at off of f and returns the count written even when it
// stops short: os.File.WriteAt drops the count of a partial write that
// ends in an error (ENOSPC), and growth must know how far the file got.
func pwrite(f *os.File, p []byte, off int64) (int, error) {
	fd := int(f.Fd())
	n := 0
	for n < len(p) {
		m, err := unix.Pwrite(fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrUnexpectedEOF
		}
		n += m
	}
	return n, nil
}
