//go:build unix && !linux

package mmfile

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// pwrite writes p at off of f and returns the count written even when it
// stops short: os.File.WriteAt drops the count of a partial write that
// ends in an error (ENOSPC), and growth must know how far the file got.
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
	n := 0
	for n < len(p) {
		m, err := unix.Pwrite(fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrUnexpectedEOF
		}
		n += m
	}
	return n, nil
}
