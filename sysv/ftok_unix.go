//go:build unix

package sysv

import (
	"io/fs"
	"syscall"
)

// devIno returns the st_dev and st_ino that ftok(3) uses.
func devIno(fi fs.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true
}
