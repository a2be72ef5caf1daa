package mmfile

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// remap grows the mapping in place (mremap), which keeps the pages
// already mapped. It moves the mapping (MREMAP_MAYMOVE) only where move
// says the io core stopped the retiring: a move unmaps the old range in
// the same call, while a call of the io core may still be copying from it
// ([ioadapt.Retirer]). Where the range cannot grow in place (the next
// addresses are taken, or mlock or madvise of a part split it), remap
// fails, and the caller maps the file afresh and drops the old range.
func remap(b []byte, length int, move bool) ([]byte, error) {
	flags := 0
	if move {
		flags = unix.MREMAP_MAYMOVE
	}
	p, err := unix.MremapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)), nil, uintptr(length), flags)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), length), nil
}

// directWrites: pwrite(2) lands in the page cache that a shared mapping
// shows, so large and growing writes can skip the page faults.
const directWrites = true
