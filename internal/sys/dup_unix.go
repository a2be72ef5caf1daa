//go:build unix

package sys

import (
	"os"

	"golang.org/x/sys/unix"
)

// Dup returns a duplicate of fd, close-on-exec (fcntl F_DUPFD_CLOEXEC),
// so that it is not leaked into child processes: a descriptor of its own
// for a mapping, or one to hand to a child through
// [os/exec.Cmd.ExtraFiles], which clears the flag in the child.
func Dup(fd int) (int, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
	}
	return nfd, nil
}

// DupOf returns a duplicate of f's descriptor, as [Dup] makes it. It
// reaches the descriptor through f.SyscallConn, which, unlike f.Fd, leaves
// f in the mode it has (f.Fd makes a non-blocking descriptor blocking).
func DupOf(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = Dup(int(fd)) }); err != nil {
		return -1, err
	}
	return nfd, derr
}

// DupFile returns a new [*os.File], named as f is, on a duplicate of f's
// descriptor made by [DupOf].
func DupFile(f *os.File) (*os.File, error) {
	fd, err := DupOf(f)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}
