//go:build !unix

package sysv

import "io/fs"

// devIno reports that this platform's file information has no st_dev and
// st_ino for ftok to use.
func devIno(fs.FileInfo) (dev, ino uint64, ok bool) { return 0, 0, false }
