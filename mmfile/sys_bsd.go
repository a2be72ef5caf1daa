//go:build unix && !linux

package mmfile

import (
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
func remap(f *os.File, b []byte, length int) ([]byte, error) {
	nb, err := mapFile(f, 0, length, true, false, false)
	if err != nil {
		return nil, err
	}
	return nb, unix.Munmap(b)
}

// reserve extends the file. These systems have no portable fallocate, so
// the blocks are not reserved and a full disk shows at write-back.
func reserve(f *os.File, off, n int64) error { return f.Truncate(off + n) }

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
