package main

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dieBySignal ends the process by sig, whose default action ends it, as
// the kernel ends cat: the parent's wait status then names the signal
// (and, for SIGQUIT, SIGXCPU and SIGXFSZ, a core dump where ulimit -c
// allows one). The Go runtime offers no way back to the default action for the signals
// it ignores or answers with a goroutine dump (signal.Reset leaves its own
// handler), so dieBySignal sets SIG_DFL with rt_sigaction itself, unblocks
// sig in this thread and sends it to this thread, which the kernel ends
// on the way back from tgkill. It returns only if a step failed.
func dieBySignal(sig syscall.Signal) {
	runtime.LockOSThread()
	// A struct sigaction of zeros is SIG_DFL with no flags and an empty
	// mask whatever the architecture orders its fields in; 64 bytes hold
	// the largest of them.
	var act [64]byte
	var set unix.Sigset_t
	n := sigBit(sig)
	set.Val[n/sigWordBits] |= 1 << (n % sigWordBits)
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, sigsetSize, 0, 0); e != 0 {
		return
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, sigsetSize, 0, 0); e != 0 {
		return
	}
	_ = unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
}

// blockedAtStart reports whether s was blocked in the signal mask that
// mmcat inherited, which leaves cat waiting with the signal pending. The
// runtime keeps the inherited mask on every thread it makes, but unblocks
// the signals it must see (SIGHUP, SIGINT, SIGQUIT, SIGTERM and SIGSTKFLT
// among them, doc.go) before main runs: for those it reports false. Call
// it before signal.Notify, which unblocks what it asks for on a thread of
// its own.
func blockedAtStart(s os.Signal) bool {
	sig, ok := s.(syscall.Signal)
	if !ok || sig < 1 {
		return false
	}
	var old unix.Sigset_t
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, 0, uintptr(unsafe.Pointer(&old)), sigsetSize, 0, 0); e != 0 {
		return false
	}
	n := sigBit(sig)
	return n/sigWordBits < uint(len(old.Val)) && old.Val[n/sigWordBits]&(1<<(n%sigWordBits)) != 0
}

// The kernel's sigset_t, as unix.Sigset_t lays it out: words of the
// architecture's long, signal n at bit n-1; the system calls take its
// first sigsetSize bytes, 64 signals (128 on MIPS).
const sigWordBits = uint(unsafe.Sizeof(unix.Sigset_t{}.Val[0]) * 8)

var sigsetSize = func() uintptr {
	if strings.HasPrefix(runtime.GOARCH, "mips") {
		return 16
	}
	return 8
}()

func sigBit(sig syscall.Signal) uint { return uint(sig) - 1 }
