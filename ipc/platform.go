//go:build linux || windows

package ipc

import (
	"runtime"
	"unsafe"
)

// platformErr reports why this machine cannot join a pipe: the layout is
// little-endian and is accessed with native atomics.
func platformErr() error {
	one := uint16(1)
	if *(*byte)(unsafe.Pointer(&one)) != 1 {
		return detail(ErrUnsupported, "ipc on a big-endian machine: the layout is little-endian")
	}
	return nil
}

// objectsErr reports why this machine cannot hold a [Mutex], [Semaphore]
// or [Event]: their waiters sleep on shared futexes and watch holders
// through pidfds, which Windows lacks, and its named events hold one wake
// (enough for a pipe's one sleeper per word, not for many waiters).
func objectsErr() error {
	if runtime.GOOS == "windows" {
		return detail(ErrUnsupported, "ipc's Mutex, Semaphore and Event on windows: their waiters need shared futexes and pidfds")
	}
	return platformErr()
}
