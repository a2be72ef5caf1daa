//go:build unix

package mmfile

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// appendMode reports whether f was opened with O_APPEND, which would turn
// the pwrite(2) of a large or growing write into an append at the end.
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

// checkNotAppending returns an error wrapping [ErrBadFlag] if f, a
// descriptor that Map shares with its caller (one open file description,
// one set of status flags), has been put in append mode since Map
// checked it (fcntl F_SETFL): a pwrite at off would then land at the end
// of the file and report success.
func checkNotAppending(f *os.File, off int64) error {
	appending, err := appendMode(f)
	if err != nil {
		return os.NewSyscallError("fcntl F_GETFL", err)
	}
	if appending {
		return errs.Detail(ErrBadFlag, "the descriptor that Map shares with the caller was put in append mode (O_APPEND): refusing a write at offset %d, which pwrite(2) would append at the end of the file", off)
	}
	return nil
}
