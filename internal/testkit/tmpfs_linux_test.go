package testkit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// TestSmallTmpfs fills the tmpfs: it takes no more than its size.
func TestSmallTmpfs(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 1<<20)
	n, err := fill(t, dir, 4<<20)
	if !errors.Is(err, syscall.ENOSPC) || n > 1<<20 {
		t.Errorf("after %d bytes on a 1 MiB tmpfs: %v; want ENOSPC by 1 MiB", n, err)
	}
}

// TestSmallExt4 fills the ext4 image: it takes no more than its size, and
// statfs says ext4.
func TestSmallExt4(t *testing.T) {
	dir := testkit.SmallExt4(t, 8<<20)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type != 0xef53 {
		t.Fatalf("statfs of %s: type %#x, %v; want EXT4_SUPER_MAGIC", dir, st.Type, err)
	}
	n, err := fill(t, dir, 32<<20)
	if !errors.Is(err, syscall.ENOSPC) || n > 8<<20 {
		t.Errorf("after %d bytes on an 8 MiB ext4: %v; want ENOSPC by 8 MiB", n, err)
	}
}

// fill writes a file in dir in 64 KiB chunks until a write fails or more
// than limit bytes are written, and returns the count and the error.
func fill(t *testing.T, dir string, limit int) (int, error) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{1}, 64<<10)
	n := 0
	for n <= limit {
		if _, err := f.Write(chunk); err != nil {
			return n, err
		}
		n += len(chunk)
	}
	return n, nil
}

// TestSharedTmpfs checks that every user can enter the shared tmpfs and
// only its owner write there.
func TestSharedTmpfs(t *testing.T) {
	dir := testkit.SharedTmpfs(t, 1<<20)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Type != 0x01021994 {
		t.Fatalf("%s is not a tmpfs: type %#x, %v", dir, st.Type, err)
	}
	for _, p := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want mode 0755", p, fi.Mode(), err)
		}
	}
}
