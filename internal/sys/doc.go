// Package sys holds the system calls that several packages of the module
// share, each wrapped once, with its errno rules and its pitfalls from Go
// written down where it is defined:
//
//   - futex waits and wakes on shared memory ([FutexWait], [FutexWake]):
//     the shared (not _PRIVATE) operations, so that processes mapping the
//     same file meet; waits with absolute CLOCK_MONOTONIC deadlines
//     (FUTEX_WAIT_BITSET) restarted after EINTR;
//   - the monotonic clock those deadlines are in ([Now]), read without a
//     system call;
//   - open file description locks on single bytes ([LockByte],
//     [UnlockByte], [ByteLocked]) and [Reopen], which gives a descriptor
//     its own open file description so that its locks are its own;
//   - process liveness: [OpenPidfd] to wait for a process's exit without
//     holding a thread, [ProcStat] for a process's start time and state,
//     [PidNamespace] for the namespace its PIDs are in;
//   - the kernel's attribute file systems (procfs, sysfs and the like),
//     told apart by fstatfs(2) ([KernelFS]): their files are made up when
//     read, cannot be mapped, and are written in place.
//
// Everything is Linux-only. On other systems every function returns an
// error wrapping [errors.ErrUnsupported] (and [Now] reads the runtime's
// monotonic clock, [KernelFS] names no file system), so that callers
// build everywhere and decide once, at their entry points, what to tell
// their users.
package sys
