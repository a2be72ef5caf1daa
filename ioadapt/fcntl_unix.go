//go:build unix

package ioadapt

import "golang.org/x/sys/unix"

// fcntlGetfl returns the file status flags of fd (fcntl F_GETFL).
func fcntlGetfl(fd uintptr) (int, error) { return unix.FcntlInt(fd, unix.F_GETFL, 0) }
