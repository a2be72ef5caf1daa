//go:build !ios

package sysv

import "golang.org/x/sys/unix"

// shmDetach is shmdt(2). Linux detaches by retiring the memory instead
// (detach_linux.go).
func shmDetach(b []byte) error { return unix.SysvShmDetach(b) }
