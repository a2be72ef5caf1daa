package mmfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// flushAsync starts writing back the dirty pages of [off, off+n) of the
// file without waiting. msync(MS_ASYNC) does nothing on Linux since 2.6.19;
// sync_file_range(SYNC_FILE_RANGE_WRITE) starts the I/O.
func flushAsync(f *os.File, _ []byte, off, n int64) error {
	return unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
