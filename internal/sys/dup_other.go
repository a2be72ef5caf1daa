//go:build !unix && !windows

package sys

import (
	"os"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// DupFile returns an error wrapping [errors.ErrUnsupported]: this
// platform has no descriptors to duplicate.
func DupFile(*os.File) (*os.File, error) { return nil, errs.Unsupported("dup") }
