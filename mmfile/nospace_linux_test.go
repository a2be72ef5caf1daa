package mmfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestFullDisk grows a file on a tmpfs too small for it: the write that
// needs the space fails with ENOSPC, the process lives, and the bytes
// written before are intact.
func TestFullDisk(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 1<<20)
	path := filepath.Join(dir, "big")
	f, err := mmfile.Create(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	var written int64
	for {
		_, err = f.Write(chunk)
		if err != nil {
			break
		}
		written += int64(len(chunk))
		if written > 8<<20 {
			t.Fatal("wrote 8 MiB into a 1 MiB tmpfs")
		}
	}
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("write on a full tmpfs = %v; want ENOSPC", err)
	}
	t.Logf("after %d bytes: %v", written, err)
	if f.Size() != written {
		t.Fatalf("Size %d after the failed write; want %d", f.Size(), written)
	}
	if _, err := f.WriteAt([]byte("y"), 0); err != nil {
		t.Fatalf("write inside the file after ENOSPC: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if int64(len(got)) != written || got[0] != 'y' || !bytes.Equal(got[1:], bytes.Repeat([]byte("x"), len(got)-1)) {
		t.Fatalf("file holds %d bytes, want %d intact", len(got), written)
	}
	if err := f.Truncate(64 << 20); !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("Truncate past the free space = %v; want ENOSPC", err)
	}
}
