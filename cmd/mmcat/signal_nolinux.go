//go:build unix && !linux

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// dieBySignal ends the process by sig for SIGHUP, SIGINT and SIGTERM: the
// default action is restored and the signal sent again, so that the
// parent sees it in the wait status. For the other signals the Go runtime
// offers no way back to the default action (signal.Reset leaves its own
// handler, which ignores them or dumps every goroutine), and dieBySignal
// returns.
func dieBySignal(sig syscall.Signal) {
	switch sig {
	case syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM:
		signal.Reset(sig)
		_ = syscall.Kill(syscall.Getpid(), sig)
		// The runtime acts on the signal on a thread of its own: wait
		// for it rather than exit first.
		time.Sleep(10 * time.Second)
	}
}

// blockedAtStart reports false: outside Linux mmcat does not read the
// signal mask it inherited (doc.go).
func blockedAtStart(os.Signal) bool { return false }
