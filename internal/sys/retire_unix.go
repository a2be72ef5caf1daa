//go:build unix

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// How much retired memory may wait before [Map] reclaims it. Under an
// address-space limit (RLIMIT_AS) a reservation takes addresses that the
// next mapping may need: 64 MiB. Without one it costs only its addresses
// (of 128 TiB) and at most one entry of the process's table of mappings
// (vm.max_map_count, 65530 by default): Map then waits for 1024 ranges or
// 1 TiB, so that a program that opens, appends to and closes file after
// file pays for a forced collection once in many files, not on each.
const (
	reclaimAhead          = 64 << 20
	reclaimAheadRanges    = 1024
	reclaimAheadUnlimited = 1 << 40
)

// reclaimDue reports whether Map should reclaim retired memory first:
// whether enough was retired since what the last Reclaim left.
func reclaimDue() bool {
	n := retired.Load() - reclaimLeft.Load()
	switch {
	case n <= 0:
		return false
	case n >= reclaimAheadUnlimited || retiredRanges.Load()-reclaimLeftRanges.Load() >= reclaimAheadRanges:
		return true
	case n < reclaimAhead:
		return false
	}
	return AddressSpaceLimited()
}

// ReclaimIfDue reclaims retired memory ([Reclaim]) when much of it waits:
// call it before mapping memory by other means than [Map] (a System V
// attach). Retired ranges hold address space until a collection finds
// them free, and under RLIMIT_AS the next mapping may need it. The
// collection runs before the mapping, while the runtime still has room
// for its own work: one run after mmap failed with ENOMEM can crash it.
func ReclaimIfDue() {
	if reclaimDue() {
		Reclaim()
	}
}

// AddressSpaceLimited reports whether the process's addresses are few
// enough that retired memory may take what a mapping needs: an
// address-space limit (RLIMIT_AS), or a 32-bit platform's 4 GiB.
func AddressSpaceLimited() bool {
	if ^uintptr(0)>>32 == 0 {
		return true
	}
	var lim unix.Rlimit
	return unix.Getrlimit(unix.RLIMIT_AS, &lim) != nil || lim.Cur != unix.RLIM_INFINITY
}

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
	ReclaimIfDue()
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
