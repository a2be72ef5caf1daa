package sys_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// TestDupFileWindows duplicates a handle: the duplicate reads the same
// file, and stays usable after the original is closed.
func TestDupFileWindows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("through the duplicate"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sys.DupFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 64)
	n, err := d.ReadAt(got, 0)
	if string(got[:n]) != "through the duplicate" {
		t.Errorf("the duplicate read %q, %v", got[:n], err)
	}
}

// TestViewWindows maps a view of a file, reads the file's bytes through it
// and writes through it into the file, then unmaps it.
func TestViewWindows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v")
	data := bytes.Repeat([]byte("view"), 1024)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, windows.PAGE_READWRITE, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(h)
	b, err := sys.View(h, windows.FILE_MAP_WRITE, 0, len(data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, data) {
		t.Fatalf("the view holds other bytes than the file")
	}
	if sys.Addr(b) == 0 {
		t.Fatal("Addr of a view is 0")
	}
	copy(b, "VIEW")
	if err := sys.Unview(b); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := f.ReadAt(got, 0); err != nil || string(got) != "VIEW" {
		t.Errorf("after a store through the view the file starts %q, %v", got, err)
	}
}
