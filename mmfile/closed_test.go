package mmfile_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/apitest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// closedFiles returns a closed File of every kind: growable, read-only,
// private and ranged.
func closedFiles(t *testing.T) map[string]*mmfile.File {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "closed")
	if err := os.WriteFile(path, testkit.Pattern(3*4096), 0o644); err != nil {
		t.Fatal(err)
	}
	files := map[string]*mmfile.File{}
	var err error
	if files["read-write"], err = mmfile.OpenFile(path, os.O_RDWR, 0); err != nil {
		t.Fatal(err)
	}
	if files["read-only"], err = mmfile.Open(path); err != nil {
		t.Fatal(err)
	}
	if files["private"], err = mmfile.Open(path, mmfile.Private()); err != nil {
		t.Fatal(err)
	}
	if files["range"], err = mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.Range(100, 5000)); err != nil {
		t.Fatal(err)
	}
	for kind, f := range files {
		if err := f.Close(); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	return files
}

// TestAfterClose calls every method of closed Files of every kind: each
// that returns an error returns one matching fs.ErrClosed, as os.File's
// do, naming the file; the others return nothing.
func TestAfterClose(t *testing.T) {
	for kind, f := range closedFiles(t) {
		for name, res := range apitest.CallEvery(t, f) {
			if !res.HasErr {
				continue
			}
			var pe *fs.PathError
			if !errors.Is(res.Err, fs.ErrClosed) || !errors.As(res.Err, &pe) || pe.Path != f.Name() {
				t.Errorf("%s: %s after Close = %v; want fs.ErrClosed naming %s", kind, name, res.Err, f.Name())
			}
		}
		if f.Bytes() != nil || f.Size() != 0 {
			t.Errorf("%s: Bytes %d bytes, Size %d after Close; want none", kind, len(f.Bytes()), f.Size())
		}
	}
}

// TestAfterCloseBeforeArguments gives closed Files arguments that would be
// refused if they were open: the closed error comes first, as os.File's
// does, under the name of the method called.
func TestAfterCloseBeforeArguments(t *testing.T) {
	for kind, f := range closedFiles(t) {
		p := make([]byte, 10)
		for _, c := range []struct {
			op   string
			call func() error
		}{
			{"sync", func() error { return f.SyncRange(-1, 10) }},
			{"sync", func() error { return f.SyncRange(0, -1) }},
			{"sync", f.SyncAsync},
			{"madvise", func() error { return f.Advise(mmfile.Advice(99)) }},
			{"madvise", func() error { return f.Advise(mmfile.DontNeed) }},
			{"mlock", f.LockMemory},
			{"munlock", f.UnlockMemory},
			{"stat", func() error { _, err := f.Stat(); return err }},
			{"read", func() error { _, err := f.ReadAt(p, -1); return err }},
			{"write", func() error { _, err := f.WriteAt(p, -1); return err }},
			{"write", func() error { _, err := f.WriteAt(p, 1<<62); return err }},
			{"seek", func() error { _, err := f.Seek(0, 99); return err }},
			{"seek", func() error { _, err := f.Seek(-1, io.SeekStart); return err }},
			{"section", func() error { _, err := f.Section(-1, 1); return err }},
			{"readfrom", func() error { _, err := f.ReadFrom(strings.NewReader("data")); return err }},
			{"writeto", func() error { _, err := f.WriteTo(new(bytes.Buffer)); return err }},
			{"truncate", func() error { return f.Truncate(-1) }},
		} {
			err := c.call()
			var pe *fs.PathError
			if !errors.Is(err, fs.ErrClosed) || !errors.As(err, &pe) || pe.Op != c.op {
				t.Errorf("%s: %s after Close = %v; want fs.ErrClosed from %q", kind, c.op, err, c.op)
			}
		}
	}
}

// TestNilFile calls every method on a nil *File: none panics; each that
// returns an error returns one matching os.ErrInvalid, as the methods of a
// nil *os.File do; the others return zero values.
func TestNilFile(t *testing.T) {
	var f *mmfile.File
	var osf *os.File
	if _, err := osf.ReadAt(nil, 0); !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("the oracle: nil *os.File ReadAt = %v", err)
	}
	calls := apitest.CallEvery(t, f)
	if len(calls) < 26 {
		t.Fatalf("called %d methods of *File; want all of them", len(calls))
	}
	for name, res := range calls {
		if res.HasErr && !errors.Is(res.Err, os.ErrInvalid) {
			t.Errorf("%s on a nil *File = %v; want os.ErrInvalid", name, res.Err)
		}
		for _, r := range res.Others {
			if !r.IsZero() {
				t.Errorf("%s on a nil *File returned %v; want the zero %s", name, r, r.Type())
			}
		}
	}
}
