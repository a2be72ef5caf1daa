//go:build unix

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// reclaimAhead is how much retired memory may wait before [Map] reclaims
// it.
const reclaimAhead = 64 << 20

// Map maps length bytes of fd from offset off (mmap) with the given
// protection and flags. Unlike [unix.Mmap] it keeps no table of the
// mappings it made, so that a range can be retired ([Retire]) and later
// unmapped ([Unmap]) by its address alone. A zero length maps nothing.
// When much retired memory waits, it reclaims that first ([Reclaim]).
// The error is mmap's errno.
func Map(fd int, off int64, length, prot, flags int) ([]byte, error) {
	if length == 0 {
		return nil, nil
	}
	if retired.Load() >= reclaimAhead {
		// Retired ranges hold address space until a collection finds
		// them free, and under RLIMIT_AS this mapping may need it. The
		// collection runs now, while the runtime still has room for its
		// own work: one run after mmap failed with ENOMEM can crash it.
		Reclaim()
	}
	p, err := unix.MmapPtr(fd, off, nil, uintptr(length), prot, flags)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), length), nil
}

// Unmap unmaps the pages of b (munmap): memory from [Map], or a
// reservation that [Retire] left. The error is munmap's errno.
func Unmap(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)))
}

// Retire replaces the pages of b, in one mmap(MAP_FIXED) call, by an
// inaccessible reservation of the same addresses (PROT_NONE, anonymous,
// private): whatever was mapped there is unmapped, as by munmap, but the
// addresses stay taken, so that no other mapping can land on them. Code
// still touching b then faults (SIGSEGV) instead of reading or writing
// whatever would have been mapped there next. Release the reservation
// once nothing can touch it. The error is mmap's errno.
func Retire(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)),
		unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_FIXED)
	if err == nil {
		Pend(b)
	}
	return err
}
