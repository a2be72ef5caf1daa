package sysv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/apitest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// child starts the test binary in role against s's key and id.
func child(t *testing.T, role string, key Key, id int, flags string) *exec.Cmd {
	t.Helper()
	return testkit.Command(role, keyEnv+"="+key.String(), idEnv+"="+strconv.Itoa(id), flagsEnv+"="+flags)
}

// holder is a child process that keeps a segment attached until release.
type holder struct{ *testkit.Talker }

func startHolder(t *testing.T, key Key, id int) *holder {
	t.Helper()
	p, err := testkit.Talk(child(t, "hold", key, id, ""))
	if err != nil {
		t.Fatal(err)
	}
	h := &holder{p}
	t.Cleanup(func() { h.release(t) })
	h.expect(t, "attached")
	return h
}

func (h *holder) expect(t *testing.T, want string) {
	t.Helper()
	if err := h.Expect(want); err != nil {
		t.Fatal(err)
	}
}

func (h *holder) write(t *testing.T, off int64, text string) {
	t.Helper()
	if err := h.Say("W %d %s", off, text); err != nil {
		t.Fatal(err)
	}
	h.expect(t, "ok")
}

// release ends the child, which detaches; it is safe to call twice.
func (h *holder) release(t *testing.T) {
	if err := h.Close(); err != nil {
		t.Errorf("child holding the segment: %v", err)
	}
}

func stat(t *testing.T, s *Segment) Info {
	t.Helper()
	info, err := s.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func inProcList(t *testing.T, id int) (Info, bool) {
	t.Helper()
	l, err := List()
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range l {
		if info.ID == id {
			return info, true
		}
	}
	return Info{}, false
}

func TestCrossProcess(t *testing.T) {
	s := mustCreate(t, 4096)
	msg := fmt.Sprintf("written by a child of %d", os.Getpid())
	if out, err := child(t, "write", s.Key(), s.ID(), msg).CombinedOutput(); err != nil {
		t.Fatalf("child writer: %v: %s", err, out)
	}
	got := make([]byte, len(msg))
	if _, err := s.ReadAt(got, 100); err != nil || string(got) != msg {
		t.Fatalf("ReadAt after the child wrote = %q, %v; want %q", got, err, msg)
	}
	info := stat(t, s)
	if info.Attaches != 1 || info.CreatorPID != os.Getpid() || info.LastPID == os.Getpid() {
		t.Errorf("after the child detached: attaches %d, creator %d, last pid %d; want 1, %d, the child's",
			info.Attaches, info.CreatorPID, info.LastPID, os.Getpid())
	}
	if info.DetachTime.IsZero() || info.AttachTime.IsZero() || time.Since(info.ChangeTime) > time.Minute {
		t.Errorf("times: attach %v detach %v change %v; want all set and recent", info.AttachTime, info.DetachTime, info.ChangeTime)
	}

	h := startHolder(t, s.Key(), 0)
	if info := stat(t, s); info.Attaches != 2 || info.LastPID != h.Cmd.Process.Pid {
		t.Errorf("with a child attached: attaches %d, last pid %d; want 2, %d", info.Attaches, info.LastPID, h.Cmd.Process.Pid)
	}
	s2, err := Open(s.Key(), ExpectSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	if n := stat(t, s).Attaches; n != 3 {
		t.Errorf("with a second attach here: attaches %d, want 3", n)
	}
	h.write(t, 0, "hello")
	got = make([]byte, 5)
	if _, err := s2.ReadAt(got, 0); err != nil || string(got) != "hello" {
		t.Errorf("second attach reads %q, %v; want the child's hello", got, err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if n := stat(t, s).Attaches; n != 2 {
		t.Errorf("after closing the second attach: attaches %d, want 2", n)
	}
	h.release(t)
	if n := stat(t, s).Attaches; n != 1 {
		t.Errorf("after the child exited: attaches %d, want 1", n)
	}
}

func TestRemoveWhileAttached(t *testing.T) {
	s := mustCreate(t, 8192)
	id, key := s.ID(), s.Key()
	h := startHolder(t, key, 0)
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(); err != nil {
		t.Errorf("second Remove: %v, want nil", err)
	}
	info := stat(t, s)
	if !info.Removed || info.Key != Private || info.Attaches != 2 {
		t.Errorf("after Remove: removed %v key %v attaches %d; want true, 0x00000000, 2", info.Removed, info.Key, info.Attaches)
	}
	if _, err := Open(key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open by key after Remove: %v, want an error matching fs.ErrNotExist", err)
	}
	// Both attachments still share the memory.
	h.write(t, 4000, "after remove")
	got := make([]byte, 12)
	if _, err := s.ReadAt(got, 4000); err != nil || string(got) != "after remove" {
		t.Errorf("ReadAt after Remove = %q, %v", got, err)
	}
	if _, err := s.WriteAt([]byte("still writable"), 0); err != nil {
		t.Errorf("WriteAt after Remove: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if info, ok := inProcList(t, id); !ok || info.Attaches != 1 || !info.Removed {
		t.Errorf("after our Close, with the child attached: listed %v %+v; want listed, 1 attach, removed", ok, info)
	}
	h.release(t)
	if _, ok := inProcList(t, id); ok {
		t.Errorf("id %d still in %s after the last detach", id, procList)
	}
}

// TestAfterCloseEveryMethod calls every method of a detached segment:
// each that returns an error returns one matching fs.ErrClosed that names
// the key, before it looks at its arguments. Remove is the documented
// exception: it acts on the segment, which outlives the attachment, and
// may be called after Close.
func TestAfterCloseEveryMethod(t *testing.T) {
	s := mustCreate(t, 100)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, res := range apitest.CallEvery(t, s) {
		var pe *fs.PathError
		if name != "Remove" && res.HasErr && (!errors.Is(res.Err, fs.ErrClosed) || !errors.As(res.Err, &pe) || pe.Path != s.Name()) {
			t.Errorf("%s after Close = %v; want fs.ErrClosed naming %s", name, res.Err, s.Name())
		}
	}
	p := make([]byte, 8)
	for _, err := range []error{
		func() error { _, err := s.ReadAt(p, -1); return err }(),
		func() error { _, err := s.WriteAt(p, -1); return err }(),
		func() error { _, err := s.Seek(0, 99); return err }(),
		func() error { _, err := s.Section(-1, 1); return err }(),
	} {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("call with bad arguments after Close = %v; want fs.ErrClosed first", err)
		}
	}
}

func TestClosed(t *testing.T) {
	s := mustCreate(t, 100)
	id, key := s.ID(), s.Key()
	if err := s.Sync(); err != nil {
		t.Errorf("Sync: %v, want nil (no backing store)", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v, want fs.ErrClosed", err)
	}
	if _, err := s.Stat(); !errors.Is(err, fs.ErrClosed) || !strings.Contains(err.Error(), key.String()) {
		t.Errorf("Stat after Close: %v, want fs.ErrClosed naming the key", err)
	}
	if _, err := s.ReadAt(make([]byte, 1), 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadAt after Close: %v, want fs.ErrClosed", err)
	}
	if s.ID() != id || s.Key() != key {
		t.Errorf("ID, Key after Close = %d, %v; want %d, %v", s.ID(), s.Key(), id, key)
	}
	if err := s.Remove(); err != nil {
		t.Errorf("Remove after Close: %v", err)
	}
	if _, ok := inProcList(t, id); ok {
		t.Errorf("id %d listed after Close and Remove", id)
	}
	// A second handle on a segment that is gone.
	a := mustCreate(t, 100)
	b, err := AttachID(a.ID())
	if err != nil {
		t.Fatal(err)
	}
	cleanupSegment(t, b)
	a.Close()
	b.Close()
	if err := a.Remove(); err != nil {
		t.Fatal(err)
	}
	err = b.Remove()
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no longer exists") {
		t.Errorf("Remove of a removed segment: %v, want fs.ErrNotExist saying it no longer exists", err)
	}
}

func TestReadOnly(t *testing.T) {
	s := mustCreate(t, 4096, Mode(0o640))
	s.WriteAt([]byte("data"), 0)
	r, err := Open(s.Key(), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Writable() {
		t.Error("read-only attach reports Writable")
	}
	if _, err := r.WriteAt([]byte("x"), 0); !errors.Is(err, ioadapt.ErrReadOnly) {
		t.Errorf("WriteAt on a read-only attach: %v, want ioadapt.ErrReadOnly", err)
	}
	got := make([]byte, 4)
	if _, err := r.ReadAt(got, 0); err != nil || string(got) != "data" {
		t.Errorf("ReadAt = %q, %v", got, err)
	}
	if info := stat(t, s); info.Mode != 0o640 {
		t.Errorf("Mode = %v, want 0640", info.Mode)
	}
}

func TestOpenOrCreate(t *testing.T) {
	key := newKey(t)
	a, err := OpenOrCreate(key, 5000, Mode(0o600))
	if err != nil {
		t.Fatal(err)
	}
	cleanupSegment(t, a)
	b, err := OpenOrCreate(key, 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.ID() != b.ID() || b.Size() != 5000 {
		t.Errorf("second OpenOrCreate: id %d size %d, want id %d size 5000", b.ID(), b.Size(), a.ID())
	}
	if _, err := Create(key, 5000); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create of a taken key = %v; want fs.ErrExist, Create is exclusive", err)
	}
	_, err = OpenOrCreate(key, 1000)
	if !errors.Is(err, ioadapt.ErrSizeMismatch) || !strings.Contains(err.Error(), "size 5000, not the 1000 asked") {
		t.Errorf("OpenOrCreate smaller than existing: %v, want ioadapt.ErrSizeMismatch with both sizes", err)
	}
	if n := stat(t, a).Attaches; n != 2 {
		t.Errorf("attaches %d after the refused open, want 2 (it must detach)", n)
	}
}

func TestPrivateAndAttachID(t *testing.T) {
	s, err := CreatePrivate(3000)
	if err != nil {
		t.Fatal(err)
	}
	cleanupSegment(t, s)
	if s.Key() != Private || s.Name() != "id "+strconv.Itoa(s.ID()) {
		t.Errorf("Key %v Name %q, want 0x00000000 and \"id N\"", s.Key(), s.Name())
	}
	h := startHolder(t, Private, s.ID())
	h.write(t, 10, "by id")
	got := make([]byte, 5)
	if _, err := s.ReadAt(got, 10); err != nil || string(got) != "by id" {
		t.Errorf("ReadAt = %q, %v", got, err)
	}
	if _, err := AttachID(s.ID(), ExpectSize(3001)); !errors.Is(err, ioadapt.ErrSizeMismatch) ||
		!strings.Contains(err.Error(), "size 3000, not the 3001 expected") {
		t.Errorf("AttachID with a wrong ExpectSize: %v", err)
	}
}

func TestList(t *testing.T) {
	s := mustCreate(t, 12345, Mode(0o604))
	info, ok := inProcList(t, s.ID())
	if !ok {
		t.Fatalf("id %d not in List", s.ID())
	}
	want := stat(t, s)
	if info != want {
		t.Errorf("List entry\n%+v\nStat\n%+v", info, want)
	}
	if info.Key != s.Key() || info.Size != 12345 || info.Mode != 0o604 || info.UID != os.Getuid() || info.Attaches != 1 {
		t.Errorf("List entry %+v", info)
	}
}

func TestLimits(t *testing.T) {
	l, err := SystemLimits()
	if err != nil {
		t.Fatal(err)
	}
	if l.MaxSize == 0 || l.MaxSegments == 0 || l.MaxPages == 0 || l.PageSize != os.Getpagesize() {
		t.Errorf("SystemLimits = %+v", l)
	}
}

func TestReaderConformance(t *testing.T) {
	page := int64(os.Getpagesize())
	// Size 0, the first of the usual sizes, is no System V segment.
	if _, err := CreatePrivate(0); !errors.Is(err, ioadapt.ErrInvalidSize) || !strings.Contains(err.Error(), "size 0: a segment holds at least 1 byte") {
		t.Errorf("CreatePrivate(0): %v, want ioadapt.ErrInvalidSize", err)
	}
	for _, size := range []int64{1, page - 1, page, page + 1, 5*page + 17} {
		t.Run(strconv.FormatInt(size, 10), func(t *testing.T) {
			s := mustCreate(t, size)
			want := make([]byte, size)
			for i := range want {
				want[i] = byte(i*7 + i>>8)
			}
			if n, err := s.WriteAt(want, 0); err != nil || int64(n) != size {
				t.Fatal(n, err)
			}
			if err := iotest.TestReader(s, want); err != nil {
				t.Error(err)
			}
			r, err := AttachID(s.ID(), ReadOnly(), ExpectSize(size))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if err := iotest.TestReader(r, want); err != nil {
				t.Errorf("read-only attach: %v", err)
			}
			if n, err := s.WriteAt([]byte("xx"), size-1); n != 1 || !errors.Is(err, ioadapt.ErrFixedSize) {
				t.Errorf("WriteAt across the end = %d, %v; want 1, ErrFixedSize", n, err)
			}
		})
	}
}

// TestLarge attaches a segment above 2 GiB and touches a few pages only.
func TestLarge(t *testing.T) {
	if strconv.IntSize < 64 {
		t.Skip("segments above 2 GiB need a 64-bit platform")
	}
	const size int64 = 3<<30 + 12345
	if l, err := SystemLimits(); err != nil || l.MaxSize < uint64(size) {
		t.Skipf("shmmax %d is below %d (%v)", l.MaxSize, size, err)
	}
	s, err := CreatePrivate(size)
	if errors.Is(err, syscall.ENOMEM) {
		t.Skipf("the system will not commit 3 GiB: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cleanupSegment(t, s)
	if s.Size() != size || stat(t, s).Size != size {
		t.Fatalf("Size %d, want %d", s.Size(), size)
	}
	for _, off := range []int64{0, 1<<31 - 2, 1 << 31, 3 << 30, size - 5} {
		msg := []byte(fmt.Sprintf("%5d", off%100000))
		if _, err := s.WriteAt(msg, off); err != nil {
			t.Fatalf("WriteAt %d: %v", off, err)
		}
		got := make([]byte, 5)
		if _, err := s.ReadAt(got, off); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("ReadAt %d = %q, %v", off, got, err)
		}
	}
	if n, err := s.ReadAt(make([]byte, 10), size-5); n != 5 || err != io.EOF {
		t.Errorf("ReadAt across the end = %d, %v; want 5, io.EOF", n, err)
	}
}

// TestFault shows why the region does not claim ioadapt.FaultFree: a
// privileged process can truncate the shmem file behind an attached
// segment through /proc/PID/map_files, and touching it then faults.
func TestFault(t *testing.T) {
	page := os.Getpagesize()
	s, err := CreatePrivate(int64(4 * page))
	if err != nil {
		t.Fatal(err)
	}
	cleanupSegment(t, s)
	var start, end uintptr
	s.Access(func(b []byte) error {
		start = uintptr(addrOf(b))
		end = start + uintptr(len(b))
		return nil
	})
	path := fmt.Sprintf("/proc/self/map_files/%x-%x", start, end)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Skipf("cannot open the segment's file (needs CAP_SYS_ADMIN): %v", err)
	}
	defer f.Close()
	if err := f.Truncate(0); err != nil {
		t.Skipf("cannot truncate the segment's file: %v", err)
	}
	_, err = s.ReadAt(make([]byte, 1), int64(2*page))
	if !errors.Is(err, ioadapt.ErrFault) {
		t.Errorf("ReadAt after the shmem file shrank: %v, want ioadapt.ErrFault", err)
	}
}

// ipcmk makes a segment of size bytes with util-linux's ipcmk -M and mode
// and returns its id and key (ipcmk picks a random one). When the test
// ends, ipcrm -m removes it if it is still there. Without ipcmk and ipcrm
// the test is skipped.
func ipcmk(t *testing.T, size int, mode string) (int, Key) {
	t.Helper()
	for _, tool := range []string{"ipcmk", "ipcrm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	out, err := exec.Command("ipcmk", "-M", strconv.Itoa(size), "-p", mode).CombinedOutput()
	if err != nil {
		t.Fatalf("ipcmk: %v: %s", err, out)
	}
	// util-linux prints "Shared memory id: 42".
	_, idText, ok := strings.Cut(strings.TrimSpace(string(out)), "id: ")
	id, err := strconv.Atoi(idText)
	if !ok || err != nil {
		t.Fatalf("cannot read the id in ipcmk's output %q", out)
	}
	track(id)
	info, ok := inProcList(t, id)
	t.Cleanup(func() { ipcrmID(t, id, info.Key) })
	if !ok {
		t.Fatalf("ipcmk's id %d not in %s", id, procList)
	}
	return id, info.Key
}

// ipcrmID removes the segment id with ipcrm -m, if it is still there with
// the key.
func ipcrmID(t *testing.T, id int, key Key) {
	t.Helper()
	if info, ok := inProcList(t, id); ok && info.Key == key {
		if out, err := exec.Command("ipcrm", "-m", strconv.Itoa(id)).CombinedOutput(); err != nil {
			t.Errorf("ipcrm -m %d: %v: %s", id, err, out)
		}
	}
}

func TestIpcmkInterop(t *testing.T) {
	id, key := ipcmk(t, 8192, "0644")
	if key == Private {
		t.Skip("ipcmk made a segment without a key")
	}
	s, err := Open(key, ExpectSize(8192))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.ID() != id || stat(t, s).Mode != 0o644 {
		t.Errorf("Open(%v): id %d mode %v, want %d 0644", key, s.ID(), stat(t, s).Mode, id)
	}
	if _, err := s.WriteAt([]byte("from go"), 8185); err != nil {
		t.Fatal(err)
	}
	r, err := AttachID(id, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(io.NewSectionReader(r, 8185, 100))
	if err != nil || string(got) != "from go" {
		t.Errorf("another attach reads %q, %v", got, err)
	}
}

// ipcsLine returns the fields of ipcs -m's line for id, or nil.
func ipcsLine(t *testing.T, id int) []string {
	t.Helper()
	out, err := exec.Command("ipcs", "-m").CombinedOutput()
	if err != nil {
		t.Fatalf("ipcs -m: %v: %s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// key shmid owner perms bytes nattch status
		if f := strings.Fields(line); len(f) >= 6 && f[1] == strconv.Itoa(id) {
			return f
		}
	}
	return nil
}

func TestIpcsSeesOurs(t *testing.T) {
	if _, err := exec.LookPath("ipcs"); err != nil {
		t.Skipf("ipcs not installed: %v", err)
	}
	s := mustCreate(t, 12345, Mode(0o640))
	f := ipcsLine(t, s.ID())
	if f == nil {
		t.Fatalf("id %d not in ipcs -m", s.ID())
	}
	if f[0] != s.Key().String() || f[3] != "640" || f[4] != "12345" || f[5] != "1" {
		t.Errorf("ipcs -m line %q, want key %v, perms 640, bytes 12345, nattch 1", f, s.Key())
	}
	if err := s.Remove(); err != nil {
		t.Fatal(err)
	}
	if f := ipcsLine(t, s.ID()); f == nil || f[len(f)-1] != "dest" {
		t.Errorf("after Remove, while attached: ipcs line %q, want status dest", f)
	}
	s.Close()
	if f := ipcsLine(t, s.ID()); f != nil {
		t.Errorf("after Remove and Close: ipcs still lists %q", f)
	}
}

const ftokC = `#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>

int main(int argc, char **argv) {
	for (int i = 2; i < argc; i++) {
		key_t k = ftok(argv[1], atoi(argv[i]));
		if (k == -1) { perror("ftok"); return 1; }
		printf("0x%08x\n", (unsigned)k);
	}
	return 0;
}
`

func TestFtokMatchesC(t *testing.T) {
	bin := buildC(t, "ftok", ftokC)
	if bin == "" {
		t.Skip("no C compiler (cc or gcc) to build the reference ftok program")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "keyfile")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	projs := []string{"0", "1", "65", "127", "128", "200", "255"}
	for _, path := range []string{file, dir, "/", os.Args[0], "/dev/null", "/proc/version"} {
		out, err := exec.Command(bin, append([]string{path}, projs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ftok %s: %v: %s", path, err, out)
		}
		lines := strings.Fields(string(out))
		for i, p := range projs {
			proj, _ := strconv.Atoi(p)
			k, err := Ftok(path, byte(proj))
			if err != nil {
				t.Fatal(err)
			}
			if k.String() != lines[i] {
				t.Errorf("Ftok(%q, %d) = %v, C's ftok gives %s", path, proj, k, lines[i])
			}
		}
	}
}

// lowerLimitsEnv opts in to the tests that lower system-wide limits.
const lowerLimitsEnv = "SYSV_TEST_LOWER_LIMITS"

// setLimit writes a /proc/sys/kernel limit for the length of the test and
// restores it in t.Cleanup, pass or fail. The limits hold for every process
// of the machine (of the IPC namespace), which could fail another program's
// shmget meanwhile, so this runs only when asked.
func setLimit(t *testing.T, name string, v uint64) {
	t.Helper()
	if os.Getenv(lowerLimitsEnv) != "1" {
		t.Skipf("lowering %s affects every process on this machine; set %s=1 to run", name, lowerLimitsEnv)
	}
	path := "/proc/sys/kernel/" + name
	old, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("cannot read %s: %v", path, err)
	}
	if err := os.WriteFile(path, []byte(strconv.FormatUint(v, 10)), 0); err != nil {
		t.Skipf("cannot lower %s (needs root in the initial IPC namespace): %v", path, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, bytes.TrimSpace(old), 0); err != nil {
			t.Errorf("restore %s to %s: %v", path, old, err)
		}
	})
}

// wantErr checks that err matches every target and mentions every part.
func wantErr(t *testing.T, what string, err error, targets []error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("%s: %T is not an *fs.PathError: %v", what, err, err)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: %q does not match %v", what, err, target)
		}
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %q does not mention %q", what, err, p)
		}
	}
}

func TestBadInput(t *testing.T) {
	key := newKey(t)
	for _, tc := range []struct {
		size    int64
		targets []error
		parts   []string
	}{
		{0, []error{ioadapt.ErrInvalidSize}, []string{"size 0", "at least 1 byte"}},
		{-1, []error{ioadapt.ErrInvalidSize}, []string{"size -1", "at least 1 byte"}},
		{math.MinInt64, []error{ioadapt.ErrInvalidSize}, []string{"size -9223372036854775808"}},
		{math.MaxInt64, []error{ioadapt.ErrInvalidSize}, []string{"size 9223372036854775807 overflows when rounded up"}},
	} {
		_, err := Create(key, tc.size)
		wantErr(t, fmt.Sprintf("Create size %d", tc.size), err, tc.targets, append(tc.parts, "create key "+key.String())...)
		_, err = CreatePrivate(tc.size)
		wantErr(t, fmt.Sprintf("CreatePrivate size %d", tc.size), err, tc.targets, tc.parts...)
	}

	_, err := Open(key)
	wantErr(t, "Open a missing key", err, []error{fs.ErrNotExist, syscall.ENOENT}, "open key "+key.String(), "no segment has this key")

	s := mustCreate(t, 4096)
	_, err = Create(s.Key(), 4096)
	wantErr(t, "exclusive Create of a taken key", err, []error{fs.ErrExist, syscall.EEXIST},
		"create key "+s.Key().String(), fmt.Sprintf("taken by id %d (size 4096, mode 0600", s.ID()))
	_, err = OpenOrCreate(s.Key(), 8192)
	wantErr(t, "OpenOrCreate larger than the existing segment", err, []error{ioadapt.ErrSizeMismatch, syscall.EINVAL},
		"open key "+s.Key().String(), fmt.Sprintf("(id %d) exists with size 4096, smaller than the 8192 asked", s.ID()))
	_, err = OpenOrCreate(s.Key(), 4097)
	wantErr(t, "OpenOrCreate larger than the existing segment", err, []error{ioadapt.ErrSizeMismatch},
		"open key "+s.Key().String(), "size 4096, smaller than the 4097 asked")
	_, err = Open(s.Key(), ExpectSize(4095))
	wantErr(t, "Open with another expected size", err, []error{ioadapt.ErrSizeMismatch},
		"open key "+s.Key().String(), "size 4096, not the 4095 expected")
	if n := stat(t, s).Attaches; n != 1 {
		t.Errorf("%d attaches after the refused calls, want 1", n)
	}

	l, err := List()
	if err != nil {
		t.Fatal(err)
	}
	unused := math.MaxInt32 - 1
	for _, info := range l {
		if info.ID == unused {
			t.Fatalf("id %d is in use", unused)
		}
	}
	_, err = AttachID(unused)
	wantErr(t, "AttachID of an unused id", err, []error{fs.ErrNotExist, syscall.EINVAL},
		fmt.Sprintf("attach id %d: no segment has id %d", unused, unused))
	_, err = AttachID(-5)
	wantErr(t, "AttachID(-5)", err, []error{fs.ErrInvalid}, "attach id -5: invalid id -5")

	// 1 PiB is above what any machine can commit under the default
	// overcommit heuristic; under overcommit_memory=1 the kernel may make
	// it and then fail to attach it, and Create must remove it again.
	_, err = Create(key, 1<<50)
	wantErr(t, "Create 1 PiB", err, nil, "create key "+key.String(), "size 1125899906842624")
	if _, ok := lookupKey(key); ok {
		t.Errorf("a failed Create left key %v behind", key)
	}
}

// TestLimitErrors lowers shmmax (unless it is small already), shmmni and
// shmall in turn, and restores them, to see the errors that name each
// limit. Lowering them needs SYSV_TEST_LOWER_LIMITS=1 (see setLimit).
func TestLimitErrors(t *testing.T) {
	key := newKey(t)
	t.Run("shmmax", func(t *testing.T) {
		l, err := SystemLimits()
		if err != nil {
			t.Fatal(err)
		}
		max := l.MaxSize
		if max > 1<<40 {
			max = 1 << 20
			setLimit(t, "shmmax", max)
		}
		size := int64(max) + 1
		_, err = Create(key, size)
		wantErr(t, "Create above shmmax", err, []error{ErrTooLarge, syscall.EINVAL}, "create key "+key.String(),
			fmt.Sprintf("size %d is above shmmax %d (/proc/sys/kernel/shmmax)", size, max))
	})
	t.Run("shmmni", func(t *testing.T) {
		l, err := List()
		if err != nil {
			t.Fatal(err)
		}
		setLimit(t, "shmmni", uint64(len(l)))
		s, err := Create(key, 4096)
		if err == nil {
			cleanupSegment(t, s)
			t.Skip("another process removed a segment meanwhile")
		}
		wantErr(t, "Create past shmmni", err, []error{ErrTooMany, syscall.ENOSPC}, "create key "+key.String(),
			"size 4096: ", fmt.Sprintf(" segments in use reach shmmni %d (/proc/sys/kernel/shmmni)", len(l)))
	})
	t.Run("shmall", func(t *testing.T) {
		l, err := List()
		if err != nil {
			t.Fatal(err)
		}
		page := int64(os.Getpagesize())
		var used uint64
		for _, info := range l {
			used += uint64((info.Size + page - 1) / page)
		}
		setLimit(t, "shmall", used+1)
		s, err := Create(key, 2*page)
		if err == nil {
			cleanupSegment(t, s)
			t.Skip("another process removed a segment meanwhile")
		}
		wantErr(t, "Create past shmall", err, []error{ioadapt.ErrNoSpace, syscall.ENOSPC}, "create key "+key.String(),
			fmt.Sprintf("size %d (2 pages) with ", 2*page),
			fmt.Sprintf(" pages in use is above shmall %d pages (/proc/sys/kernel/shmall)", used+1))
	})
}

// binaryForOthers copies the test binary out of the build directory, which
// is private to root, into a directory where other users can run it.
func binaryForOthers(t *testing.T) (bin, dir string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "sysv-other-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin = filepath.Join(dir, "sysv.test")
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

// TestPermissionRefused has a child that dropped to nobody try a 0600
// segment of root's.
func TestPermissionRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("dropping privileges to nobody needs root")
	}
	s := mustCreate(t, 4096)
	bin, dir := binaryForOthers(t)
	for _, flags := range []string{"", "ro"} {
		cmd := child(t, "open", s.Key(), s.ID(), flags)
		cmd.Path, cmd.Args[0], cmd.Dir = bin, bin, dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child as nobody: %v: %s", err, out)
		}
		got := strings.TrimSpace(string(out))
		want := "read and write"
		if flags == "ro" {
			want = "read"
		}
		for _, part := range []string{"err true ", "open key " + s.Key().String(),
			fmt.Sprintf("(id %d) has mode 0600 and owner uid 0 gid 0: uid 65534 gid 65534 may not %s it: permission denied", s.ID(), want)} {
			if !strings.Contains(got, part) {
				t.Errorf("child as nobody (%q) said %q, want it to contain %q", flags, got, part)
			}
		}
	}
}

// TestCloseUnderCalls closes a segment while goroutines read and write it
// without pause: each call ends whole or with fs.ErrClosed, none crashes
// the process, and the attachment is gone afterwards as after shmdt (the
// count back to 1, the other attachment's).
func TestCloseUnderCalls(t *testing.T) {
	keep := mustCreate(t, 1<<16)
	for round := range 20 {
		s, err := AttachID(keep.ID())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for i := 0; ; i++ {
					off := int64(i*4096) % (1 << 16)
					var err error
					if g%2 == 0 {
						_, err = s.ReadAt(buf, off)
					} else {
						_, err = s.WriteAt(buf, off)
					}
					if errors.Is(err, fs.ErrClosed) {
						return
					}
					if err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%3) * time.Millisecond)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("round %d: a call racing Close: %v; want nil or fs.ErrClosed", round, err)
		}
		if n := stat(t, keep).Attaches; n != 1 {
			t.Fatalf("round %d: %d attachments after Close; want 1", round, n)
		}
	}
}

// TestCloseHugetlbSegment attaches System V segments made with
// SHM_HUGETLB (and SHM_NORESERVE, so that no huge page need be free),
// whose mapping spans whole huge pages while the segment's size may not,
// and closes them, before and after a call copied from the memory: Close
// must succeed and detach, as shmdt does, so that the removed segment is
// gone, rather than fail on a mapping it cannot cut and leave it attached.
func TestCloseHugetlbSegment(t *testing.T) {
	const shmHugetlb, shmNoreserve = 0x800, 0x1000 // SHM_HUGETLB, SHM_NORESERVE
	for _, size := range []int{4096, 2 << 20, 2<<20 + 5} {
		for _, touch := range []bool{false, true} {
			id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600|shmHugetlb|shmNoreserve)
			if err != nil {
				t.Skipf("no System V segment of huge pages here (shmget SHM_HUGETLB: %v)", err)
			}
			track(id)
			s, err := AttachID(id)
			if err != nil {
				t.Fatal(err)
			}
			if touch {
				// Without a free huge page this read faults: an error,
				// which is not what is tested here.
				_, _ = s.ReadAt(make([]byte, 1), 0)
			}
			if err := s.Close(); err != nil {
				t.Errorf("size %d, touched %v: Close: %v", size, touch, err)
			}
			var d unix.SysvShmDesc
			if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &d); err != nil {
				t.Fatal(err)
			}
			if d.Nattch != 0 {
				t.Errorf("size %d, touched %v: %d attachments after Close; want 0", size, touch, d.Nattch)
			}
			if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func init() { jobs["attach-loop"] = attachLoopJob }

// attachLoopJob attaches the segment MMAPKIT_SYSV_ID, reads a byte and
// closes it, 200 times, under an address-space limit (RLIMIT_AS) 512 MiB
// above what the process maps at its start.
func attachLoopJob() error {
	id, _ := strconv.Atoi(os.Getenv(idEnv))
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	var vmKB uint64
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmSize:"); ok {
			vmKB, err = strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return err
			}
		}
	}
	if vmKB == 0 {
		return errors.New("no VmSize in /proc/self/status")
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_AS, &lim); err != nil {
		return err
	}
	lim.Cur = vmKB<<10 + 512<<20
	if err := unix.Setrlimit(unix.RLIMIT_AS, &lim); err != nil {
		return err
	}
	for i := range 200 {
		s, err := AttachID(id)
		if err != nil {
			return fmt.Errorf("attach %d of 200: %w", i+1, err)
		}
		if _, err := s.ReadAt(make([]byte, 1), 0); err != nil {
			return err
		}
		if err := s.Close(); err != nil {
			return err
		}
	}
	return nil
}

// TestAttachCloseUnderAddressSpaceLimit attaches, reads and closes an
// 8 MiB segment 200 times in a process whose address space is limited to
// 512 MiB more than it had: the closed attachments, retired until a
// collection, must be reclaimed before they take the room of the next one.
func TestAttachCloseUnderAddressSpaceLimit(t *testing.T) {
	s := mustCreate(t, 8<<20)
	if out, err := child(t, "attach-loop", Private, s.ID(), "").CombinedOutput(); err != nil {
		t.Fatalf("attach-loop child: %v\n%s", err, out)
	}
}
