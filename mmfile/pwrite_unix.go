//go:build unix && !linux

package mmfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// pwrite writes p at off of f (pwriteAll).
//
// With directWrites off nothing calls it here: writes go into the
// mapping, and growth is ftruncate(2), which O_APPEND does not touch. A
// shared descriptor (Map's, whose open file description the caller may
// put in append mode) is still checked before each write, so that a
// pwrite never becomes an append should directWrites come to these
// systems: POSIX leaves pwrite on an O_APPEND descriptor unspecified, and
// systems differ.
func pwrite(f *os.File, p []byte, off int64, shared bool) (int, error) {
	if shared {
		if err := checkNotAppending(f, off); err != nil {
			return 0, err
		}
	}
	fd := int(f.Fd())
	return pwriteAll(p, off, func(b []byte, off int64) (int, error) { return unix.Pwrite(fd, b, off) })
}
