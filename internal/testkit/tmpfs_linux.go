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
	return mountTmpfs(t, t.TempDir(), "size="+strconv.FormatInt(size, 10))
}

// SharedTmpfs is [SmallTmpfs] on a directory of [SharedDir], itself of
// mode 0755: every user can enter it, only root can write in it, as the
// tests that run a command as other users need.
func SharedTmpfs(t testing.TB, size int64) string {
	t.Helper()
	return mountTmpfs(t, SharedDir(t), "mode=0755,size="+strconv.FormatInt(size, 10))
}

func mountTmpfs(t testing.TB, dir, opts string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			t.Skipf("mount -t tmpfs: %v (no CAP_SYS_ADMIN here)", err)
		}
		t.Fatalf("mount -t tmpfs -o %s on %s: %v", opts, dir, err)
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
