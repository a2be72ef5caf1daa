package mmfile

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// generatedFS names the file systems, by statfs(2) magic, whose regular
// files the kernel makes up when they are read: their size is 0 (procfs)
// or a page (sysfs) whatever they hold, and mmap of them maps nothing or
// fails with ENODEV.
var generatedFS = map[uint32]string{
	unix.PROC_SUPER_MAGIC:    "procfs",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroupfs",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2fs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	configfsMagic:            "configfs",
}

// configfsMagic is CONFIGFS_MAGIC of include/uapi/linux/magic.h, which
// golang.org/x/sys/unix lacks.
const configfsMagic = 0x62656570

// checkMappable refuses a file of a file system in generatedFS; fi is the
// file's. Those file systems never count blocks for a file (their inodes
// keep i_blocks 0, whatever the size says), so a file with blocks is none
// of theirs and needs no fstatfs: only an empty or sparse file pays for
// the question. Where fstatfs fails, it lets mmap decide.
func checkMappable(f *os.File, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks > 0 {
		return nil
	}
	var st unix.Statfs_t
	if unix.Fstatfs(int(f.Fd()), &st) != nil {
		return nil
	}
	if name, ok := generatedFS[uint32(st.Type)]; ok {
		return errs.Detail(ErrNotMappable, "file cannot be mapped: a file of %s, made up when read (read it with os.ReadFile)", name)
	}
	return nil
}
