//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// interruptSignals end a run of cat by default; a -o cleans up before it
// goes the same way.
var interruptSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// raise kills the process with s, with the default action restored: the
// parent sees the signal in the exit status, as it would for cat.
func raise(s os.Signal) {
	sig, ok := s.(syscall.Signal)
	if !ok {
		os.Exit(exitFail)
	}
	if sig == syscall.SIGQUIT {
		// cat dumps core; the Go runtime would print every goroutine's
		// stack instead. Exit with the status a shell shows for it.
		os.Exit(128 + int(sig))
	}
	signal.Reset(sig)
	_ = syscall.Kill(syscall.Getpid(), sig)
	// The runtime acts on the signal on a thread of its own: wait for it
	// rather than exit first.
	time.Sleep(10 * time.Second)
	os.Exit(128 + int(sig))
}

// dieOfSIGPIPE ends the process with SIGPIPE after a write to the broken
// pipe f failed with EPIPE, unless SIGPIPE is ignored, as for cat. The
// runtime raises SIGPIPE for a broken standard output only (and ignores
// one sent with kill), so f becomes standard output and is written again.
// In -o, nothing else is written to standard output.
func dieOfSIGPIPE(f *os.File) {
	if f.Fd() <= 2 {
		return // the runtime has decided already
	}
	if unix.Dup2(int(f.Fd()), 1) == nil {
		_, _ = os.Stdout.Write([]byte{0})
	}
}
