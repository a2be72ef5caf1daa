package mmfile

import (
	"io/fs"
	"os"
	"syscall"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/sys"
)

// checkMappable refuses a file of one of the kernel's attribute file
// systems (procfs, sysfs and the like: [sys.KernelFS]), whose regular
// files the kernel makes up when they are read: their size is 0 (procfs)
// or a page (sysfs) whatever they hold, and mmap of them maps nothing or
// fails with ENODEV; fi is the file's. Those file systems never count
// blocks for a file (their inodes keep i_blocks 0, whatever the size
// says), so a file with blocks is none of theirs and needs no fstatfs:
// only an empty or sparse file pays for the question. Where fstatfs
// fails, it lets mmap decide.
func checkMappable(f *os.File, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks > 0 {
		return nil
	}
	if name := sys.KernelFS(int(f.Fd())); name != "" {
		return errs.Detail(ErrNotMappable, "file cannot be mapped: a file of %s, made up when read (read it with os.ReadFile)", name)
	}
	return nil
}
