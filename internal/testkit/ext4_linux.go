package testkit

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// SmallExt4 makes an ext4 file system of size bytes in an image file of
// t.TempDir, mounts it through a loop device on another directory of
// t.TempDir and unmounts it when the test ends, for the tests of what
// ext4 does on a full disk that tmpfs does not (it keeps the blocks of a
// fallocate that failed). It skips the test where mkfs.ext4 is missing
// or this process may not mount a loop device.
func SmallExt4(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting an ext4 image needs root")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		t.Skipf("no mkfs.ext4: %v", err)
	}
	image := filepath.Join(t.TempDir(), "ext4.img")
	if err := os.WriteFile(image, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(image, size); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-m", "0", image).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 of %d bytes: %v\n%s", size, err, out)
	}
	dir := t.TempDir()
	// mount(8) finds a free loop device; the image goes with t.TempDir.
	if out, err := exec.Command("mount", "-o", "loop", image, dir).CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Skipf("mount -o loop of an ext4 image (%s): %s", strconv.Quote(err.Error()), out)
		}
		t.Fatalf("mount -o loop: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
