//go:build !linux

package sys

import "github.com/mmapkit/mmapkit/internal/errs"

// Reserve returns an error wrapping [errors.ErrUnsupported]: only Linux
// has fallocate(2); posix_fallocate elsewhere would write the blocks, or
// is not reachable without cgo.
func Reserve(int, int64, int64) error { return errs.Unsupported("fallocate") }

// Allocate returns an error wrapping [errors.ErrUnsupported], as
// [Reserve] does.
func Allocate(int, int64, int64) error { return errs.Unsupported("fallocate") }
