package main

import (
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
	var set [2]uint64 // a kernel sigset_t: 64 bits, 128 on MIPS
	set[(sig-1)/64] = 1 << ((sig - 1) % 64)
	size := uintptr(8)
	if strings.HasPrefix(runtime.GOARCH, "mips") {
		size = 16
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, size, 0, 0); e != 0 {
		return
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, size, 0, 0); e != 0 {
		return
	}
	_ = unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
}
