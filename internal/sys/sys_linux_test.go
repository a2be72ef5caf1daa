package sys_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// TestDup duplicates a descriptor: the kernel says the duplicate is
// close-on-exec and shares the open file description (the offset moves
// for both).
func TestDup(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := sys.DupFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Name() != f.Name() || d.Fd() == f.Fd() {
		t.Errorf("duplicate %q fd %d of %q fd %d; want the same name, another descriptor", d.Name(), d.Fd(), f.Name(), f.Fd())
	}
	flags, err := unix.FcntlInt(d.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("F_GETFD of the duplicate = %#x, %v; want FD_CLOEXEC", flags, err)
	}
	if _, err := f.WriteString("abc"); err != nil {
		t.Fatal(err)
	}
	if off, err := d.Seek(0, 1); off != 3 || err != nil {
		t.Errorf("the duplicate's offset = %d, %v; want 3, shared with the original", off, err)
	}
	if _, err := sys.Dup(-1); !errors.Is(err, unix.EBADF) {
		t.Errorf("Dup(-1) = %v; want EBADF", err)
	}
}

// TestReserveAndAllocate checks both fallocate modes against fstat: Reserve
// adds blocks and keeps the size, Allocate adds blocks and sets the size.
func TestReserveAndAllocate(t *testing.T) {
	for name, call := range map[string]func(int, int64, int64) error{"Reserve": sys.Reserve, "Allocate": sys.Allocate} {
		f, err := os.Create(filepath.Join(t.TempDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		const n = 1 << 20
		if err := call(int(f.Fd()), 0, n); errors.Is(err, errors.ErrUnsupported) {
			t.Skipf("the file system of %s has no fallocate: %v", os.TempDir(), err)
		} else if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		wantSize := int64(0)
		if name == "Allocate" {
			wantSize = n
		}
		if st.Size != wantSize || st.Blocks*512 < n {
			t.Errorf("%s: size %d with %d bytes of blocks; want size %d and at least %d bytes", name, st.Size, st.Blocks*512, wantSize, n)
		}
	}
}

// TestFallocateErrors gives fallocate what it refuses: a pipe (ESPIPE),
// which is an error naming the call and not an unsupported one.
func TestFallocateErrors(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	err = sys.Reserve(int(w.Fd()), 0, 1)
	var se *os.SyscallError
	if !errors.Is(err, unix.ESPIPE) || !errors.As(err, &se) || se.Syscall != "fallocate" || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Reserve of a pipe = %v; want fallocate's ESPIPE", err)
	}
}

// TestKernelFS names the file systems of files that every Linux machine
// has, and none for an ordinary file.
func TestKernelFS(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/proc/self/status":         "procfs",
		"/proc/sys/kernel":          "procfs",
		"/sys/kernel/uevent_seqnum": "sysfs",
		plain:                       "",
	} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := sys.KernelFS(int(f.Fd())); got != want {
			t.Errorf("KernelFS(%s) = %q; want %q", path, got, want)
		}
		f.Close()
	}
}
