package sys

import (
	"os"

	"golang.org/x/sys/unix"
)

// Reserve allocates the blocks of [off, off+n) of the file fd without
// changing its size (fallocate FALLOC_FL_KEEP_SIZE), so that a later
// store or write into them cannot fail for want of space: a full file
// system is this call's ENOSPC instead of a SIGBUS at a store into a
// mapping. A file system without fallocate gives an error matching
// [errors.ErrUnsupported].
func Reserve(fd int, off, n int64) error {
	return fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// Allocate allocates the blocks of [off, off+n) of the file fd and
// extends its size to off+n if it is smaller (fallocate with mode 0), so
// that every page of a new tmpfs file or memfd is there before it is
// mapped. A file system without fallocate gives an error matching
// [errors.ErrUnsupported], and the size is unchanged.
func Allocate(fd int, off, n int64) error { return fallocate(fd, 0, off, n) }

// fallocate is fallocate(2) with the package's errno policy: EINTR (a
// signal during a long allocation, as Go's preemption sends) is retried;
// EOPNOTSUPP (the file system lacks it) and ENOSYS (the kernel does)
// match errors.ErrUnsupported through [syscall.Errno.Is].
func fallocate(fd int, mode uint32, off, n int64) error {
	for {
		err := unix.Fallocate(fd, mode, off, n)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("fallocate", err)
		}
		return nil
	}
}
