package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/sys/unix"
)

// sealedMemfd returns a memfd holding data, with the seals given.
func sealedMemfd(t *testing.T, data []byte, seals int) *os.File {
	t.Helper()
	fd, err := unix.MemfdCreate("mmcat-test", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Skipf("needs memfd_create: %v", err)
	}
	f := os.NewFile(uintptr(fd), "memfd")
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSpliceOnlySealed copies memfds into a pipe: one sealed against
// writing and shrinking, whose pages can never change, is moved into it
// by splice(2); one that lacks either seal, and a file, are copied by
// write(2). The reader gets the bytes in every case.
func TestSpliceOnlySealed(t *testing.T) {
	path, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("needs strace (scripts/deps.sh installs it)")
	}
	data := randomBytes(3<<20 + 5)
	file := writeFile(t, t.TempDir(), "file", data)
	for _, c := range []struct {
		what   string
		src    *os.File // passed as descriptor 3; nil: file
		splice bool
	}{
		{"sealed memfd", sealedMemfd(t, data, unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL), true},
		{"memfd sealed against writing and shrinking", sealedMemfd(t, data, unix.F_SEAL_WRITE|unix.F_SEAL_SHRINK), true},
		{"memfd that may shrink", sealedMemfd(t, data, unix.F_SEAL_WRITE|unix.F_SEAL_GROW), false},
		{"memfd sealed against future writes only", sealedMemfd(t, data, unix.F_SEAL_FUTURE_WRITE|unix.F_SEAL_SHRINK), false},
		{"memfd without seals", sealedMemfd(t, data, 0), false},
		{"regular file", nil, false},
	} {
		arg := file
		if c.src != nil {
			arg = "/dev/fd/3"
		}
		trace := filepath.Join(t.TempDir(), "trace")
		cmd := command(mmcatBin, arg)
		cmd.Args = []string{"strace", "-f", "-qq", "-o", trace, "-e", "trace=splice,vmsplice", cmd.Path, arg}
		cmd.Path = path
		if c.src != nil {
			cmd.ExtraFiles = []*os.File{c.src}
		}
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr // a pipe
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v, stderr %q", c.what, err, stderr.String())
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Errorf("%s: the reader got %d bytes, not the %d of the source", c.what, out.Len(), len(data))
		}
		b, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		moved := regexp.MustCompile(`splice\(.*\) = [1-9]`).Match(b)
		if moved != c.splice {
			t.Errorf("%s: bytes moved by splice: %v, want %v; trace:\n%s", c.what, moved, c.splice, b)
		}
	}
}
