package sys

import (
	"os"

	"golang.org/x/sys/windows"
)

// DupFile returns a new [*os.File] on a duplicate of f's handle
// (DuplicateHandle with the same access, not inheritable), with f's name.
func DupFile(f *os.File) (*os.File, error) {
	p := windows.CurrentProcess()
	var h windows.Handle
	if err := windows.DuplicateHandle(p, windows.Handle(f.Fd()), p, &h, 0, false, windows.DUPLICATE_SAME_ACCESS); err != nil {
		return nil, os.NewSyscallError("DuplicateHandle", err)
	}
	return os.NewFile(uintptr(h), f.Name()), nil
}
