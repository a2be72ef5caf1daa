//go:build unix

package ioadapt_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestMain lets the test binary serve as the other process of
// cross-process tests: with MMAPKIT_TEST_CHILD set it does that job and
// exits instead of running tests.
func TestMain(m *testing.M) {
	switch os.Getenv("MMAPKIT_TEST_CHILD") {
	case "":
		os.Exit(m.Run())
	case "truncate":
		size, _ := strconv.ParseInt(os.Getenv("MMAPKIT_TEST_SIZE"), 10, 64)
		if err := os.Truncate(os.Getenv("MMAPKIT_TEST_PATH"), size); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
		os.Exit(0)
	default:
		os.Stderr.WriteString("unknown child job\n")
		os.Exit(2)
	}
}

// runChild runs the test binary as another process doing job.
func runChild(t *testing.T, job string, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, "MMAPKIT_TEST_CHILD="+job)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child %s: %v: %s", job, err, out)
	}
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
	if err := os.WriteFile(path, pattern(4*page), 0o600); err != nil {
		t.Fatal(err)
	}
	c := ioadapt.New(mapFile(t, path))
	defer c.Close()

	runChild(t, "truncate", "MMAPKIT_TEST_PATH="+path, "MMAPKIT_TEST_SIZE="+strconv.Itoa(page))

	p := make([]byte, 100)
	if _, err := c.ReadAt(p, 0); err != nil {
		t.Fatalf("read of the range that remains: %v", err)
	}
	checks := map[string]error{}
	_, checks["ReadAt"] = c.ReadAt(p, int64(2*page))
	_, checks["WriteAt"] = c.WriteAt(p, int64(3*page))
	_, checks["WriteTo"] = c.WriteTo(new(bytes.Buffer)) // a Go writer copies from the mapping
	checks["Access"] = c.Access(func(b []byte) error {
		b[len(b)-1] = 1
		return nil
	})
	if _, err := c.Seek(int64(2*page), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	_, checks["Read"] = c.Read(p)
	for name, err := range checks {
		if !errors.Is(err, ioadapt.ErrFault) {
			t.Errorf("%s of a truncated range = %v; want ErrFault", name, err)
			continue
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != path {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	t.Logf("error reads: %v", checks["ReadAt"])

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
		if err := os.WriteFile(p, pattern(2*page), 0o600); err != nil {
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
