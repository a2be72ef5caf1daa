//go:build !linux && !windows

package ipc

import "runtime"

// Pipes need a way to sleep on a shared word and to watch a process:
// futexes and pidfds on Linux, named events and process handles on
// Windows. Every entry point reports that this system has neither.
func platformErr() error {
	return detail(ErrUnsupported, "ipc on %s: pipes need Linux (futexes, pidfds) or Windows (named events, process handles)", runtime.GOOS)
}

// objectsErr is platformErr: the objects wait as the pipes do.
func objectsErr() error { return platformErr() }
