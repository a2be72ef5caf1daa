package mmfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestFaultSaysNoSpace stores into a hole of a sparse file on a full
// tmpfs, which has no page to give it: the error says there is no space
// left, and matches ENOSPC.
func TestFaultSaysNoSpace(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 1<<20)
	path := filepath.Join(dir, "sparse")
	if err := os.WriteFile(path, []byte("head"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 512<<10); err != nil { // a hole, no pages
		t.Fatal(err)
	}
	fill(t, filepath.Join(dir, "filler"))
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const says = "no space left on"
	err = f.Access(func(b []byte) error { b[256<<10] = 1; return nil })
	wantFault(t, "a store into a hole of a full tmpfs", err, path, says+" the file system")
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%v does not match ENOSPC", err)
	}
	t.Logf("Access: %v", err)
	// A small write into the hole says so too, however it is written.
	_, err = f.WriteAt([]byte("into the hole"), 300<<10)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), says) {
		t.Errorf("WriteAt into a hole of a full tmpfs = %v; want no space, matching ENOSPC", err)
	}
	t.Logf("WriteAt: %v", err)
}

// fill writes path with os.File until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	chunk := bytes.Repeat([]byte("f"), 4096)
	for n := 0; ; n += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
		if n > 64<<20 {
			t.Fatal("wrote 64 MiB to fill a 1 MiB tmpfs")
		}
	}
}
