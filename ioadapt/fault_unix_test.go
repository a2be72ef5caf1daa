//go:build unix

package ioadapt_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// truncateByChild has another process truncate path to size; it may run
// in any goroutine.
func truncateByChild(path string, size int) error {
	cmd := testkit.Command("truncate", "MMAPKIT_TEST_PATH="+path, "MMAPKIT_TEST_SIZE="+strconv.Itoa(size))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("truncating process: %v: %s", err, out)
	}
	return nil
}

// fileRegion is a shared file mapping made with plain mmap(2), to test the
// core's fault handling without depending on package mmfile.
type fileRegion struct {
	b    []byte
	name string
}

func mapFile(t *testing.T, path string) *fileRegion {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	return &fileRegion{b: b, name: path}
}

func (r *fileRegion) Bytes() []byte  { return r.b }
func (r *fileRegion) Size() int64    { return int64(len(r.b)) }
func (r *fileRegion) Writable() bool { return true }
func (r *fileRegion) Name() string   { return r.name }
func (r *fileRegion) Sync() error    { return unix.Msync(r.b, unix.MS_SYNC) }
func (r *fileRegion) Close() error   { return unix.Munmap(r.b) }

// TestTruncatedByOtherProcess maps a file, has a child process shrink it,
// and touches the vanished range: every call returns ErrFault, and the
// test process lives on.
func TestTruncatedByOtherProcess(t *testing.T) {
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "shrinks")
	if err := os.WriteFile(path, testkit.Pattern(4*page), 0o600); err != nil {
		t.Fatal(err)
	}
	c := ioadapt.New(mapFile(t, path))
	defer c.Close()

	if err := truncateByChild(path, page); err != nil {
		t.Fatal(err)
	}

	p := make([]byte, 100)
	if _, err := c.ReadAt(p, 0); err != nil {
		t.Fatalf("read of the range that remains: %v", err)
	}
	wantEveryCallFaults(t, c, page, path, "a truncated range")

	// The kernel, copying from the mapping for write(2), meets the same
	// hole and reports EFAULT instead of raising SIGBUS; WriteTo says so
	// as the fault of the mapped file, and counts what the peer got.
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := c.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	n, err := c.WriteTo(out)
	var pe *fs.PathError
	if !errors.Is(err, ioadapt.ErrFault) || !errors.As(err, &pe) || pe.Path != path || n != int64(page) {
		t.Errorf("WriteTo(*os.File) over a truncated mapping = %d, %v; want the remaining page, then ErrFault naming %s", n, err, path)
	}
	if fi, err := out.Stat(); err != nil || fi.Size() != n {
		t.Errorf("the peer holds %v bytes (%v); WriteTo said %d", fi.Size(), err, n)
	}
}

// TestForeignFaultStillPanics checks that a fault outside the Region is
// not swallowed: Access re-raises it.
func TestForeignFaultStillPanics(t *testing.T) {
	page := os.Getpagesize()
	dir := t.TempDir()
	mine, other := filepath.Join(dir, "mine"), filepath.Join(dir, "other")
	for _, p := range []string{mine, other} {
		if err := os.WriteFile(p, testkit.Pattern(2*page), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := ioadapt.New(mapFile(t, mine))
	defer c.Close()
	foreign := mapFile(t, other)
	defer foreign.Close()
	if err := os.Truncate(other, 0); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("a fault outside the Region was swallowed")
		}
	}()
	_ = c.Access(func(b []byte) error {
		copy(b, foreign.b[page:])
		return nil
	})
}
