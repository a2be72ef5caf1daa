//go:build !unix

package sys

import "github.com/mmapkit/mmapkit/internal/errs"

// Unmap returns an error wrapping [errors.ErrUnsupported]: memory is
// retired ([Retire]) only on Unix, where a reservation can take the place
// of a mapping in one call.
func Unmap([]byte) error { return errs.Unsupported("retired memory") }

// Retire returns an error wrapping [errors.ErrUnsupported], as [Unmap]
// does.
func Retire([]byte) error { return errs.Unsupported("retired memory") }

// AddressSpaceLimited reports false: nothing is retired here.
func AddressSpaceLimited() bool { return false }
