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
	f, err := Map(of, ReadWrite())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fl, err := unix.FcntlInt(of.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(of.Fd(), unix.F_SETFL, fl|unix.O_APPEND); err != nil {
		t.Fatal(err)
	}

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
