package sysv

import "errors"

// supported tells the tests whether this platform has System V shared
// memory, as a user would learn it: from SystemLimits.
var supported = func() bool {
	_, err := SystemLimits()
	return !errors.Is(err, errors.ErrUnsupported)
}()
