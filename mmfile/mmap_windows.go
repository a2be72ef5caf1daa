package mmfile

import (
	"os"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/internal/sys"
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

func mapFile(f *os.File, off int64, length int, writable, private, _ bool) ([]byte, error) {
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
	return sys.View(h, access, off, length)
}

func unmap(b []byte) error { return sys.Unview(b) }

// drop unmaps b: a view cannot be retired in one call here, so the io core
// holds its read lock over every call, and Close and growth, which drop
// views, wait for the calls in flight.
func (m *mapping) drop(b []byte) error { return unmap(b) }

func flush(b []byte) error {
	return os.NewSyscallError("FlushViewOfFile", windows.FlushViewOfFile(sys.Addr(b), uintptr(len(b))))
}

func lockMem(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return os.NewSyscallError("VirtualLock", windows.VirtualLock(sys.Addr(b), uintptr(len(b))))
}

func unlockMem(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return os.NewSyscallError("VirtualUnlock", windows.VirtualUnlock(sys.Addr(b), uintptr(len(b))))
}
