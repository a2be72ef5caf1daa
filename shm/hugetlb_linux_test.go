package shm

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestFromFileHugetlbCanFault hands FromFile a hugetlb memfd sealed only
// against shrinking and growing, which leaves fallocate PUNCH_HOLE
// allowed: once a peer has punched a hole and taken every free huge page,
// a touch of the hole has no page to get, and SIGBUS would kill a process
// that copied without the fault guard. So FromFile must not take it for
// memory that cannot fault, and a read of the hole, in a child that maps
// it, must return an error wrapping ErrFault while the child lives on.
// The rule is checked as well: a hugetlb memfd sealed against writes
// (which makes the kernel refuse PUNCH_HOLE) cannot fault, nor can a
// tmpfs memfd sealed against shrinking.
func TestFromFileHugetlbCanFault(t *testing.T) {
	page := freeHugePage(t)
	fd, err := unix.MemfdCreate("mmapkit-test-hugetlb", unix.MFD_HUGETLB|unix.MFD_ALLOW_SEALING|unix.MFD_CLOEXEC)
	if err != nil {
		t.Skipf("no huge pages: memfd_create MFD_HUGETLB: %v", err)
	}
	f := os.NewFile(uintptr(fd), "hugetlb-memfd")
	defer f.Close()
	if err := unix.Ftruncate(fd, page); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW); err != nil {
		t.Fatal(err)
	}
	checkFaultRule(t, fd, page)

	s, err := FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	_, faultFree := s.r.region(true).(ioadapt.FaultFree)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if faultFree {
		t.Error("FromFile takes a hugetlb memfd whose holes can be punched for memory that cannot fault")
	}

	cmd := testkit.Command("read-hole")
	cmd.ExtraFiles = []*os.File{f}
	child, err := testkit.Talk(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Stop()
	if err := child.Expect("mapped"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, page); err != nil {
		t.Fatalf("punching the hole: %v", err)
	}
	exhaustHugePages(t, page)
	if err := child.Say("read"); err != nil {
		t.Fatal(err)
	}
	line, err := child.Line()
	if err != nil {
		t.Fatalf("the child reading a hole of a hugetlb memfd with the huge page pool empty: %v", err)
	}
	if !strings.Contains(line, "memory fault at offset 4096") {
		t.Errorf("the child's read of the hole says %q; want a memory fault at offset 4096", line)
	}
	if err := child.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkFaultRule checks cannotFault, and the kernel's rule it rests on,
// on hugetlb, the memfd fd, sealed only against shrinking and growing,
// and on fresh memfds of page bytes.
func checkFaultRule(t *testing.T, hugetlb int, page int64) {
	t.Helper()
	for _, c := range []struct {
		seals int
		want  bool
	}{
		{unix.F_SEAL_SHRINK | unix.F_SEAL_GROW, false},
		{unix.F_SEAL_SHRINK | unix.F_SEAL_WRITE, true},
		{unix.F_SEAL_SHRINK | unix.F_SEAL_FUTURE_WRITE, true},
	} {
		if got := cannotFault(hugetlb, c.seals); got != c.want {
			t.Errorf("cannotFault(hugetlb memfd, seals %#x) = %v; want %v", c.seals, got, c.want)
		}
	}
	for _, c := range []struct {
		what  string
		flags int
		seal  int
	}{
		{"hugetlb", unix.MFD_HUGETLB, unix.F_SEAL_WRITE},
		{"hugetlb", unix.MFD_HUGETLB, unix.F_SEAL_FUTURE_WRITE},
		{"tmpfs", 0, unix.F_SEAL_WRITE},
	} {
		fd, err := unix.MemfdCreate("mmapkit-test-sealed", c.flags|unix.MFD_ALLOW_SEALING|unix.MFD_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.Ftruncate(fd, page); err != nil {
			t.Fatal(err)
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|c.seal); err != nil {
			t.Fatal(err)
		}
		err = unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, page)
		if !errors.Is(err, unix.EPERM) {
			t.Errorf("PUNCH_HOLE on a %s memfd sealed with %#x = %v; want EPERM", c.what, c.seal, err)
		}
	}
	fd, err := unix.MemfdCreate("mmapkit-test-tmpfs", unix.MFD_ALLOW_SEALING|unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if !cannotFault(fd, unix.F_SEAL_SHRINK) {
		t.Error("cannotFault(tmpfs memfd sealed against shrinking) = false; want true")
	}
}

// freeHugePage returns the size of a huge page once the pool has one
// free, raising vm.nr_hugepages from 0 to 2 if it must (restored when the
// test ends), and skips the test, naming what is missing, where it cannot.
// The pool must not grow past it (vm.nr_overcommit_hugepages), or it
// could never be exhausted.
func freeHugePage(t *testing.T) int64 {
	t.Helper()
	const knob = "/proc/sys/vm/nr_hugepages"
	if n := readInt(t, "/proc/sys/vm/nr_overcommit_hugepages"); n != 0 {
		t.Skipf("vm.nr_overcommit_hugepages is %d: the huge page pool grows on demand and cannot be exhausted", n)
	}
	if meminfo(t, "HugePages_Free") == 0 {
		if n := readInt(t, knob); n != 0 {
			t.Skipf("no huge pages: all %d of vm.nr_hugepages are in use", n)
		}
		if err := os.WriteFile(knob, []byte("2"), 0); err != nil {
			t.Skipf("no huge pages: vm.nr_hugepages is 0 and cannot be raised: %v", err)
		}
		t.Cleanup(func() {
			if err := os.WriteFile(knob, []byte("0"), 0); err != nil {
				t.Errorf("restoring vm.nr_hugepages to 0: %v", err)
			}
		})
		if meminfo(t, "HugePages_Free") == 0 {
			t.Skip("no huge pages: raising vm.nr_hugepages to 2 gave none (memory too fragmented)")
		}
	}
	if free := meminfo(t, "HugePages_Free"); free > 64 {
		t.Skipf("%d huge pages free: too many to take them all for the test", free)
	}
	return meminfo(t, "Hugepagesize") << 10
}

// exhaustHugePages takes every free huge page, in a memfd of its own that
// the test's end gives back.
func exhaustHugePages(t *testing.T, page int64) {
	t.Helper()
	hog, err := unix.MemfdCreate("mmapkit-test-hog", unix.MFD_HUGETLB|unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(hog) })
	for n := int64(0); ; n++ {
		if n > 64 {
			t.Fatal("took 64 huge pages and the pool is not empty")
		}
		if err := unix.Ftruncate(hog, (n+1)*page); err != nil {
			t.Fatal(err)
		}
		b, err := unix.Mmap(hog, n*page, int(page), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return // ENOMEM: no huge page left to reserve
		}
		b[0] = 1
		t.Cleanup(func() { _ = unix.Munmap(b) })
	}
}

// meminfo returns the number that /proc/meminfo gives for key.
func meminfo(t *testing.T, key string) int64 {
	t.Helper()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Skipf("no huge pages: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err != nil {
				t.Fatalf("/proc/meminfo %s: %v", key, err)
			}
			return n
		}
	}
	t.Skipf("no huge pages: /proc/meminfo has no %s", key)
	return 0
}

// readInt returns the number in the file at path, 0 if there is none.
func readInt(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}
