package mmfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestWriteAtSyncLikeOSFile makes the same writes with WriteAtSync into a
// mapped file and with WriteAt into a copy opened as an os.File: in place,
// small and large, straddling the end, past it with a gap, empty, at a
// negative offset. After each, the two files hold the same bytes, the
// mapping shows its file's bytes, and the File's size is the file's.
func TestWriteAtSyncLikeOSFile(t *testing.T) {
	dir := t.TempDir()
	start := testkit.Pattern(80 << 10)
	mpath, opath := filepath.Join(dir, "mapped"), filepath.Join(dir, "oracle")
	for _, p := range []string{mpath, opath} {
		if err := os.WriteFile(p, start, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := mmfile.OpenFile(mpath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := os.OpenFile(opath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, w := range []struct {
		name string
		n    int
		off  int64
	}{
		{"one byte", 1, 5},
		{"a page across pages", 4096, 4000},
		{"large, in place", 70 << 10, 1000},
		{"straddling the end", 300, 80<<10 - 100},
		{"past the end", 10, 90 << 10},
		{"empty at the end", 0, 100 << 10},
		{"negative offset", 3, -1},
	} {
		p := bytes.Repeat([]byte{byte(len(w.name))}, w.n)
		n, err := f.WriteAtSync(p, w.off)
		on, oerr := o.WriteAt(p, w.off)
		if n != on || (err == nil) != (oerr == nil) {
			t.Fatalf("%s: WriteAtSync = %d, %v; os.File.WriteAt = %d, %v", w.name, n, err, on, oerr)
		}
		if w.off < 0 && !errors.Is(err, ioadapt.ErrInvalidOffset) {
			t.Errorf("%s: %v; want ErrInvalidOffset", w.name, err)
		}
		got, err := os.ReadFile(mpath)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(opath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: the file (%d bytes) differs from os.File's (%d bytes)", w.name, len(got), len(want))
		}
		view := make([]byte, len(want))
		if n, err := f.ReadAt(view, 0); n != len(want) || (err != nil && n < len(want)) || !bytes.Equal(view, want) {
			t.Fatalf("%s: the mapping reads %d bytes (%v), not the file's %d", w.name, n, err, len(want))
		}
		if f.Size() != int64(len(want)) {
			t.Fatalf("%s: Size = %d; want %d", w.name, f.Size(), len(want))
		}
	}
}

// TestWriteAtSyncRefusals writes with WriteAtSync where WriteAt would not
// write the file: a read-only File refuses, a Private one changes only its
// own view, a Range stops at its end.
func TestWriteAtSyncRefusals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	start := testkit.Pattern(3 * 4096)
	if err := os.WriteFile(path, start, 0o644); err != nil {
		t.Fatal(err)
	}
	ro, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if n, err := ro.WriteAtSync([]byte("x"), 0); n != 0 || !errors.Is(err, ioadapt.ErrReadOnly) {
		t.Errorf("read-only: WriteAtSync = %d, %v; want ErrReadOnly", n, err)
	}
	priv, err := mmfile.Open(path, mmfile.Private())
	if err != nil {
		t.Fatal(err)
	}
	defer priv.Close()
	if n, err := priv.WriteAtSync([]byte("private"), 10); n != 7 || err != nil {
		t.Errorf("private: WriteAtSync = %d, %v; want 7, nil", n, err)
	}
	if got := priv.Bytes()[10:17]; string(got) != "private" {
		t.Errorf("private: the view holds %q", got)
	}
	rng, err := mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.Range(4096, 100))
	if err != nil {
		t.Fatal(err)
	}
	defer rng.Close()
	if n, err := rng.WriteAtSync([]byte("ranged"), 0); n != 6 || err != nil {
		t.Errorf("range: WriteAtSync = %d, %v; want 6, nil", n, err)
	}
	if n, err := rng.WriteAtSync(make([]byte, 10), 95); n != 5 || !errors.Is(err, ioadapt.ErrFixedSize) {
		t.Errorf("range: WriteAtSync past its end = %d, %v; want 5, ErrFixedSize", n, err)
	}
	want := append([]byte(nil), start...)
	copy(want[4096:], "ranged")
	copy(want[4096+95:], make([]byte, 5))
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Errorf("the file differs from the writes of the range (and not of the private view): %v", err)
	}
}
