package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// holesFillWhenMapped reports whether reading f through a mapping would
// allocate its holes: f is a file of tmpfs or hugetlbfs (a POSIX
// shared-memory segment in /dev/shm, a memfd, a file in /tmp or /run), or
// of an overlay, whose files may lie on tmpfs, and holds fewer blocks
// than its size says. A read fault on a hole of such a
// file allocates a page there (shmem_fault, hugetlb_no_page), charged to
// the file system's size and kept after the mapping is gone, where read(2)
// of a hole copies the zero page and allocates nothing
// (shmem_file_read_iter): a 3 GiB sparse file would fill a 2 GiB tmpfs,
// where cat reads 3 GiB of zeros. Holes on other file systems map the zero
// page or read as zeros into the page cache, which the kernel can drop,
// so a file there is mapped whatever its blocks. A question that fails
// answers false: the mapping then goes ahead as before.
func holesFillWhenMapped(f *os.File) bool {
	fd := int(f.Fd())
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Blocks*512 >= st.Size {
		return false
	}
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) != nil {
		return false
	}
	switch uint32(fs.Type) {
	case unix.TMPFS_MAGIC, unix.HUGETLBFS_MAGIC:
		return true
	case unix.OVERLAYFS_SUPER_MAGIC:
		// A mapping of an overlay file maps the upper or lower file
		// beneath, which may be tmpfs (live systems, containers): read
		// it rather than find out.
		return true
	}
	return false
}
