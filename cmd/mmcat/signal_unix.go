//go:build unix

package main

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// interruptSignals are the asynchronous signals whose default action ends
// cat (signal(7)): mmcat watches them in every run, so that a -o cleans up
// before it goes the same way, and so that mmcat goes at all: unless a
// program asks for them, the Go runtime ignores SIGUSR1, SIGUSR2, SIGALRM,
// SIGVTALRM, SIGXCPU, SIGIO, SIGPWR and the real-time signals, and answers
// SIGQUIT and SIGSTKFLT with a dump of every goroutine. Left out: SIGPIPE,
// which the runtime acts on for standard output and dieOfSIGPIPE for the
// rest; SIGPROF, the runtime's profiling clock; SIGXFSZ, which comes with
// the EFBIG it causes (see dieOfSIGXFSZ); and the signals of faults.
var interruptSignals = terminatingSignals()

func terminatingSignals() []os.Signal {
	names := []string{"SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGXCPU"}
	if runtime.GOOS == "linux" {
		// Linux ends a process for these as well; macOS and the BSDs
		// ignore SIGIO by default and have no SIGPWR or SIGSTKFLT.
		names = append(names, "SIGIO", "SIGPWR", "SIGSTKFLT")
	}
	var sigs []os.Signal
	for _, name := range names {
		if s := unix.SignalNum(name); s != 0 { // 0: not on this system or architecture
			sigs = append(sigs, s)
		}
	}
	if runtime.GOOS == "linux" {
		// SIGRTMIN+1 to SIGRTMAX as glibc numbers them. Signals 32 to
		// 34 are the C libraries' own (and SIGRTMIN, 34, already kills
		// a Go program: its runtime leaves those alone).
		for s := syscall.Signal(35); s <= 64; s++ {
			sigs = append(sigs, s)
		}
	}
	return sigs
}

// raise ends the process as s would have ended cat, once -o has cleaned
// up: by the signal itself where dieBySignal can (Linux: every signal;
// elsewhere SIGHUP, SIGINT and SIGTERM), and otherwise with the status a
// shell shows for a death by the signal, 128 plus its number (doc.go).
func raise(s os.Signal) {
	sig, ok := s.(syscall.Signal)
	if !ok {
		os.Exit(exitFail)
	}
	dieBySignal(sig)
	os.Exit(128 + int(sig))
}

// keepBlockedSIGPIPE ignores SIGPIPE when it was blocked at start: the
// kernel then sends it pending, and a write to a broken pipe fails with
// EPIPE, which cat reports. The runtime would raise SIGPIPE itself for
// a broken standard output or error, and die of it, unless it is
// ignored.
func keepBlockedSIGPIPE() {
	if blockedAtStart(syscall.SIGPIPE) {
		signal.Ignore(syscall.SIGPIPE)
	}
}

// dieOfSIGPIPE ends the process with SIGPIPE after a write to the broken
// pipe f failed with EPIPE, unless SIGPIPE is ignored, as for cat. The
// runtime raises SIGPIPE for a broken standard output only (and ignores
// one sent with kill), so f becomes standard output and is written again.
// In -o, nothing else is written to standard output.
func dieOfSIGPIPE(f *os.File) {
	if blockedAtStart(syscall.SIGPIPE) {
		return // pending, as for cat, which reports the EPIPE
	}
	if f.Fd() <= 2 {
		return // the runtime has decided already
	}
	if unix.Dup2(int(f.Fd()), 1) == nil {
		_, _ = os.Stdout.Write([]byte{0})
	}
}

// dieOfSIGXFSZ ends the process as SIGXFSZ ends cat when err, from a write
// to an output file written in place (standard output, or a DEST that -o
// writes as cat > DEST does), is the EFBIG of a write past the file size
// limit (ulimit -f): the kernel sent SIGXFSZ with it, and the runtime
// ignored it. EFBIG under a finite RLIMIT_FSIZE is that case: the limit is
// checked first, and a write that starts below it is cut short there, not
// refused (generic_write_check_limits in Linux's mm/filemap.c, and the
// same rule on the BSDs). A file written in place has nothing to clean up.
func dieOfSIGXFSZ(err error) {
	if !errors.Is(err, syscall.EFBIG) || blockedAtStart(syscall.SIGXFSZ) {
		return // blocked, the signal waits pending and cat reports the EFBIG
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_FSIZE, &rl) != nil || rl.Cur >= 1<<63-1 {
		return // no limit (RLIM_INFINITY): the file system's maximum file size
	}
	raise(syscall.SIGXFSZ)
}
