//go:build linux

package ipc

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestHeaderLockFields checks the lock fields of a pipe in a POSIX segment
// against the segment's file, as stat(1) sees it.
func TestHeaderLockFields(t *testing.T) {
	s, p := shmPipe(t, 4096)
	name := s.Name()
	hdr := make([]byte, lineSize)
	if _, err := s.ReadAt(hdr, 0); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("stat", "-c", "%d %i", "/dev/shm/"+name).Output()
	if err != nil {
		t.Skipf("no stat(1) to check the file: %v", err)
	}
	f := strings.Fields(string(out))
	dev, _ := strconv.ParseUint(f[0], 10, 64)
	ino, _ := strconv.ParseUint(f[1], 10, 64)
	if got := field(hdr, offFlags, 4); got != flagLocks {
		t.Errorf("flags %#x, want LOCKS", got)
	}
	if got := field(hdr, offLockDev, 8); got != dev {
		t.Errorf("lock_dev %d, stat says %d", got, dev)
	}
	if got := field(hdr, offLockIno, 8); got != ino {
		t.Errorf("lock_ino %d, stat says %d", got, ino)
	}
	if lb := field(hdr, offLockBase, 8); lb < 1<<62 || lb >= 1<<63-256 {
		t.Errorf("lock_base %#x out of range", lb)
	}
	if p.Capacity() != 4096 {
		t.Errorf("capacity %d, want the largest power of two that fits", p.Capacity())
	}
}

// TestOpenWrongLockFile opens a pipe whose participants lock its segment
// with a lock file that is another file.
func TestOpenWrongLockFile(t *testing.T) {
	s, _ := shmPipe(t, 4096)
	other, err := os.Create(t.TempDir() + "/lock")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = OpenPipe(s, LockFile(other))
	wantErr(t, err, ErrInvalidHeader, "lock_ino", "another file")
}
