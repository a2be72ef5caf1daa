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

// TestFullDiskGapLeavesNoReservation grows a 1 MiB file on a 4 MiB tmpfs
// and on an 8 MiB ext4 (which keeps the blocks of a fallocate that failed)
// past the free space: by writes past the end that leave gaps of about
// the free space (the gap alone fills the disk; the gap fits, but not
// with the bytes after it; twice the free space) and by Truncate. Each is
// an error wrapping ENOSPC, and afterwards the file holds no block past
// the bytes written (st_blocks) and the free space (statfs) is what it
// was less those bytes: a failed growth leaves nothing reserved.
func TestFullDiskGapLeavesNoReservation(t *testing.T) {
	const page = 4096
	for fs, mount := range map[string]func(testing.TB) string{
		"tmpfs": func(t testing.TB) string { return testkit.SmallTmpfs(t, 4<<20) },
		"ext4":  func(t testing.TB) string { return testkit.SmallExt4(t, 8<<20) },
	} {
		for _, c := range []struct {
			name string
			gap  func(free int64) int64 // the gap, from the free space; -1: Truncate instead
		}{
			{"gap of the free space", func(free int64) int64 { return free }},
			{"gap of the free space less the bytes", func(free int64) int64 { return free - 32*page }},
			{"gap of twice the free space", func(free int64) int64 { return 2 * free }},
			{"Truncate to twice the free space", nil},
		} {
			t.Run(fs+"/"+c.name, func(t *testing.T) {
				dir := mount(t)
				path := filepath.Join(dir, "file")
				head := testkit.Pattern(1 << 20)
				f := openWith(t, path, head)
				free0 := freeBytes(t, dir)
				p := bytes.Repeat([]byte("z"), 64*page)
				var (
					n   int
					off int64
					err error
				)
				if c.gap == nil {
					err = f.Truncate(int64(len(head)) + 2*free0)
				} else {
					off = int64(len(head)) + c.gap(free0)
					n, err = f.WriteAt(p, off)
				}
				if !errors.Is(err, unix.ENOSPC) {
					t.Fatalf("growing past %d bytes free = %d, %v; want ENOSPC", free0, n, err)
				}
				t.Logf("%d bytes free: %d, %v", free0, n, err)
				var st unix.Stat_t
				if err := unix.Stat(path, &st); err != nil {
					t.Fatal(err)
				}
				wantSize := int64(len(head))
				if n > 0 {
					wantSize = off + int64(n)
				}
				if st.Size != wantSize {
					t.Errorf("size %d after the growth; want %d", st.Size, wantSize)
				}
				// A few blocks of slack: ext4 may count an extent block.
				const slack = 4 * page
				data := int64(len(head)) + (int64(n)+page-1)/page*page
				if held := st.Blocks * 512; held > data+slack {
					t.Errorf("the file holds %d bytes of blocks, %d more than its data", held, held-data)
				}
				if free := freeBytes(t, dir); free < free0-(data-int64(len(head)))-slack {
					t.Errorf("%d bytes free after the growth; want %d less the %d bytes written", free, free0, n)
				}
				got, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got[:len(head)], head) || (n > 0 && !bytes.Equal(got[off:], p[:n])) {
					t.Errorf("the file's %d bytes are not the head and the bytes written", len(got))
				}
			})
		}
	}
}

// freeBytes returns the space free on the file system of dir.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// openWith writes head into a new file at path and opens it for writing;
// the File is closed at the end of the test.
func openWith(t *testing.T, path string, head []byte) *mmfile.File {
	t.Helper()
	if err := os.WriteFile(path, head, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
