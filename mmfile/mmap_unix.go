//go:build unix

package mmfile

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/sys"
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
	return sys.Map(int(f.Fd()), off, length, prot, flags)
}

func unmap(b []byte) error { return sys.Unmap(b) }

// drop retires b, memory that the mapping no longer uses: a reservation
// takes its place, which the io core unmaps once no call can be copying
// from b any longer ([ioadapt.Retirer]).
func (m *mapping) drop(b []byte) error { return m.retired.Drop(b) }

// Retired and StopRetiring make a mapping an [ioadapt.Retirer], which
// takes the lock off the io core's reads and writes.
func (m *mapping) Retired() [][]byte { return m.retired.Take() }
func (m *mapping) StopRetiring()     { m.retired.Stop() }

// Unheld makes the next Close unmap rather than retire
// ([ioadapt.Unheld]): no call holds the memory.
func (m *mapping) Unheld() { m.retired.Unheld() }

func flush(b []byte) error { return unix.Msync(b, unix.MS_SYNC) }

func lockMem(b []byte) error   { return unix.Mlock(b) }
func unlockMem(b []byte) error { return unix.Munlock(b) }
