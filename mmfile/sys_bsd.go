//go:build unix && !linux

package mmfile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// No MAP_POPULATE or MADV_HUGEPAGE here: those options return
// ErrUnsupported.
const (
	populateFlag   = 0
	hugePageAdvice = -1
)

// remap maps the new length afresh and unmaps the old; the io core holds
// its exclusive lock, so nothing touches the range in between.
func remap(f *os.File, b []byte, length int, writable bool) ([]byte, error) {
	nb, err := mapFile(f, 0, length, writable, false, false)
	if err != nil {
		return nil, err
	}
	return nb, unix.Munmap(b)
}

// errSplitMapping is never returned here: remap maps afresh anyway.
var errSplitMapping = errors.New("split mapping")

// reserve reserves nothing: these systems have no portable fallocate, so
// a full disk shows at write-back.
func reserve(*os.File, int64, int64) error { return nil }

// flushAsync asks for write-back of the pages without waiting.
func flushAsync(_ *os.File, b []byte, _, _ int64) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Msync(b, unix.MS_ASYNC)
}

// directWrites is off: only Linux is measured and tested for pwrite(2)
// coherent with a shared mapping here.
const directWrites = false
