package mmfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestGrowAfterLockAndShrink: a File locked in memory, then cut short by
// its Truncate or by another process, must still grow past its mapping.
// The lock covered pages that no longer hold data; taking it again over
// them on the new mapping asks mlock(2) to fault in pages past the end of
// the file, which it cannot.
func TestGrowAfterLockAndShrink(t *testing.T) {
	page := os.Getpagesize()
	for _, how := range []string{"option", "method", "other process"} {
		t.Run(how, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "locked")
			if err := os.WriteFile(path, testkit.Pattern(16*page), 0o644); err != nil {
				t.Fatal(err)
			}
			var opts []mmfile.Option
			if how == "option" {
				opts = append(opts, mmfile.LockMemory())
			}
			f, err := mmfile.OpenFile(path, os.O_RDWR, 0, opts...)
			if err != nil {
				t.Skipf("mlock of 16 pages: %v", err)
			}
			defer f.Close()
			if how != "option" {
				if err := f.LockMemory(); err != nil {
					t.Skipf("mlock of 16 pages: %v", err)
				}
			}
			if how == "other process" {
				if err := truncateByChild(path, page); err != nil {
					t.Fatal(err)
				}
			} else if err := f.Truncate(int64(page)); err != nil {
				t.Fatal(err)
			}
			more := bytes.Repeat([]byte("m"), 64*page) // past the mapping's capacity
			at := int64(16 * page)                     // the end the File knows
			if how != "other process" {
				at = int64(page)
			}
			if n, err := f.WriteAt(more, at); err != nil {
				t.Fatalf("WriteAt of %d bytes at the end (%d) after LockMemory and a shrink = %d, %v", len(more), at, n, err)
			}
			got := make([]byte, len(more))
			if _, err := f.ReadAt(got, at); err != nil || !bytes.Equal(got, more) {
				t.Fatalf("ReadAt after the growth: %v", err)
			}
		})
	}
}
