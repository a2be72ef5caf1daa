//go:build unix

package mmfile

import (
	"os"

	"golang.org/x/sys/unix"
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
