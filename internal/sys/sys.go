// Package sys holds the system calls that several packages of the module
// share, each written once with one errno policy, as cilium/ebpf's
// internal/sys does for its own: duplicating a descriptor close-on-exec
// ([Dup], [DupOf], [DupFile]), reserving a file's blocks ([Reserve],
// [Allocate]) and, on Windows, turning a mapped view into a slice
// ([View], [Unview]).
//
// The policy: EINTR is retried here, never by a caller; an errno that
// says the system or the file system cannot do the call (ENOSYS,
// EOPNOTSUPP) comes back as an [*os.SyscallError] that matches
// [errors.ErrUnsupported], and the caller decides what that means for
// its users (reserve nothing, or fall back to ftruncate); every other
// errno comes back as an *os.SyscallError naming the call. A function
// that a platform lacks returns an error wrapping errors.ErrUnsupported
// that names it and the platform.
package sys
