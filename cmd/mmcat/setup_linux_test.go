package main

import (
	"errors"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// noTmpfileEnv makes the command run as on a file system without
// O_TMPFILE (NFS, FUSE, vfat): a seccomp filter answers EOPNOTSUPP to
// every open(2) that asks for it, as those file systems do.
const noTmpfileEnv = "MMCAT_TEST_NO_TMPFILE"

// commandSetup prepares the process that runs as mmcat.
func commandSetup() error {
	if os.Getenv(noTmpfileEnv) == "1" {
		return denyTmpfile()
	}
	return nil
}

// denyTmpfile installs the seccomp filter of noTmpfileEnv on every thread.
func denyTmpfile() error {
	var arch uint32
	switch runtime.GOARCH {
	case "amd64":
		arch = unix.AUDIT_ARCH_X86_64
	case "arm64":
		arch = unix.AUDIT_ARCH_AARCH64
	case "386":
		arch = unix.AUDIT_ARCH_I386
	case "arm":
		arch = unix.AUDIT_ARCH_ARM
	default:
		return errors.New("no seccomp filter written for " + runtime.GOARCH)
	}
	const (
		ld  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		and = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
		ret = unix.BPF_RET | unix.BPF_K
		// struct seccomp_data: nr at 0, arch at 4, args[2] at 32 (the
		// open flags of openat; their low half is enough).
		tmpfileBit = 0x400000 // __O_TMPFILE, without O_DIRECTORY
	)
	prog := []unix.SockFilter{
		{Code: ld, K: 4},
		{Code: jeq, K: arch, Jt: 1},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
		{Code: ld, K: 0},
		{Code: jeq, K: unix.SYS_OPENAT, Jt: 1},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
		{Code: ld, K: 32},
		{Code: and, K: tmpfileBit},
		{Code: jeq, K: tmpfileBit, Jt: 1},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
		{Code: ret, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EOPNOTSUPP)},
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return os.NewSyscallError("seccomp", e)
	}
	return nil
}

// noCoreDumps sets the soft limit on core files to 0 for the tests and
// every command they start: the signals tests send to mmcat and cat
// (SIGQUIT, SIGXCPU, SIGXFSZ) dump core by default, and a test binary's
// core would land in the package's directory.
func noCoreDumps() {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_CORE, &rl) == nil {
		rl.Cur = 0
		_ = unix.Setrlimit(unix.RLIMIT_CORE, &rl)
	}
}
