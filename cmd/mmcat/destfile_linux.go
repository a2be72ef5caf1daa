package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// createTemp creates the new file for a replace in dir. It has no name
// (O_TMPFILE) until publish links it, just before the rename: nothing can
// be swapped for it, and a killed mmcat leaves nothing behind. File
// systems without O_TMPFILE (NFS, FUSE, vfat) get a named file.
func createTemp(dir *os.File, base string, perm uint32) (*os.File, string, error) {
	fd, err := unix.Openat(int(dir.Fd()), ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, perm)
	switch {
	case err == nil && canLinkUnnamed():
		// Locked from the start, so that once publish links it no
		// RemoveLeftovers takes it for a dead writer's.
		f := os.NewFile(uintptr(fd), dir.Name()+"/"+base)
		lockTemp(f)
		return f, "", nil
	case err == nil:
		_ = unix.Close(fd)
	case err != unix.EOPNOTSUPP && err != unix.EISDIR && err != unix.EINVAL:
		return nil, "", err
	}
	return createNamed(dir, base, perm)
}

// canLinkUnnamed reports whether an O_TMPFILE file can be given a name:
// by descriptor (linkat AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH),
// or through /proc/self/fd.
var canLinkUnnamed = sync.OnceValue(func() bool {
	if hasCapability(unix.CAP_DAC_READ_SEARCH) {
		return true
	}
	_, err := os.Stat("/proc/self/fd")
	return err == nil
})

// linkTemp gives the unnamed file tmp a temporary name in dir.
func linkTemp(dir, tmp *os.File, base string) (string, error) {
	return withTempName(base, func(name string) error {
		err := unix.Linkat(int(tmp.Fd()), "", int(dir.Fd()), name, unix.AT_EMPTY_PATH)
		if err == unix.ENOENT || err == unix.EPERM {
			err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(tmp.Fd())), int(dir.Fd()), name, unix.AT_SYMLINK_FOLLOW)
		}
		return err
	})
}

// openSearchOnly opens a directory that cannot be read with O_PATH, which
// is enough for the *at calls (not for fsync).
func openSearchOnly(dir string) (int, error) {
	return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// isProcfs reports whether dir is in /proc, whose symbolic links under
// PID/fd name open files.
func isProcfs(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}

// pseudoFS names the file system of f if it is one of the kernel's
// attribute file systems ([sys.KernelFS]): their regular files are written
// in place (echo 1 > /proc/sys/...), and nothing can be created or renamed
// there.
func pseudoFS(f *os.File) string { return sys.KernelFS(int(f.Fd())) }

// isMountPoint reports whether the file f is mounted on its name in dir,
// as a container's /etc/hosts is: its mount ID differs from the
// directory's (or, before Linux 5.8, its device).
func isMountPoint(f, dir *os.File) bool {
	var a, b unix.Statx_t
	if unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &a) != nil ||
		unix.Statx(int(dir.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &b) != nil {
		return false
	}
	if a.Mask&b.Mask&unix.STATX_MNT_ID != 0 {
		return a.Mnt_id != b.Mnt_id
	}
	return a.Dev_major != b.Dev_major || a.Dev_minor != b.Dev_minor
}

// hasCapability reports whether the process has the capability in its
// effective set.
func hasCapability(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return os.Geteuid() == 0
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

// canKeepSetID reports whether writing a file keeps its set-user-ID bit:
// with CAP_FSETID (root has it).
func canKeepSetID() bool { return hasCapability(unix.CAP_FSETID) }

// droppedXattr is the extended attribute that cat > DEST loses too: the
// kernel removes a file's capabilities when it is written, so that new
// contents never inherit them.
const droppedXattr = "security.capability"

// copyAttributes gives to the extended attributes of from (ACLs are
// system.posix_acl_access), and no others, and its file flags (lsattr),
// through the descriptors.
func copyAttributes(from, to *os.File) error {
	ffd, tfd := int(from.Fd()), int(to.Fd())
	names, err := listXattrs(ffd)
	if err != nil {
		return cannotReplace("its extended attributes cannot be listed (%s)", reason(err))
	}
	keep := make(map[string]bool, len(names))
	for _, name := range names {
		if name == droppedXattr {
			continue
		}
		keep[name] = true
		v, err := getXattr(ffd, name)
		if err != nil {
			return cannotReplace("its extended attribute %s cannot be read (%s)", name, reason(err))
		}
		if err := unix.Fsetxattr(tfd, name, v, 0); err != nil {
			return cannotReplace("its extended attribute %s cannot be given to a new file (%s)", name, reason(err))
		}
	}
	// What the new file got by itself: a default ACL of the directory.
	got, err := listXattrs(tfd)
	if err != nil {
		return cannotReplace("the extended attributes of a new file cannot be listed (%s)", reason(err))
	}
	for _, name := range got {
		if keep[name] {
			continue
		}
		if err := unix.Fremovexattr(tfd, name); err != nil && err != unix.ENODATA {
			return cannotReplace("a new file gets the extended attribute %s, which it does not have, and it cannot be removed (%s)", name, reason(err))
		}
	}
	return copyFlags(ffd, tfd)
}

// listXattrs lists the names of a file's extended attributes; none where
// the file system has none.
func listXattrs(fd int) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Flistxattr(fd, buf)
		switch {
		case err == unix.ERANGE:
			buf = make([]byte, 2*len(buf))
			continue
		case err == unix.ENOTSUP:
			return nil, nil
		case err != nil:
			return nil, err
		}
		var names []string
		for _, name := range bytes.Split(buf[:n], []byte{0}) {
			if len(name) > 0 {
				names = append(names, string(name))
			}
		}
		return names, nil
	}
}

// getXattr reads one extended attribute.
func getXattr(fd int, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Fgetxattr(fd, name, buf)
		if err == unix.ERANGE {
			if sz, err := unix.Fgetxattr(fd, name, nil); err == nil && sz > len(buf) {
				buf = make([]byte, sz)
			} else {
				buf = make([]byte, 2*len(buf))
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// File flags of FS_IOC_GETFLAGS (linux/fs.h) that the owner of a file may
// set, and that cat > DEST therefore keeps and a replace must carry over.
// Immutable and append-only files cannot be opened for writing: -o
// refuses them as cat does.
var carriedFlags = []struct {
	bit    uint32
	letter byte // as lsattr shows it
}{
	{0x00000001, 's'}, // FS_SECRM_FL
	{0x00000002, 'u'}, // FS_UNRM_FL
	{0x00000004, 'c'}, // FS_COMPR_FL
	{0x00000008, 'S'}, // FS_SYNC_FL
	{0x00000040, 'd'}, // FS_NODUMP_FL
	{0x00000080, 'A'}, // FS_NOATIME_FL
	{0x00000400, 'm'}, // FS_NOCOMP_FL
	{0x00008000, 't'}, // FS_NOTAIL_FL
	{0x00800000, 'C'}, // FS_NOCOW_FL
}

// copyFlags gives tfd the carried flags of ffd, before any data is
// written (No_COW only applies to an empty file).
func copyFlags(ffd, tfd int) error {
	old, err := unix.IoctlGetUint32(ffd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return nil // no flags on this file system
	}
	var mask uint32
	var letters strings.Builder
	for _, f := range carriedFlags {
		mask |= f.bit
		if old&f.bit != 0 {
			letters.WriteByte(f.letter)
		}
	}
	if old&mask == 0 {
		// A new file starts without them, unless its directory passes
		// some on (chattr +C on a btrfs directory); cat would not have.
		if cur, err := unix.IoctlGetUint32(tfd, unix.FS_IOC_GETFLAGS); err != nil || cur&mask == 0 {
			return nil
		}
	}
	cur, err := unix.IoctlGetUint32(tfd, unix.FS_IOC_GETFLAGS)
	if err == nil {
		want := cur&^mask | old&mask
		if want == cur {
			return nil
		}
		err = unix.IoctlSetPointerInt(tfd, unix.FS_IOC_SETFLAGS, int(int32(want)))
	}
	if err != nil {
		return cannotReplace("its file attributes %q (lsattr) cannot be given to a new file (%s)", letters.String(), reason(err))
	}
	return nil
}

// exchange swaps the names from and to in dir (renameat2 RENAME_EXCHANGE):
// to then names the new file and from the old one, which the caller
// removes. A plain rename over an existing ext4 file makes the kernel
// start writing the new file out there and then (auto_da_alloc), which
// cat > DEST does not wait for; an exchange does not. It reports false
// where the file system cannot exchange, or to does not exist.
func exchange(dir *os.File, from, to string) (bool, error) {
	err := unix.Renameat2(int(dir.Fd()), from, int(dir.Fd()), to, unix.RENAME_EXCHANGE)
	switch err {
	case nil:
		return true, nil
	case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP, unix.ENOENT:
		return false, nil
	}
	return false, err
}

// dropCache drops the cached pages of the file that a replace discards,
// before the new file is written, when none of them is dirty (cachestat,
// Linux 6.5): the new file's pages then reuse them, as cat > DEST's
// truncation lets its pages do, instead of taking memory that may never
// have been touched (slow in a virtual machine, whose host supplies it on
// first use) or pushing other files out of the cache. A dirty page would
// have to be written first, which cat does not pay: then nothing is
// dropped.
func dropCache(f *os.File) {
	var st unix.Cachestat_t
	if unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{}, &st, 0) != nil || st.Dirty != 0 || st.Writeback != 0 {
		return
	}
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// syncFS makes everything on the file system of f durable (syncfs(2)).
func syncFS(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
