package mmfile_test

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/mmfile"
)

// badCalls are calls with arguments that are wrong on an open File too:
// after Close, the closing must be what they report, before any other
// check (os.File does so for most, not for ReadAt).
var badCalls = map[string]func(f *mmfile.File) error{
	"Truncate(-1)": func(f *mmfile.File) error { return f.Truncate(-1) },
	"Truncate(MaxInt64)": func(f *mmfile.File) error {
		return f.Truncate(math.MaxInt64)
	},
	"ReadAt(p, -1)": func(f *mmfile.File) error {
		_, err := f.ReadAt(make([]byte, 1), -1)
		return err
	},
	"WriteAt(p, -1)": func(f *mmfile.File) error {
		_, err := f.WriteAt([]byte("x"), -1)
		return err
	},
	"WriteAt(p, MaxInt64)": func(f *mmfile.File) error {
		_, err := f.WriteAt([]byte("xy"), math.MaxInt64)
		return err
	},
	"Seek(-1, io.SeekStart)": func(f *mmfile.File) error {
		_, err := f.Seek(-1, io.SeekStart)
		return err
	},
	"Seek(0, 42)": func(f *mmfile.File) error {
		_, err := f.Seek(0, 42)
		return err
	},
}

// TestAfterCloseBadArguments calls methods of a closed File with bad
// arguments: every error matches fs.ErrClosed.
func TestAfterCloseBadArguments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "closed")
	f, err := mmfile.Create(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for name, call := range badCalls {
		if err := call(f); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s after Close = %v; want fs.ErrClosed", name, err)
		}
	}
	for name, err := range map[string]error{
		"SyncRange(-1, 10)":       f.SyncRange(-1, 10),
		"SyncRange(0, -1)":        f.SyncRange(0, -1),
		"Advise(Advice(99))":      f.Advise(mmfile.Advice(99)),
		"Section(-1, 1)":          sectionErr(f, -1, 1),
		"Section(0, MaxInt64)":    sectionErr(f, 0, math.MaxInt64),
		"Truncate(-1) on ranged":  closedRanged(t, path).Truncate(-1),
		"SyncRange(-1) on ranged": closedRanged(t, path).SyncRange(-1, 10),
	} {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s after Close = %v; want fs.ErrClosed", name, err)
		}
	}
}

func sectionErr(f *mmfile.File, off, n int64) error {
	_, err := f.Section(off, n)
	return err
}

// closedRanged returns a closed File of a range of the file at path.
func closedRanged(t *testing.T, path string) *mmfile.File {
	t.Helper()
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.Range(10, 20))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}
