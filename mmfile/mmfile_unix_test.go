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
