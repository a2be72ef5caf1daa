//go:build !unix

package ioadapt

import "io"

// descriptor reports false: only Unix is known to turn a fault in the
// memory that a write reads from into an error of the system call, so
// every writer gets a copy of the bytes.
func descriptor(io.Writer) bool { return false }

func isFaultErrno(error) bool { return false }
