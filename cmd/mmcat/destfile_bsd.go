//go:build unix && !linux

package main

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// createTemp creates the new file for a replace in dir: named, since only
// Linux has O_TMPFILE.
func createTemp(dir *os.File, base string, perm uint32) (*os.File, string, error) {
	return createNamed(dir, base, perm)
}

// linkTemp is never needed: createTemp's files have names.
func linkTemp(_, _ *os.File, _ string) (string, error) {
	return "", errors.New("unnamed temporary files are Linux's")
}

// openSearchOnly fails: without O_PATH a directory that cannot be read
// cannot be opened.
func openSearchOnly(string) (int, error) { return -1, unix.EACCES }

// isProcfs is false: the BSDs' /dev/fd files are devices, which -o writes
// in place anyway.
func isProcfs(string) bool { return false }

// pseudoFS names no file system: Linux's are the ones known.
func pseudoFS(*os.File) string { return "" }

// isMountPoint compares devices: a file mounted from another file system.
func isMountPoint(f, dir *os.File) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Fstat(int(dir.Fd()), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// canKeepSetID: root keeps the set-user-ID bit when it writes a file.
func canKeepSetID() bool { return os.Geteuid() == 0 }

// copyAttributes carries nothing more: extended attributes and flags are
// carried over on Linux only.
func copyAttributes(_, _ *os.File) error { return nil }

// exchange cannot swap names here: publish renames over DEST.
func exchange(*os.File, string, string) (bool, error) { return false, nil }

// dropCache leaves the cache alone: without cachestat(2) there is no way
// to know that the old file has no dirty pages to write first.
func dropCache(*os.File) {}

// startWriteback does nothing: the fsync at the end writes the file.
func startWriteback(*os.File, int64, int64) {}

// syncFS is never needed: openSearchOnly opens no directory here.
func syncFS(*os.File) error { return unix.EBADF }
