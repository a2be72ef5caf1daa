//go:build unix

package mmfile

import (
	"io"

	"golang.org/x/sys/unix"
)

// pwriteAll writes all of p at off, one write (once) after another, and
// returns the count written even when it stops short: os.File.WriteAt
// drops the count of a partial write that ends in an error (ENOSPC), and
// growth must know how far the file got.
func pwriteAll(p []byte, off int64, once func(b []byte, off int64) (int, error)) (int, error) {
	n := 0
	for n < len(p) {
		m, err := once(p[n:], off+int64(n))
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
