//go:build !linux && !windows

package sys

// Pidfd is a process handle; none exists on this platform.
type Pidfd struct{}

// OpenPidfd returns an error wrapping [errors.ErrUnsupported].
func OpenPidfd(int) (*Pidfd, error) { return nil, unsupported("pidfd_open") }

// Wait returns an error wrapping [errors.ErrUnsupported].
func (*Pidfd) Wait() error { return unsupported("pidfd_open") }

// Close does nothing.
func (*Pidfd) Close() error { return nil }

// ProcStat returns an error wrapping [errors.ErrUnsupported].
func ProcStat(int) (uint64, byte, error) { return 0, 0, unsupported("/proc") }

// PidNamespace returns an error wrapping [errors.ErrUnsupported].
func PidNamespace() (uint64, error) { return 0, unsupported("PID namespaces") }
