//go:build windows

package shm

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/windows"
)

// A Windows segment is a named file mapping backed by the paging file
// (CreateFileMapping with INVALID_HANDLE_VALUE), the object that
// boost::interprocess::windows_shared_memory and Python's
// multiprocessing.shared_memory on Windows use. It exists while any process
// holds a handle to it or a view of it; there is no unlink.

type region struct {
	name     string
	h        windows.Handle
	addr     uintptr
	b        []byte
	size     int64
	writable bool
}

func (r *region) Bytes() []byte  { return r.b }
func (r *region) Size() int64    { return r.size }
func (r *region) Writable() bool { return r.writable }
func (r *region) Name() string   { return r.name }

// Sync does nothing: a paging-file-backed mapping has no file to flush to.
func (r *region) Sync() error { return nil }

func (r *region) Close() error {
	var err error
	if r.addr != 0 {
		if e := windows.UnmapViewOfFile(r.addr); e != nil {
			err = &fs.PathError{Op: "unmapview", Path: r.name, Err: e}
		}
		r.addr, r.b = 0, nil
	}
	if r.h != 0 {
		if e := windows.CloseHandle(r.h); e != nil && err == nil {
			err = &fs.PathError{Op: "close", Path: r.name, Err: e}
		}
		r.h = 0
	}
	return err
}

// checkNameOS refuses what Windows would turn into another name: a
// backslash starts a new namespace part, and invalid UTF-8 would become
// U+FFFD in UTF-16, so that two different names would open one object.
func checkNameOS(name string) error {
	if strings.Contains(name, `\`) {
		return detail(ErrInvalidName, "name %q contains a backslash", name)
	}
	if !utf8.ValidString(name) {
		return detail(ErrInvalidName, "name %q is not valid UTF-8", name)
	}
	return nil
}

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// objectName puts the name in the session's namespace, or the global one.
func objectName(name string, c *config) string {
	if c.global {
		return `Global\` + name
	}
	return `Local\` + name
}

var procOpenFileMapping = windows.NewLazySystemDLL("kernel32.dll").NewProc("OpenFileMappingW")

func openFileMapping(access uint32, name *uint16) (windows.Handle, error) {
	h, _, err := procOpenFileMapping.Call(uintptr(access), 0, uintptr(unsafe.Pointer(name)))
	if h == 0 {
		return 0, err
	}
	return windows.Handle(h), nil
}

func openNamed(op, name string, h how, size int64, c *config) (*region, error) {
	if h != openExisting && size == 0 {
		return nil, pathErr(op, name, detail(ErrInvalidSize, "a Windows segment cannot have size 0"))
	}
	wname, err := windows.UTF16PtrFromString(objectName(name, c))
	if err != nil {
		return nil, pathErr(op, name, detail(ErrInvalidName, "name %q: %v", name, err))
	}
	access := uint32(windows.FILE_MAP_READ)
	if !c.readOnly {
		access |= windows.FILE_MAP_WRITE
	}
	r := &region{name: name, writable: !c.readOnly}
	created := false
	if h == openExisting {
		r.h, err = openFileMapping(access, wname)
		if err != nil {
			return nil, pathErr(op, name, err)
		}
	} else {
		r.h, err = windows.CreateFileMapping(windows.InvalidHandle, nil, windows.PAGE_READWRITE,
			uint32(uint64(size)>>32), uint32(size), wname)
		switch {
		case err == windows.ERROR_ALREADY_EXISTS && h == createExcl:
			r.Close()
			return nil, pathErr("create", name, err)
		case err == windows.ERROR_ALREADY_EXISTS:
			c2 := *c
			c2.expectSize, c2.expectSet = size, true
			c = &c2
		case err != nil:
			return nil, pathErr("create", name, err)
		default:
			created = true
		}
	}
	if err := r.view(op, access); err != nil {
		r.Close()
		return nil, err
	}
	switch {
	case created:
		r.size = size
	case c.expectSet:
		if got := int64(len(r.b)); c.expectSize > got || roundPage(c.expectSize) != got {
			r.Close()
			return nil, pathErr(op, name, detail(ErrSizeMismatch,
				"segment is %d bytes (in whole pages), expected %d", got, c.expectSize))
		}
		r.size = c.expectSize
	}
	r.b = r.b[:r.size:r.size]
	return r, nil
}

// view maps the whole mapping and learns its size, which Windows knows only
// rounded up to whole pages.
func (r *region) view(op string, access uint32) error {
	addr, err := windows.MapViewOfFile(r.h, access, 0, 0, 0)
	if err != nil {
		return pathErr("mapview", r.name, err)
	}
	r.addr = addr
	var mbi windows.MemoryBasicInformation
	if err := windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
		return pathErr(op, r.name, os.NewSyscallError("VirtualQuery", err))
	}
	r.size = int64(mbi.RegionSize)
	r.b = unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), mbi.RegionSize)
	return nil
}

func roundPage(n int64) int64 {
	p := int64(os.Getpagesize())
	return (n + p - 1) / p * p
}

func unsupported(op, name, what string) error {
	return pathErr(op, name, fmt.Errorf("%s on windows: %w", what, ErrUnsupported))
}

func createAnon(op string, _ int64, _ *config) (*region, error) {
	return nil, unsupported(op, anonName, "anonymous segments")
}

func fromFile(op string, f *os.File, _ *config) (*region, error) {
	return nil, unsupported(op, f.Name(), "mapping a segment from a file")
}

func unlinkName(_, name string) error {
	return unsupported("unlink", name, "unlink (a segment lives while a handle is open)")
}

func (r *region) unlink() error { return unlinkName("", r.name) }

func (r *region) dup() (*os.File, error) {
	return nil, unsupported("file", r.name, "passing a segment as a file")
}

func (r *region) stat() (Info, error) {
	return Info{Name: r.name, Size: r.size, UID: -1}, nil
}

func listDir(string) ([]Info, error) {
	return nil, unsupported("list", "", "listing named objects")
}

func inUse(string) (map[string]bool, error) { return nil, nil }
