//go:build linux

package shm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

func TestSystemDirIsDevShm(t *testing.T) {
	if got := systemDir(); got != "/dev/shm" {
		t.Errorf("systemDir() = %q, want /dev/shm", got)
	}
}

func TestFindShmDir(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ mounts, want string }{
		{"proc /proc proc rw 0 0\ntmpfs /dev/shm tmpfs rw,nosuid 0 0\n", "/dev/shm"},
		{"tmpfs /run tmpfs rw 0 0\n", "/dev/shm"},
		{"none /dev/my\\040shm shm rw 0 0\n", "/dev/my shm"},
		{"", "/dev/shm"},
	} {
		p := filepath.Join(dir, "mounts")
		if err := os.WriteFile(p, []byte(tc.mounts), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := findShmDir(p); got != tc.want {
			t.Errorf("findShmDir(%q) = %q, want %q", tc.mounts, got, tc.want)
		}
	}
	if got := findShmDir(filepath.Join(dir, "missing")); got != "/dev/shm" {
		t.Errorf("without /proc/mounts: %q, want /dev/shm", got)
	}
}

func TestFileInDevShm(t *testing.T) {
	_, name := create(t, 8192)
	var st unix.Stat_t
	if err := unix.Lstat("/dev/shm/"+name, &st); err != nil {
		t.Fatalf("segment is not a file in /dev/shm: %v", err)
	}
	if st.Size != 8192 || st.Blocks*512 < 8192 {
		t.Errorf("file is %d bytes in %d blocks: want 8192 bytes, all allocated", st.Size, st.Blocks)
	}
}

func TestModeDespiteUmask(t *testing.T) {
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	s, _ := create(t, 16, Mode(0o640))
	info, err := s.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode != 0o640 {
		t.Errorf("mode %v, want 0640 despite umask 077", info.Mode)
	}
	unix.Umask(0)
	d, _ := create(t, 16)
	if info, _ := d.Stat(); info.Mode != 0o600 {
		t.Errorf("default mode %v, want 0600 despite umask 0", info.Mode)
	}
}

func TestRequireSecure(t *testing.T) {
	_, name := create(t, 16, Mode(0o644))
	_, err := Open(name, RequireSecure())
	wantErr(t, err, ErrInsecure, "open "+name, "mode 0644 grants more than the 0600 asked for")
	s, err := Open(name, RequireSecure(), Mode(0o644))
	if err != nil {
		t.Fatalf("RequireSecure with the right mode: %v", err)
	}
	s.Close()
	if os.Geteuid() != 0 {
		t.Skip("changing a segment's owner needs root")
	}
	if err := os.Chown("/dev/shm/"+name, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err = Open(name, RequireSecure(), Mode(0o644))
	wantErr(t, err, ErrInsecure, "owned by uid 65534")
	if s, err := Open(name); err != nil {
		t.Errorf("without RequireSecure: %v", err)
	} else {
		s.Close()
	}
}

func TestSymlinkNotFollowed(t *testing.T) {
	target := filepath.Join(t.TempDir(), "target")
	const content = "must stay as it is"
	if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	name := segName(t)
	if err := os.Symlink(target, "/dev/shm/"+name); err != nil {
		t.Fatal(err)
	}
	_, err := Open(name)
	wantErr(t, err, ErrInsecure, "open "+name, "/dev/shm/"+name+" is a symbolic link: refusing to follow it")
	if !errors.Is(err, syscall.ELOOP) {
		t.Errorf("error %q does not wrap ELOOP", err)
	}
	_, err = Create(name, 4096)
	wantErr(t, err, fs.ErrExist, "create "+name)
	_, err = OpenOrCreate(name, 4096)
	wantErr(t, err, ErrInsecure, "symbolic link")
	if got, err := os.ReadFile(target); err != nil || string(got) != content {
		t.Fatalf("symlink target changed: %q, %v", got, err)
	}
}

func TestNotARegularFile(t *testing.T) {
	name := segName(t)
	if err := unix.Mkfifo("/dev/shm/"+name, 0o600); err != nil {
		t.Skipf("mkfifo in /dev/shm: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := Open(name); done <- err }()
	select {
	case err := <-done:
		wantErr(t, err, ErrInsecure, "is not a regular file")
	case <-time.After(5 * time.Second):
		t.Fatal("Open blocked on a FIFO planted under the name")
	}
}

func TestPeerTruncateIsAnErrorNotACrash(t *testing.T) {
	s, name := create(t, 8192)
	if err := os.Truncate("/dev/shm/"+name, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReadAt(make([]byte, 10), 4096)
	wantErr(t, err, ioadapt.ErrFault, "memory fault")
}

func TestFullTmpfs(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 1<<20)
	name := segName(t, inDir(dir))
	_, err := Create(name, 4<<20, inDir(dir))
	wantErr(t, err, ioadapt.ErrNoSpace, "create "+name, "no space for a segment of 4194304 bytes in "+dir, "bytes free of 1048576")
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("error %q does not wrap ENOSPC", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the failed create left %d files in %s", len(ents), dir)
	}
	// What fits is all there: touching every page cannot fault.
	s, _ := create(t, 768<<10, inDir(dir))
	if _, err := s.WriteAt(bytes.Repeat([]byte{1}, 768<<10), 0); err != nil {
		t.Fatal(err)
	}
	// And the rest no longer fits.
	second := segName(t, inDir(dir))
	_, err = Create(second, 512<<10, inDir(dir))
	wantErr(t, err, ioadapt.ErrNoSpace, "524288 bytes")
	if _, err := os.Lstat(filepath.Join(dir, second)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("half-made segment left behind: %v", err)
	}
}

func TestAnonymous(t *testing.T) {
	s, err := CreateAnonymous(4096)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, s)
	if !s.Anonymous() || s.Name() != "anonymous" || s.Size() != 4096 {
		t.Fatalf("Anonymous %v, Name %q, Size %d", s.Anonymous(), s.Name(), s.Size())
	}
	wantErr(t, s.Unlink(), errors.ErrUnsupported, "no name to unlink")
	f, err := s.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if seals&(unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
		t.Errorf("seals %#x lack SHRINK|GROW", seals)
	}
	if err := f.Truncate(0); err == nil {
		t.Error("a peer could shrink the anonymous segment")
	}
	_, err = FromFile(f, ExpectSize(8192))
	wantErr(t, err, ioadapt.ErrSizeMismatch, "segment is 4096 bytes, expected 8192")
}

// TestAfterCloseAnonymous closes an anonymous segment and one mapped by
// FromFile: every method fails with fs.ErrClosed, Unlink too, before it
// would say that such a segment has no name.
func TestAfterCloseAnonymous(t *testing.T) {
	s, err := CreateAnonymous(4096)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inherited, err := FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range []*Segment{s, inherited} {
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		checkAfterClose(t, seg)
	}
}

func TestCrossProcessAnonymous(t *testing.T) {
	s, err := CreateAnonymous(4096)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, s)
	f, err := s.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const msg = "from the child, through an inherited descriptor"
	runChild(t, "write-inherited", []*os.File{f}, dataEnv+"="+msg)
	got := make([]byte, len(msg))
	if _, err := s.ReadAt(got, 0); err != nil || string(got) != msg {
		t.Fatalf("read %q, %v; want %q", got, err, msg)
	}
}

func TestFromFileUnsealed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(p, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = FromFile(f)
	wantErr(t, err, ErrInsecure, "open "+p, "does not support seals")
	// A named segment's file is sealable-less tmpfs too: refused.
	s, _ := create(t, 4096)
	nf, err := s.File()
	if err != nil {
		t.Fatal(err)
	}
	defer nf.Close()
	_, err = FromFile(nf)
	wantErr(t, err, ErrInsecure, "not sealed against shrinking")
}

func TestListAndRemoveStale(t *testing.T) {
	dir := t.TempDir()
	prefix := "stale-"
	mk := func(name string, age time.Duration, keepOpen bool) {
		s, err := Create(name, 100, inDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		if keepOpen {
			closeOnCleanup(t, s)
		} else {
			s.Close()
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	mk("stale-old", 2*time.Hour, false)
	mk("stale-old-but-open", 2*time.Hour, true)
	mk("stale-new", 0, false)
	mk("other-old", 2*time.Hour, false)
	if err := os.WriteFile(filepath.Join(dir, "sem.x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	infos, err := listDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range infos {
		names = append(names, in.Name)
		if in.Size != 100 || in.Mode != 0o600 || in.UID != os.Geteuid() || in.ModTime.IsZero() {
			t.Errorf("List entry %+v: want size 100, mode 0600, uid %d", in, os.Geteuid())
		}
	}
	if got, want := strings.Join(names, " "), "other-old stale-new stale-old stale-old-but-open"; got != want {
		t.Errorf("List names %q, want %q", got, want)
	}
	removed, err := removeStaleIn(dir, prefix, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(removed, " "); got != "stale-old" {
		t.Errorf("RemoveStale removed %q, want stale-old only", got)
	}
	_, err = RemoveStale("", time.Hour)
	wantErr(t, err, ErrInvalidName, "empty prefix")
	// The system directory lists this run's segments.
	_, name := create(t, 10)
	all, err := List()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, in := range all {
		found = found || in.Name == name
	}
	if !found {
		t.Errorf("List() does not show %s", name)
	}
}

// python runs a Python program with the standard library only, or skips.
func python(t *testing.T, prog string, args ...string) *exec.Cmd {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	return exec.Command(py, append([]string{"-c", prog}, args...)...)
}

func pyOutput(t *testing.T, prog string, args ...string) string {
	t.Helper()
	cmd := python(t, prog, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// pyAttach opens a segment Go owns, without letting Python's resource
// tracker unlink it when the interpreter exits.
const pyAttach = `
import sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=sys.argv[1])
resource_tracker.unregister(shm._name, "shared_memory")
`

func TestPythonReadsGoSegment(t *testing.T) {
	data := testkit.Pattern(1000)
	s, name := create(t, int64(len(data)))
	if _, err := s.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	out := pyOutput(t, pyAttach+`
print(shm.size, bytes(shm.buf[:shm.size]).hex())
shm.close()
`, "/"+name)
	want := fmt.Sprintf("%d %s", len(data), hex.EncodeToString(data))
	if out != want {
		t.Fatalf("python read %.60q..., want %.60q...", out, want)
	}
	// Python's exit did not unlink it.
	if p, err := Open(name); err != nil {
		t.Fatalf("segment gone after python exited: %v", err)
	} else {
		p.Close()
	}
}

func TestGoJoinsPythonSegment(t *testing.T) {
	name := segName(t)
	cmd := python(t, `
import sys
from multiprocessing import shared_memory
shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=64)
shm.buf[:11] = b"from python"
print("ready", flush=True)
sys.stdin.readline()
print(bytes(shm.buf[11:18]).hex(), flush=True)
shm.close()
shm.unlink()
`, name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	buf := make([]byte, 256)
	read := func() string {
		var line []byte
		for !bytes.Contains(line, []byte("\n")) {
			n, err := stdout.Read(buf)
			if err != nil {
				t.Fatalf("python: %v\n%s", err, stderr.String())
			}
			line = append(line, buf[:n]...)
		}
		return strings.TrimSpace(string(line))
	}
	if got := read(); got != "ready" {
		t.Fatalf("python said %q", got)
	}
	s, err := Open(name, ExpectSize(64), RequireSecure())
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, s)
	got := make([]byte, 11)
	if _, err := s.ReadAt(got, 0); err != nil || string(got) != "from python" {
		t.Fatalf("Go read %q, %v", got, err)
	}
	if _, err := s.WriteAt([]byte(" and go"), 11); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := read(), hex.EncodeToString([]byte(" and go")); got != want {
		t.Fatalf("python saw %q, want %q", got, want)
	}
}

func TestPythonAfterGoUnlinks(t *testing.T) {
	s, name := create(t, 64)
	if err := s.Unlink(); err != nil {
		t.Fatal(err)
	}
	out := pyOutput(t, `
import sys
from multiprocessing import shared_memory
try:
    shared_memory.SharedMemory(name=sys.argv[1])
    print("opened")
except FileNotFoundError:
    print("gone")
`, name)
	if out != "gone" {
		t.Fatalf("python after unlink: %q, want gone", out)
	}
}

// TestOpenOrCreateRace has two callers race for one name, the creator
// reserving a size large enough that the other finds it still at size 0:
// both must end up with the same full-size segment.
func TestOpenOrCreateRace(t *testing.T) {
	const size = 32 << 20
	for range 5 {
		name := segName(t)
		var wg sync.WaitGroup
		segs := make([]*Segment, 2)
		for i := range segs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := OpenOrCreate(name, size)
				if err != nil {
					t.Error(err)
					return
				}
				segs[i] = closeOnCleanup(t, s)
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		if _, err := segs[0].WriteAt([]byte("same"), size-4); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 4)
		if _, err := segs[1].ReadAt(got, size-4); err != nil || string(got) != "same" {
			t.Fatalf("the racers hold different segments: read %q, %v", got, err)
		}
	}
}

// cPeer is a C program that joins a segment with glibc's shm_open, prints
// what it finds at the start and writes after it.
const cPeer = `#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
	int fd = shm_open(argv[1], O_RDWR, 0);
	if (fd < 0) { perror("shm_open"); return 1; }
	struct stat st;
	if (fstat(fd, &st) < 0) { perror("fstat"); return 1; }
	char *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) { perror("mmap"); return 1; }
	printf("%lld %.*s\n", (long long)st.st_size, 7, p);
	memcpy(p + 7, " from C", 7);
	return 0;
}
`

// buildC compiles the C program src, linked with glibc's real-time
// library (where shm_open and sem_open lived before glibc 2.34), or skips
// the test when there is no C compiler.
func buildC(t *testing.T, src string) string {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		if cc, err = exec.LookPath("cc"); err != nil {
			t.Skip("no C compiler (gcc or cc) installed")
		}
	}
	dir := t.TempDir()
	file, bin := filepath.Join(dir, "peer.c"), filepath.Join(dir, "peer")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-o", bin, file, "-lrt", "-pthread").CombinedOutput(); err != nil {
		t.Skipf("cannot build the C peer: %v\n%s", err, out)
	}
	return bin
}

func TestCReadsAndWritesGoSegment(t *testing.T) {
	bin := buildC(t, cPeer)
	s, name := create(t, 4096)
	if _, err := s.WriteAt([]byte("from Go"), 0); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "/"+name).CombinedOutput()
	if err != nil {
		t.Fatalf("C peer: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "4096 from Go" {
		t.Errorf("C peer saw %q, want %q", got, "4096 from Go")
	}
	got := make([]byte, 14)
	if _, err := s.ReadAt(got, 0); err != nil || string(got) != "from Go from C" {
		t.Fatalf("Go reads %q, %v after the C peer wrote", got, err)
	}
}

// cSem makes and removes named semaphores with glibc's sem_open and
// sem_unlink.
const cSem = `#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "create") == 0) {
		if (sem_open(argv[2], O_CREAT | O_EXCL, 0600, 1) == SEM_FAILED) { perror("sem_open"); return 1; }
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "unlink") == 0) {
		if (sem_unlink(argv[2]) < 0) { perror("sem_unlink"); return 1; }
		return 0;
	}
	fprintf(stderr, "usage: sem create|unlink NAME\n");
	return 2;
}
`

// TestGlibcSemaphoreNames makes a named semaphore with glibc and checks
// that no function of the package takes it for a segment: the names that
// would reach its file are refused, and List and RemoveStale pass it by.
func TestGlibcSemaphoreNames(t *testing.T) {
	bin := buildC(t, cSem)
	sem := "/" + testPrefix + "sem"
	if out, err := exec.Command(bin, "create", sem).CombinedOutput(); err != nil {
		t.Fatalf("sem_open(%q): %v: %s", sem, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "unlink", sem).CombinedOutput(); err != nil {
			t.Errorf("sem_unlink(%q): %v: %s", sem, err, out)
		}
	})
	// glibc keeps it beside the segments, as the file a segment named
	// "sem." and the semaphore's name would have.
	file := "sem." + sem[1:]
	path := filepath.Join(systemDir(), file)
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("sem_open(%q) made no regular file %s: %v", sem, path, err)
	}
	for _, name := range []string{file, "/" + file} {
		want := fmt.Sprintf(`name %q starts with "sem.", the prefix of glibc's named semaphores (sem_open) in the same directory`, name)
		for what, fn := range map[string]func() error{
			"Create":       func() error { _, err := Create(name, 32); return err },
			"Open":         func() error { _, err := Open(name); return err },
			"OpenOrCreate": func() error { _, err := OpenOrCreate(name, 32); return err },
			"Unlink":       func() error { return Unlink(name) },
		} {
			t.Run(what+" "+name, func(t *testing.T) { wantErr(t, fn(), ErrInvalidName, want) })
		}
	}
	_, err := CreateUnique("sem.", 32)
	wantErr(t, err, ErrInvalidName, `name "sem.x" starts with "sem."`)
	_, err = RemoveStale("sem.", 0)
	wantErr(t, err, ErrInvalidName, `name "sem." starts with "sem."`)
	all, err := List()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range all {
		if strings.HasPrefix(in.Name, "sem.") {
			t.Errorf("List shows the semaphore file %q as a segment", in.Name)
		}
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the semaphore's file is gone after the refused calls: %v", err)
	}

	// RemoveStale with a prefix that a semaphore's file also has removes
	// the old segment and leaves the semaphore.
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{"sem.old", "semold"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := removeStaleIn(dir, "sem", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(removed, " "); got != "semold" {
		t.Errorf("RemoveStale(\"sem\") removed %q, want semold only", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "sem.old")); err != nil {
		t.Errorf("RemoveStale(\"sem\") removed the semaphore's file sem.old: %v", err)
	}
}
