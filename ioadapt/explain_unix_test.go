//go:build unix

package ioadapt_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// readOnlyRegion is a shared file mapping without PROT_WRITE.
type readOnlyRegion struct{ fileRegion }

func (r *readOnlyRegion) Writable() bool { return false }

// explainedRegion is a file mapping that explains its faults.
type explainedRegion struct {
	*fileRegion
	cause error
	asked []int64
}

func (r *explainedRegion) ExplainFault(off int64) error {
	r.asked = append(r.asked, off)
	return r.cause
}

// TestFaultOfStoreIntoReadOnly stores into a Region mapped without write
// access, through Access: the error says so, and matches ErrReadOnly as
// well as ErrFault. Whether the memory can be read tells it from a page
// the file lost, which a Region without an explanation gets the default
// message for.
func TestFaultOfStoreIntoReadOnly(t *testing.T) {
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "ro")
	if err := os.WriteFile(path, testkit.Pattern(4*page), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, 4*page, unix.PROT_READ, unix.MAP_SHARED)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := ioadapt.New(&readOnlyRegion{fileRegion{b: b, name: path}})
	defer c.Close()
	err = c.Access(func(b []byte) error { b[page+1] = 1; return nil })
	if !errors.Is(err, ioadapt.ErrFault) || !errors.Is(err, ioadapt.ErrReadOnly) ||
		err.Error() != "access "+path+": memory fault at offset "+strconv.Itoa(page+1)+": store into a read-only mapping" {
		t.Errorf("store into a read-only Region = %v; want a fault saying it is read-only", err)
	}
	if err := truncateByChild(path, page); err != nil {
		t.Fatal(err)
	}
	_, err = c.ReadAt(make([]byte, 1), int64(2*page))
	if !errors.Is(err, ioadapt.ErrFault) || errors.Is(err, ioadapt.ErrReadOnly) ||
		!strings.HasSuffix(err.Error(), "the backing file shrank or its storage failed") {
		t.Errorf("read of a truncated read-only Region = %v; want the default fault message", err)
	}
}

// TestFaultExplained has a Region explain its fault: the error carries the
// explanation and wraps its cause, for the offset that faulted.
func TestFaultExplained(t *testing.T) {
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "explained")
	if err := os.WriteFile(path, testkit.Pattern(4*page), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &explainedRegion{fileRegion: mapFile(t, path), cause: unix.ENOSPC}
	c := ioadapt.New(r)
	defer c.Close()
	if err := truncateByChild(path, page); err != nil {
		t.Fatal(err)
	}
	_, err := c.WriteAt([]byte("x"), int64(3*page+5))
	want := "write " + path + ": memory fault at offset " + strconv.Itoa(3*page+5) + ": " + unix.ENOSPC.Error()
	if !errors.Is(err, ioadapt.ErrFault) || !errors.Is(err, unix.ENOSPC) || err.Error() != want {
		t.Errorf("explained fault = %v; want %q, matching ErrFault and the cause", err, want)
	}
	if len(r.asked) != 1 || r.asked[0] != int64(3*page+5) {
		t.Errorf("ExplainFault asked for %v; want the one offset %d", r.asked, 3*page+5)
	}
	r.cause = nil // cannot tell: the default message
	_, err = c.ReadAt(make([]byte, 1), int64(2*page))
	if !errors.Is(err, ioadapt.ErrFault) || !strings.HasSuffix(err.Error(), "the backing file shrank or its storage failed") {
		t.Errorf("unexplained fault = %v; want the default message", err)
	}
}
