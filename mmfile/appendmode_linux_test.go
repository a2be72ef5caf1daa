package mmfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMapWritesAtOffsetAfterCallerSetsAppend maps a file with Map and
// ReadWrite, then puts the caller's descriptor in append mode (fcntl
// F_SETFL O_APPEND), which the File's duplicate shares. The writes that go
// by pwrite(2) (one of DirectWriteMin bytes or more, one that grows the
// file past a gap, WriteAtSync) must land at their offsets, the file's
// size unchanged but for the growth, as Linux 6.9's RWF_NOAPPEND does;
// on a kernel that refuses the flag (forced in the second run), each must
// fail with an error wrapping ErrBadFlag that names the file and says it
// is in append mode, and leave the file as it was, rather than append.
func TestMapWritesAtOffsetAfterCallerSetsAppend(t *testing.T) {
	t.Run("RWF_NOAPPEND", func(t *testing.T) { writesAfterAppendMode(t) })
	t.Run("refused", func(t *testing.T) {
		was := noAppendRefused.Load()
		noAppendRefused.Store(true)
		t.Cleanup(func() { noAppendRefused.Store(was) })
		writesAfterAppendMode(t)
	})
}

func writesAfterAppendMode(t *testing.T) {
	const size = 200000
	path := filepath.Join(t.TempDir(), "app")
	want := bytes.Repeat([]byte{'.'}, size)
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	of, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	f := mapThenAppend(t, of)

	large := bytes.Repeat([]byte{'X'}, 70000) // >= DirectWriteMin: by pwrite
	grow := []byte("grown")
	const growAt = size + 100
	sync := []byte("synced")
	const syncAt = 100000
	writes := []struct {
		what string
		do   func() (int, error)
	}{
		{"WriteAt of 70000 bytes at 0", func() (int, error) { return f.WriteAt(large, 0) }},
		{"WriteAt past the end", func() (int, error) { return f.WriteAt(grow, growAt) }},
		{"WriteAtSync", func() (int, error) { return f.WriteAtSync(sync, syncAt) }},
	}
	var refused bool
	for _, w := range writes {
		n, err := w.do()
		refused = noAppendRefused.Load() // learned at the first write on a kernel before 6.9
		switch {
		case refused:
			if n != 0 || !errors.Is(err, ErrBadFlag) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "append mode") {
				t.Errorf("%s on a descriptor put in append mode, without RWF_NOAPPEND = %d, %v; want 0 and ErrBadFlag naming %s and append mode", w.what, n, err, path)
			}
		case err != nil:
			t.Errorf("%s on a descriptor put in append mode: %v", w.what, err)
		}
	}
	t.Logf("RWF_NOAPPEND refused: %v", refused)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !refused {
		copy(want, large)
		copy(want[syncAt:], sync)
		want = append(want, make([]byte, growAt-size)...)
		want = append(want, grow...)
	}
	if len(got) != len(want) {
		t.Fatalf("file has %d bytes; want %d (the writes appended?)", len(got), len(want))
	}
	if !bytes.Equal(got, want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		t.Fatalf("file differs from offset %d: %q; want %q", i, got[i:min(i+8, len(got))], want[i:min(i+8, len(want))])
	}
	if s := f.Size(); s != int64(len(want)) {
		t.Errorf("Size = %d; want %d", s, len(want))
	}
}

// TestWriteRefusedItselfKeepsNoAppend makes a write through a Map'd
// descriptor in append mode fail for its own sake (O_DIRECT and an
// unaligned buffer: EINVAL, with or without RWF_NOAPPEND): the error must
// be the write's, and the process must go on using RWF_NOAPPEND, as the
// kernel does not refuse the flag.
func TestWriteRefusedItselfKeepsNoAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "direct")
	if err := os.WriteFile(path, make([]byte, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := noAppendProbe(path); err != nil {
		t.Skipf("this kernel has no RWF_NOAPPEND (Linux 6.9): pwritev2 on %s: %v", path, err)
	}
	// What an earlier test of this process learned is not this kernel's.
	was := noAppendRefused.Swap(false)
	t.Cleanup(func() { noAppendRefused.Store(was) })
	of, err := os.OpenFile(path, os.O_RDWR|unix.O_DIRECT, 0)
	if err != nil {
		t.Skipf("no O_DIRECT on the file system of %s: %v", path, err)
	}
	defer of.Close()
	if _, err := unix.Pwrite(int(of.Fd()), []byte("x"), 1); err == nil {
		t.Skipf("the file system of %s takes unaligned O_DIRECT writes", path)
	}
	f := mapThenAppend(t, of)
	n, err := f.WriteAtSync([]byte("hello"), 100)
	if n != 0 || !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), path) {
		t.Errorf("unaligned WriteAtSync on an O_DIRECT descriptor in append mode = %d, %v; want 0 and EINVAL naming %s", n, err, path)
	}
	if noAppendRefused.Load() {
		noAppendRefused.Store(false)
		t.Errorf("a write refused for its own sake turned RWF_NOAPPEND off for the process")
	}
}

// mapThenAppend maps of with Map and ReadWrite, then puts of in append
// mode (fcntl F_SETFL O_APPEND), which the File's duplicate shares. The
// File is closed when the test ends.
func mapThenAppend(t *testing.T, of *os.File) *File {
	t.Helper()
	f, err := Map(of, ReadWrite())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fl, err := unix.FcntlInt(of.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(of.Fd(), unix.F_SETFL, fl|unix.O_APPEND); err != nil {
		t.Fatal(err)
	}
	return f
}

// noAppendProbe asks the kernel whether it takes RWF_NOAPPEND: a pwritev2
// of nothing, with the flag, on the file at path.
func noAppendProbe(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = unix.Pwritev2(int(f.Fd()), nil, 0, unix.RWF_NOAPPEND)
	return err
}
