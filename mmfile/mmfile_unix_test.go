//go:build unix

package mmfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/mmfile"
)

// TestSpecialFiles checks that what cannot be mapped as a file is refused
// with a clear error, and that a FIFO is refused without waiting for a
// writer.
func TestSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, msg := range map[string]string{
		fifo:       "open " + fifo + ": not a regular file: is a named pipe",
		os.DevNull: "open /dev/null: not a regular file: is a character device",
	} {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			f.Close()
			t.Fatalf("%s mapped", path)
		}
		if !errors.Is(err, mmfile.ErrNotRegular) || err.Error() != msg {
			t.Errorf("error %q; want %q", err, msg)
		}
	}
}

// TestMapAppendRefused maps a file opened with O_APPEND for writing: the
// File would write through that descriptor, where O_APPEND moves every
// write to the end, so Map refuses it.
func TestMapAppendRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if m, err := mmfile.Map(f, mmfile.ReadWrite()); !errors.Is(err, mmfile.ErrBadFlag) {
		if m != nil {
			m.Close()
		}
		t.Fatalf("Map of an O_APPEND file for writing = %v; want ErrBadFlag", err)
	}
	ro, err := mmfile.Map(f) // reading is fine
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
}

// TestLockGrownFile locks a file whose mapping has grown past its size:
// only the pages that hold data are locked.
func TestLockGrownFile(t *testing.T) {
	f, err := mmfile.Create(filepath.Join(t.TempDir(), "grown"), 9000)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.LockMemory(); err != nil {
		t.Fatal(err)
	}
	if err := f.UnlockMemory(); err != nil {
		t.Fatal(err)
	}
}
