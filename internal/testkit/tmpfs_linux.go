package testkit

import (
	"errors"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// SmallTmpfs mounts a tmpfs of size bytes on a directory of t.TempDir and
// unmounts it when the test ends, for the tests that fill a file system
// or need a big file without writing it to the disk. It skips the test
// where this process may not mount one.
func SmallTmpfs(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			t.Skipf("mount -t tmpfs: %v (no CAP_SYS_ADMIN here)", err)
		}
		t.Fatalf("mount -t tmpfs on %s: %v", dir, err)
	}
	// Registered after t.TempDir's removal, so it runs before it; a lazy
	// unmount cannot fail on a file some test left open.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
