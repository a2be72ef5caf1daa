package mmfile

import (
	"os"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/sys"
)

// checkMappable refuses a file of one of the kernel's attribute file
// systems (procfs, sysfs and the like: [sys.KernelFS]), whose regular
// files the kernel makes up when they are read: their size is 0 (procfs)
// or a page (sysfs) whatever they hold, and mmap of them maps nothing or
// fails with ENODEV. Where fstatfs fails, it lets mmap decide.
func checkMappable(f *os.File) error {
	if fs := sys.KernelFS(int(f.Fd())); fs != "" {
		return errs.Detail(ErrNotMappable, "file cannot be mapped: a file of %s, made up when read (read it with os.ReadFile)", fs)
	}
	return nil
}
