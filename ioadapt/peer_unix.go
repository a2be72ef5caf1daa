//go:build unix

package ioadapt

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// descriptor reports whether w is a writer whose Write hands the bytes to
// write(2) and touches them nowhere else, so that mapped memory may be
// given to it: a fault there is the system call's EFAULT, not a signal in
// code that is not ours.
func descriptor(w io.Writer) bool {
	switch w.(type) {
	case *os.File, *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}

// isFaultErrno reports whether a descriptor's write failed because the
// memory it read from faulted.
func isFaultErrno(err error) bool { return errors.Is(err, syscall.EFAULT) }
