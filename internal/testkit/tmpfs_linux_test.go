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
	f, err := os.Create(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{1}, 64<<10)
	var n int
	for n <= 4<<20 {
		if _, err = f.Write(chunk); err != nil {
			break
		}
		n += len(chunk)
	}
	if !errors.Is(err, syscall.ENOSPC) || n > 1<<20 {
		t.Errorf("after %d bytes on a 1 MiB tmpfs: %v; want ENOSPC by 1 MiB", n, err)
	}
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
