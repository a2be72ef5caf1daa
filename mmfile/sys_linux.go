package mmfile

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

const (
	populateFlag   = unix.MAP_POPULATE
	hugePageAdvice = unix.MADV_HUGEPAGE
)

// remap grows the mapping in place or moves it (mremap), without the
// window in which munmap then mmap would leave the range unmapped.
func remap(_ *os.File, b []byte, length int, _ bool) ([]byte, error) {
	return unix.Mremap(b, length, unix.MREMAP_MAYMOVE)
}

// errSplitMapping is mremap's error for a range that is no longer one
// kernel mapping (mlock or madvise of a part split it).
var errSplitMapping error = unix.EFAULT

// reserve allocates the blocks of [off, off+n) without changing the
// file's size (fallocate FALLOC_FL_KEEP_SIZE), so that a full disk fails
// here, not as a SIGBUS at the first store into them. On a file system
// without fallocate it reserves nothing.
func reserve(f *os.File, off, n int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, off, n)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS):
			return nil
		}
		return err
	}
}

// flushAsync starts writing back the dirty pages of [off, off+n) of the
// file without waiting. msync(MS_ASYNC) does nothing on Linux since 2.6.19;
// sync_file_range(SYNC_FILE_RANGE_WRITE) starts the I/O.
func flushAsync(f *os.File, _ []byte, off, n int64) error {
	return unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// directWrites: pwrite(2) lands in the page cache that a shared mapping
// shows, so large and growing writes can skip the page faults.
const directWrites = true
