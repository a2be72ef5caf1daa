//go:build unix

package ioadapt

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// directPeer returns the descriptor of w when WriteTo may hand it the
// mapped memory itself: w's Write is write(2) and touches the bytes
// nowhere else (so a fault is the system call's EFAULT, not a signal in
// code that is not ours), and a write to it cannot block with the Region
// pinned: a regular file, or a descriptor in non-blocking mode (sockets,
// and the pipes the runtime polls), whose waits happen in the poller. For
// any other w, such as a pipe inherited in blocking mode, it returns nil,
// and WriteTo copies.
func directPeer(w io.Writer) syscall.RawConn {
	var sc syscall.Conn
	switch p := w.(type) {
	case *os.File:
		sc = p
	case *net.TCPConn:
		sc = p
	case *net.UnixConn:
		sc = p
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	ok := false
	if err := rc.Control(func(fd uintptr) {
		var st syscall.Stat_t
		if syscall.Fstat(int(fd), &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG {
			ok = true
			return
		}
		fl, err := fcntlGetfl(fd)
		ok = err == nil && fl&syscall.O_NONBLOCK != 0
	}); err != nil {
		return nil
	}
	if !ok {
		return nil
	}
	return rc
}

// peerName names a descriptor peer in its errors, as its own would.
func peerName(w io.Writer) string {
	switch p := w.(type) {
	case *os.File:
		return p.Name()
	case net.Conn:
		return p.RemoteAddr().String()
	}
	return ""
}

// writeFD is one write(2) of p to fd.
func writeFD(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Write(int(fd), p)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

func isAgain(err error) bool { return err == syscall.EAGAIN }

// isFaultErrno reports whether a descriptor's write failed because the
// memory it read from faulted.
func isFaultErrno(err error) bool { return errors.Is(err, syscall.EFAULT) }
