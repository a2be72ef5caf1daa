package mmfile

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

const (
	// mapPastEOF: a view cannot extend past the end of the file — a file
	// mapping object larger than the file grows the file — so the mapping
	// always matches the size, and growth unmaps, resizes and remaps.
	mapPastEOF = false
	// syncNeedsFsync: FlushViewOfFile only starts the write-back;
	// FlushFileBuffers waits for it.
	syncNeedsFsync = true
	openFlags      = 0
	// populateFlag: Windows has no MAP_POPULATE; Populate is unsupported.
	populateFlag = 0
)

// granularity is the allocation granularity, the unit of view offsets:
// 64 KiB on every Windows system.
func granularity() int64 { return 64 << 10 }

func mapFile(f *os.File, off int64, length int, writable, private, populate bool) ([]byte, error) {
	if populate {
		return nil, ErrUnsupported
	}
	prot, access := uint32(windows.PAGE_READONLY), uint32(windows.FILE_MAP_READ)
	switch {
	case private:
		prot, access = windows.PAGE_WRITECOPY, windows.FILE_MAP_COPY
	case writable:
		prot, access = windows.PAGE_READWRITE, windows.FILE_MAP_WRITE
	}
	end := uint64(off) + uint64(length)
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, prot, uint32(end>>32), uint32(end), nil)
	if err != nil {
		return nil, os.NewSyscallError("CreateFileMapping", err)
	}
	// The view keeps the mapping object alive; its handle is not needed.
	defer windows.CloseHandle(h)
	addr, err := windows.MapViewOfFile(h, access, uint32(uint64(off)>>32), uint32(off), uintptr(length))
	if err != nil {
		return nil, os.NewSyscallError("MapViewOfFile", err)
	}
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), length), nil
}

func base(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func unmap(b []byte) error {
	return os.NewSyscallError("UnmapViewOfFile", windows.UnmapViewOfFile(base(b)))
}

func remap(f *os.File, b []byte, length int, writable bool) ([]byte, error) {
	if err := unmap(b); err != nil {
		return nil, err
	}
	return mapFile(f, 0, length, writable, false, false)
}

// errSplitMapping is never returned here: remap maps afresh anyway.
var errSplitMapping = errors.New("split mapping")

func flush(b []byte) error {
	return os.NewSyscallError("FlushViewOfFile", windows.FlushViewOfFile(base(b), uintptr(len(b))))
}

func flushAsync(_ *os.File, b []byte, _, _ int64) error {
	if len(b) == 0 {
		return nil
	}
	return flush(b)
}

// reserve reserves nothing: a view cannot reach past the end of the file
// here, and extending the file allocates its clusters.
func reserve(*os.File, int64, int64) error { return nil }

func advise(_ []byte, a Advice) error {
	if a == Normal {
		return nil
	}
	return ErrUnsupported
}

func lockMem(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return os.NewSyscallError("VirtualLock", windows.VirtualLock(base(b), uintptr(len(b))))
}

func unlockMem(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return os.NewSyscallError("VirtualUnlock", windows.VirtualUnlock(base(b), uintptr(len(b))))
}

// dupFile duplicates f's handle, so that the mapping owns a handle of its
// own.
func dupFile(f *os.File) (*os.File, error) {
	p := windows.CurrentProcess()
	var h windows.Handle
	if err := windows.DuplicateHandle(p, windows.Handle(f.Fd()), p, &h, 0, false, windows.DUPLICATE_SAME_ACCESS); err != nil {
		return nil, os.NewSyscallError("DuplicateHandle", err)
	}
	return os.NewFile(uintptr(h), f.Name()), nil
}

// directWrites is off: Windows does not promise that WriteFile is
// coherent with a mapped view of the same file.
const directWrites = false

// appendMode reports false: with directWrites off, nothing here writes
// through the handle, so its append mode does not matter.
func appendMode(*os.File) (bool, error) { return false, nil }

// pwrite writes p at off of f. With directWrites off, nothing here calls
// it; os.File.WriteAt would drop the count of a write cut short.
func pwrite(f *os.File, p []byte, off int64) (int, error) { return f.WriteAt(p, off) }
