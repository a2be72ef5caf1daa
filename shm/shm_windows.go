//go:build windows

package shm

import (
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// segment is a Windows segment: a named file mapping backed by the paging
// file (CreateFileMapping with INVALID_HANDLE_VALUE), the object that
// boost::interprocess::windows_shared_memory and Python's
// multiprocessing.shared_memory on Windows use, and a view of it. It
// exists while any process holds a handle to it or a view of it; there is
// no unlink. Sync does nothing: there is no file to flush to.
type segment struct {
	h            windows.Handle // the file mapping
	region.Fixed                // the view
}

// Close unmaps the view and closes the handle, which it closes whether or
// not the unmap failed.
func (r *segment) Close() error {
	var err error
	if r.Mem != nil {
		if e := sys.Unview(r.Mem); e != nil {
			err = &fs.PathError{Op: "close", Path: r.Label, Err: e}
		}
		r.Mem = nil
	}
	if r.h != 0 {
		if e := windows.CloseHandle(r.h); e != nil {
			err = errs.Rollback(err, &fs.PathError{Op: "close", Path: r.Label, Err: os.NewSyscallError("CloseHandle", e)})
		}
		r.h = 0
	}
	return err
}

// checkOptionsOS refuses what a Windows object cannot honour: permission
// bits (it gets the default security of the creating process) and the
// owner and mode checks of RequireSecure.
func checkOptionsOS(c *config) error {
	switch {
	case c.permSet:
		return errs.Unsupported("Mode")
	case c.secure:
		return errs.Unsupported("RequireSecure")
	}
	return nil
}

// checkNameOS refuses what Windows would turn into another name: a
// backslash starts a new namespace part, and invalid UTF-8 would become
// U+FFFD in UTF-16, so that two different names would open one object.
func checkNameOS(name string) error {
	if strings.Contains(name, `\`) {
		return errs.Detail(ErrInvalidName, "name %q contains a backslash", name)
	}
	if !utf8.ValidString(name) {
		return errs.Detail(ErrInvalidName, "name %q is not valid UTF-8", name)
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

// openNamed opens or creates the named file mapping as h says; Windows
// has no directory for it.
func openNamed(op, _, name string, h how, size int64, c *config) (*segment, error) {
	if h != openExisting && size == 0 {
		return nil, pathErr(op, name, errs.Detail(ioadapt.ErrInvalidSize, "a Windows segment cannot have size 0"))
	}
	wname, err := windows.UTF16PtrFromString(objectName(name, c))
	if err != nil {
		return nil, pathErr(op, name, errs.Detail(ErrInvalidName, "name %q: %v", name, err))
	}
	access := uint32(windows.FILE_MAP_READ)
	if !c.readOnly {
		access |= windows.FILE_MAP_WRITE
	}
	r := &segment{Fixed: region.Fixed{Label: name, CanWrite: !c.readOnly}}
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
			return nil, errs.Rollback(pathErr("create", name, err), r.Close())
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
	// The whole mapping, whose size Windows knows only in whole pages.
	r.Mem, err = sys.View(r.h, access, 0, 0)
	if err != nil {
		return nil, errs.Rollback(pathErr(op, name, err), r.Close())
	}
	n := int64(len(r.Mem))
	switch {
	case created:
		n = size
	case c.expectSet:
		if got := int64(len(r.Mem)); c.expectSize > got || roundPage(c.expectSize) != got {
			return nil, errs.Rollback(pathErr(op, name, errs.Detail(ioadapt.ErrSizeMismatch,
				"segment is %d bytes (in whole pages), expected %d", got, c.expectSize)), r.Close())
		}
		n = c.expectSize
	}
	r.Mem = r.Mem[:n:n]
	return r, nil
}

func roundPage(n int64) int64 {
	p := int64(os.Getpagesize())
	return (n + p - 1) / p * p
}

func unsupported(op, name, what string) error {
	return pathErr(op, name, errs.Unsupported(what))
}

func createAnon(op string, _ int64, _ *config) (*segment, error) {
	return nil, unsupported(op, anonName, "anonymous segments")
}

func fromFile(op string, f *os.File, _ *config) (*segment, error) {
	return nil, unsupported(op, f.Name(), "mapping a segment from a file")
}

func unlinkName(_, name string) error {
	return unsupported("unlink", name, "unlink (a segment lives while a handle is open)")
}

func (r *segment) unlink() error { return unlinkName("", r.Label) }

func (r *segment) dup() (*os.File, error) {
	return nil, unsupported("file", r.Label, "passing a segment as a file")
}

func (r *segment) stat() (Info, error) {
	return Info{Name: r.Label, Size: r.Size(), UID: -1}, nil
}

func listDir(string) ([]Info, error) {
	return nil, unsupported("list", "", "listing named objects")
}

// inUse cannot tell which objects are open: RemoveStale, which asks it
// first, is unsupported here.
func inUse(string) (map[string]bool, error) {
	return nil, unsupported("removestale", "", "finding stale segments")
}

// region returns r: no kind of segment here is known not to fault.
func (r *segment) region(bool) ioadapt.Region { return r }
