//go:build unix && !linux

package mmfile

import "errors"

// remap cannot grow a mapping in place without mremap: the caller maps
// the file afresh and drops the old range.
func remap([]byte, int, bool) ([]byte, error) { return nil, errors.ErrUnsupported }

// directWrites is off: only Linux is measured and tested for pwrite(2)
// coherent with a shared mapping here.
const directWrites = false
