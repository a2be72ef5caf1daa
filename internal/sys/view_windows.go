package sys

import (
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// View maps length bytes of the file mapping h at offset off
// (MapViewOfFile with access) and returns them as a slice; a length of 0
// maps the whole mapping, whose size Windows tells only in whole pages
// (VirtualQuery), and the slice then has that size.
func View(h windows.Handle, access uint32, off int64, length int) ([]byte, error) {
	addr, err := windows.MapViewOfFile(h, access, uint32(uint64(off)>>32), uint32(off), uintptr(length))
	if err != nil {
		return nil, os.NewSyscallError("MapViewOfFile", err)
	}
	if length == 0 {
		var mbi windows.MemoryBasicInformation
		if err := windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
			_ = windows.UnmapViewOfFile(addr)
			return nil, os.NewSyscallError("VirtualQuery", err)
		}
		length = int(mbi.RegionSize)
	}
	// The address is memory outside the Go heap: converting it through a
	// pointer to it, not uintptr to unsafe.Pointer directly, keeps vet's
	// unsafeptr check quiet about a conversion that is valid here.
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), length), nil
}

// Unview unmaps the view that b starts (UnmapViewOfFile). b may be a
// reslice of what [View] returned, as long as it starts where the view
// does.
func Unview(b []byte) error {
	return os.NewSyscallError("UnmapViewOfFile", windows.UnmapViewOfFile(Addr(b)))
}

// Addr returns the address at which b starts, as the system calls on
// views take it.
func Addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
