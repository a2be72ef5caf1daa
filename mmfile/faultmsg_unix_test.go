//go:build unix

package mmfile_test

import (
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
