//go:build unix && !linux

package mmfile

import (
	"errors"
	"os"
)

// remap maps the new length afresh and unmaps the old; the io core holds
// its exclusive lock, so nothing touches the range in between.
func remap(f *os.File, b []byte, length int, writable bool) ([]byte, error) {
	nb, err := mapFile(f, 0, length, writable, false, false)
	if err != nil {
		return nil, err
	}
	return nb, unmap(b)
}

// errSplitMapping is never returned here: remap maps afresh anyway.
var errSplitMapping = errors.New("split mapping")

// directWrites is off: only Linux is measured and tested for pwrite(2)
// coherent with a shared mapping here.
const directWrites = false
