//go:build unix

package mmfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// wantFault checks that err is a fault error naming path that says what
// happened.
func wantFault(t *testing.T, what string, err error, path, says string) {
	t.Helper()
	var pe *fs.PathError
	switch {
	case !errors.Is(err, ioadapt.ErrFault):
		t.Errorf("%s = %v; want ErrFault", what, err)
	case !errors.As(err, &pe) || pe.Path != path:
		t.Errorf("%s: %q does not name %s", what, err, path)
	case !strings.Contains(err.Error(), says):
		t.Errorf("%s: %q does not say %q", what, err, says)
	}
}

// TestFaultSaysTruncated has another process truncate a mapped file: the
// fault error says the file shrank, and to what size.
func TestFaultSaysTruncated(t *testing.T) {
	page := os.Getpagesize()
	path := writeFile(t, "shrinks", testkit.Pattern(4*page))
	ro, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rw, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if out, err := child("truncate", path, "MMAPKIT_TEST_SIZE="+strconv.Itoa(page)).CombinedOutput(); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	says := "the file shrank to " + strconv.Itoa(page) + " bytes"
	_, err = ro.ReadAt(make([]byte, 10), int64(2*page))
	wantFault(t, "ReadAt of a read-only mapping past the truncation", err, path, says)
	_, err = rw.ReadAt(make([]byte, 10), int64(2*page))
	wantFault(t, "ReadAt past the truncation", err, path, says)
	err = rw.Access(func(b []byte) error { b[3*page] = 1; return nil })
	wantFault(t, "a store past the truncation", err, path, says)
	if errors.Is(err, ioadapt.ErrReadOnly) {
		t.Errorf("a store into a writable mapping reads as read-only: %v", err)
	}
}

// TestFaultSaysReadOnly stores into a read-only mapping through Access:
// the error says the mapping is read-only, and matches ErrReadOnly as a
// write refused by WriteAt does.
func TestFaultSaysReadOnly(t *testing.T) {
	path := writeFile(t, "readonly", testkit.Pattern(8192))
	for name, opts := range map[string][]mmfile.Option{
		"whole": nil,
		"range": {mmfile.Range(100, 5000)},
	} {
		f, err := mmfile.Open(path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		err = f.Access(func(b []byte) error { b[4000] = 'x'; return nil })
		wantFault(t, name+": a store into a read-only mapping", err, path, "store into a read-only mapping")
		if !errors.Is(err, ioadapt.ErrReadOnly) {
			t.Errorf("%s: %v does not match ErrReadOnly", name, err)
		}
		f.Close()
	}
	if got, _ := os.ReadFile(path); string(got) != string(testkit.Pattern(8192)) {
		t.Fatal("the refused store changed the file")
	}
}

// TestFaultNamesFirstMissingByte reads 1 MiB at 2.5 MiB of a 4 MiB file
// that was truncated to 3 MiB (or a little more) under the mapping: the
// read returns the bytes up to the new end, and its error names the
// first byte it could not read, the new end, not the address where
// memmove happened to fault (it touches the tail of a large copy first).
// The same holds through a section, whose offsets start elsewhere, and
// on a read-only mapping, where the page that holds an unaligned end
// reads fine and must not pass for a store into a read-only mapping.
func TestFaultNamesFirstMissingByte(t *testing.T) {
	const size, off, n = 4 << 20, 2<<20 + 512<<10, 1 << 20
	for _, tc := range []struct {
		name    string
		cut     int64
		write   bool
		section int64 // where the section starts; 0: the whole File
	}{
		{"read-write", 3 << 20, true, 0},
		{"read-only", 3 << 20, false, 0},
		{"read-only, unaligned end", 3<<20 + 100, false, 0},
		{"read-write, unaligned end", 3<<20 + 100, true, 0},
		{"section", 3 << 20, true, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := testkit.Pattern(size)
			path := writeFile(t, "shrinks", want)
			flag := os.O_RDONLY
			if tc.write {
				flag = os.O_RDWR
			}
			f, err := mmfile.OpenFile(path, flag, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var r interface {
				ReadAt([]byte, int64) (int, error)
			} = f
			if tc.section > 0 {
				if r, err = f.Section(tc.section, size-tc.section); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Truncate(path, tc.cut); err != nil {
				t.Fatal(err)
			}
			p := make([]byte, n)
			got, err := r.ReadAt(p, off-tc.section)
			if end := int(tc.cut - off); got != end {
				t.Errorf("ReadAt read %d bytes; want %d, up to the new end", got, end)
			}
			if !bytes.Equal(p[:got], want[off:off+int64(got)]) {
				t.Error("the bytes read before the new end are not the file's")
			}
			cut := strconv.FormatInt(tc.cut, 10)
			wantFault(t, "ReadAt across the new end", err, path,
				"memory fault at offset "+cut+": the file shrank to "+cut+" bytes under the mapping, below file offset "+cut)
			if errors.Is(err, ioadapt.ErrReadOnly) {
				t.Errorf("a read reads as a store into a read-only mapping: %v", err)
			}
		})
	}
}
