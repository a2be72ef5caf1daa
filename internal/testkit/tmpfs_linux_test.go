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
