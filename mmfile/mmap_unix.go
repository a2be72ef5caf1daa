//go:build unix

package mmfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapPastEOF: a Unix mapping may extend past the end of the file (touching
// those pages raises SIGBUS, and the io core never does), so capacity can
// run ahead of the size and appends need not remap.
const mapPastEOF = true

// syncNeedsFsync: msync(MS_SYNC) writes the data back durably; fsync is
// needed only for a changed size.
const syncNeedsFsync = false

// openFlags are added to every open: O_NONBLOCK keeps an open of a FIFO
// from blocking until a writer comes, so the regular-file check can say no.
const openFlags = unix.O_NONBLOCK

func granularity() int64 { return int64(os.Getpagesize()) }

func mapFile(f *os.File, off int64, length int, writable, private, populate bool) ([]byte, error) {
	prot, flags := unix.PROT_READ, unix.MAP_SHARED
	if writable {
		prot |= unix.PROT_WRITE
	}
	if private {
		flags = unix.MAP_PRIVATE
	}
	if populate {
		flags |= populateFlag
	}
	return unix.Mmap(int(f.Fd()), off, length, prot, flags)
}

func unmap(b []byte) error { return unix.Munmap(b) }

func flush(b []byte) error { return unix.Msync(b, unix.MS_SYNC) }

func lockMem(b []byte) error   { return unix.Mlock(b) }
func unlockMem(b []byte) error { return unix.Munlock(b) }
