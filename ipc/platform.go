//go:build linux || windows

package ipc

import "unsafe"

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
// or [Event]: they wait as the pipes do (futexes on Linux, named events
// on Windows), so for the same reasons.
func objectsErr() error { return platformErr() }
