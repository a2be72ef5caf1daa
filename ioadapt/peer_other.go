//go:build !unix

package ioadapt

import (
	"io"
	"syscall"
)

// directPeer returns nil: only Unix is known to turn a fault in the memory
// that a write reads from into an error of the system call, so every
// writer gets a copy of the bytes.
func directPeer(io.Writer) syscall.RawConn { return nil }

func peerName(io.Writer) string { return "" }

func writeFD(uintptr, []byte) (int, error) { return 0, syscall.EINVAL }

func isAgain(error) bool { return false }

func isFaultErrno(error) bool { return false }
