//go:build !linux

package ipc

import "runtime"

// Pipes need shared futexes, open file description locks and pidfds:
// Linux only, for now. Every entry point reports that.
func platformErr() error {
	return detail(ErrUnsupported, "ipc on %s: pipes need Linux futexes, OFD locks and pidfds", runtime.GOOS)
}
