//go:build unix && !linux

package mmfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// flushAsync asks for write-back of the pages of b without waiting
// (msync MS_ASYNC).
func flushAsync(_ *os.File, b []byte, _, _ int64) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Msync(b, unix.MS_ASYNC)
}
