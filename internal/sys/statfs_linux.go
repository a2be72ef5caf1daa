package sys

import "golang.org/x/sys/unix"

// kernelFileSystems names, by their statfs(2) f_type magic (the values of
// include/uapi/linux/magic.h), the file systems whose regular files the
// kernel makes up when they are read or takes as commands when they are
// written: their size says 0 (procfs) or a page (sysfs) whatever they hold,
// mmap of them maps nothing or fails with ENODEV, and nothing can be
// created or renamed in them. The keys are uint32: f_type is 32 bits wide
// on 32-bit systems, where SELINUX_MAGIC (0xf97cff8c) would go negative in
// a wider signed type.
var kernelFileSystems = map[uint32]string{
	unix.PROC_SUPER_MAGIC:    "procfs",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroupfs",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2fs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.SELINUX_MAGIC:       "selinuxfs",
	unix.SMACK_MAGIC:         "smackfs",
	unix.BPF_FS_MAGIC:        "bpffs",
	unix.EFIVARFS_MAGIC:      "efivarfs",
	unix.PSTOREFS_MAGIC:      "pstore",
	unix.BINFMTFS_MAGIC:      "binfmt_misc",
	configfsMagic:            "configfs",
}

// configfsMagic is CONFIGFS_MAGIC of include/uapi/linux/magic.h, which
// golang.org/x/sys/unix lacks.
const configfsMagic = 0x62656570

// KernelFS names the file system of the open file fd if it is one of the
// kernel's attribute file systems (procfs, sysfs, cgroupfs, debugfs and
// the like: see kernelFileSystems), by fstatfs(2); otherwise, or where
// fstatfs fails, it returns "".
func KernelFS(fd int) string {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) != nil {
		return ""
	}
	return kernelFileSystems[uint32(st.Type)]
}
