//go:build unix

package mmfile

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// pwrite writes p at off of f and returns the count written even when it
// stops short: os.File.WriteAt drops the count of a partial write that
// ends in an error (ENOSPC), and growth must know how far the file got.
func pwrite(f *os.File, p []byte, off int64) (int, error) {
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
