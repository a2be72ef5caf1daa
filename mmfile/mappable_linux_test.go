package mmfile_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/mmapkit/mmapkit/mmfile"
)

// TestGeneratedFilesRefused opens files of procfs and sysfs, which
// os.ReadFile reads whole but whose size says 0 or a page: Open, OpenFile
// and Map refuse them with ErrNotMappable, saying why, rather than map
// nothing (procfs) or fail with ENODEV (sysfs).
func TestGeneratedFilesRefused(t *testing.T) {
	for fs, paths := range map[string][]string{
		"procfs": {"/proc/version", "/proc/self/cmdline", "/proc/self/status"},
		"sysfs":  {"/sys/kernel/uevent_seqnum", "/sys/kernel/notes", "/sys/kernel/mm/transparent_hugepage/enabled"},
	} {
		t.Run(fs, func(t *testing.T) {
			tried := 0
			for _, path := range paths {
				want, err := os.ReadFile(path)
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				tried++
				if len(want) == 0 {
					t.Fatalf("os.ReadFile(%s) read nothing: no oracle", path)
				}
				f, err := mmfile.Open(path)
				if err == nil {
					f.Close()
				}
				check(t, "Open", path, fs, err)
				osf, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				f, err = mmfile.Map(osf)
				osf.Close()
				if err == nil {
					f.Close()
				}
				check(t, "Map", path, fs, err)
			}
			if tried == 0 {
				t.Skipf("no %s mounted: none of %v exists", fs, paths)
			}
		})
	}
}

func check(t *testing.T, call, path, fs string, err error) {
	t.Helper()
	if !errors.Is(err, mmfile.ErrNotMappable) || !strings.Contains(err.Error(), path+": file cannot be mapped: a file of "+fs) {
		t.Errorf("%s(%s) = %v; want ErrNotMappable saying it is a file of %s", call, path, err, fs)
	}
}

// TestSparseFileMaps opens regular files with no blocks, which the check
// for generated files asks about by fstatfs (as it does for the files of
// sysfs, a page in size and blockless): an empty one and a sparse one are
// mapped and read as os.ReadFile reads them.
func TestSparseFileMaps(t *testing.T) {
	dir := t.TempDir()
	for name, size := range map[string]int64{"empty": 0, "sparse": 3 * 4096} {
		path := dir + "/" + name
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, size); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Blocks != 0 {
			t.Skipf("the file system of %s allocates blocks for a truncated file (%d)", dir, st.Blocks)
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := mmfile.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := make([]byte, size+1)
		n, err := f.ReadAt(got, 0)
		f.Close()
		if n != len(want) || err != io.EOF || !bytes.Equal(got[:n], want) {
			t.Errorf("%s: ReadAt = %d, %v; want %d bytes as os.ReadFile and io.EOF", name, n, err, len(want))
		}
	}
}
