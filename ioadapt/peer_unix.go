//go:build unix

package ioadapt

import (
	"errors"
	"io"
	"os"
	"reflect"
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
	sc, ok := w.(syscall.Conn)
	if !ok || !plainWriter(w) {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	ok = false
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

// plainWriter reports whether w is an *os.File, a *net.TCPConn or a
// *net.UnixConn itself, whose Write is write(2) on the descriptor that
// SyscallConn gives. A type that embeds one of them has the same
// SyscallConn but may have a Write of its own (one that encrypts, counts
// or frames the bytes), so only these exact types qualify. The two
// socket types are told by their names, not by a type switch: where cgo
// is on (Linux, the BSDs), importing package net would link its C
// resolver, and cgo, into every program built on this one.
func plainWriter(w io.Writer) bool {
	if _, ok := w.(*os.File); ok {
		return true
	}
	t := reflect.TypeOf(w)
	if t.Kind() != reflect.Pointer {
		return false
	}
	t = t.Elem()
	return t.PkgPath() == "net" && (t.Name() == "TCPConn" || t.Name() == "UnixConn")
}

// peerName is the Path of a descriptor peer's write errors: a file's
// name, or a socket's peer address as its RemoteAddr gives it (called by
// name: see plainWriter), which net learnt when it connected, while the
// peer was still there to ask.
func peerName(w io.Writer) string {
	if f, ok := w.(*os.File); ok {
		return f.Name()
	}
	m := reflect.ValueOf(w).MethodByName("RemoteAddr")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
		return ""
	}
	if a, ok := m.Call(nil)[0].Interface().(interface{ String() string }); ok {
		return a.String()
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
