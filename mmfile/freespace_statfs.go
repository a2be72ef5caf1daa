//go:build linux || darwin || freebsd

package mmfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes that the file system holding f has free for
// this user, and its size (fstatfs).
func freeSpace(f *os.File) (free, total int64, ok bool) {
	var st unix.Statfs_t
	if unix.Fstatfs(int(f.Fd()), &st) != nil {
		return 0, 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize), true
}
