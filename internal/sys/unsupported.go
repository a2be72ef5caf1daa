package sys

import (
	"errors"
	"fmt"
	"runtime"
)

// unsupportedCall is the error of a call that this platform lacks: it
// names the call and the platform and wraps [errors.ErrUnsupported].
func unsupportedCall(call string) error {
	return fmt.Errorf("%s on %s: %w", call, runtime.GOOS, errors.ErrUnsupported)
}
