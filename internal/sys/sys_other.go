//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Nothing here exists outside Linux; see the package documentation and the
// Linux file for what each function does there.

func unsupported(what string) error {
	return fmt.Errorf("%s on %s: %w", what, runtime.GOOS, errors.ErrUnsupported)
}

// FutexWait returns an error wrapping [errors.ErrUnsupported].
func FutexWait(*uint32, uint32, int64) (bool, error) { return false, unsupported("futex") }

// FutexWake returns an error wrapping [errors.ErrUnsupported].
func FutexWake(*uint32, int) (int, error) { return 0, unsupported("futex") }

var base = time.Now()

// Now returns the runtime's monotonic clock in nanoseconds, always
// positive.
func Now() int64 { return 1 + int64(time.Since(base)) }

// LockByte returns an error wrapping [errors.ErrUnsupported].
func LockByte(int, int64) (bool, error) { return false, unsupported("open file description locks") }

// UnlockByte returns an error wrapping [errors.ErrUnsupported].
func UnlockByte(int, int64) error { return unsupported("open file description locks") }

// ByteLocked returns an error wrapping [errors.ErrUnsupported].
func ByteLocked(int, int64) (bool, error) { return false, unsupported("open file description locks") }

// Reopen returns an error wrapping [errors.ErrUnsupported].
func Reopen(int) (int, error) { return -1, unsupported("reopening through /proc") }

// FileID returns an error wrapping [errors.ErrUnsupported].
func FileID(int) (uint64, uint64, error) { return 0, 0, unsupported("file identity") }

// FileSize returns an error wrapping [errors.ErrUnsupported].
func FileSize(int) (int64, error) { return 0, unsupported("file size") }
