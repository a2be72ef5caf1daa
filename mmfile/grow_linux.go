package mmfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// remap grows the mapping in place or moves it (mremap), without the
// window in which munmap then mmap would leave the range unmapped.
func remap(_ *os.File, b []byte, length int, _ bool) ([]byte, error) {
	return unix.Mremap(b, length, unix.MREMAP_MAYMOVE)
}

// errSplitMapping is mremap's error for a range that is no longer one
// kernel mapping (mlock or madvise of a part split it).
var errSplitMapping error = unix.EFAULT

// directWrites: pwrite(2) lands in the page cache that a shared mapping
// shows, so large and growing writes can skip the page faults.
const directWrites = true
