//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// uniqueName returns a shared-memory name no other run uses.
func uniqueName(t *testing.T) string {
	return fmt.Sprintf("mmcat-test-%d-%x", os.Getpid(), randomBytes(6))
}

// shmName returns a fresh segment name, unlinked at the end of the test.
func shmName(t *testing.T) string {
	t.Helper()
	name := uniqueName(t)
	t.Cleanup(func() { _ = shm.Unlink(name) })
	return name
}

// sysvKey returns a key no segment has, whose segment is removed at the
// end of the test.
func sysvKey(t *testing.T) sysv.Key {
	t.Helper()
	for range 100 {
		b := randomBytes(4)
		k := sysv.Key(int32(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) &^ 0x40000000)
		if k == sysv.Private {
			continue
		}
		if s, err := sysv.Open(k, sysv.ReadOnly()); err == nil {
			_ = s.Close()
			continue
		}
		t.Cleanup(func() { _ = removeSysv(k) })
		return k
	}
	t.Fatal("no free System V key")
	return 0
}

// TestShmRoundTrip writes files, standard input and formatted output into
// POSIX segments and reads them back, with mmcat and with the shm package.
func TestShmRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", randomBytes(300000))
	b := writeFile(t, dir, "b", []byte("second\n\n\n\tfile\n"))
	ab := append(readFile(t, a), readFile(t, b)...)
	stdin := randomBytes(70000)

	for _, c := range []struct {
		name  string
		args  []string
		stdin []byte
		want  []byte
	}{
		{"files", []string{a, b}, nil, ab},
		{"stdin between files", []string{b, "-", b}, stdin, append(append(readFile(t, b), stdin...), readFile(t, b)...)},
		{"empty", []string{filepath.Join("..", "..", "testdata", "empty")}, nil, nil},
		{"formatted", []string{"-nsT", b, b}, nil, gnuFormat(t, "-nsT", b, b)},
		{"range", []string{"--offset", "1K", "--length", "2K", a}, nil, readFile(t, a)[1024:3072]},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := shmName(t)
			mustRun(t, c.stdin, append([]string{"-o", "shm:" + name}, c.args...)...)
			if got := mustRun(t, nil, "shm:"+name); !bytes.Equal(got, c.want) {
				t.Fatalf("read back %d bytes, want %d:\n%s", len(got), len(c.want), diffReport(got, c.want))
			}
			seg, err := shm.Open(name, shm.ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer seg.Close()
			if !bytes.Equal(seg.Bytes(), c.want) {
				t.Fatalf("segment holds %d bytes, want %d", seg.Size(), len(c.want))
			}
			fi, err := seg.Stat()
			if err != nil || fi.Mode.Perm() != 0o600 {
				t.Errorf("segment mode %v, %v; want 0600", fi.Mode, err)
			}
		})
	}
}

// TestShmPython checks that Python's multiprocessing.shared_memory reads
// what mmcat wrote, and that mmcat reads what Python wrote.
func TestShmPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	data := randomBytes(123457)
	src := writeFile(t, t.TempDir(), "data", data)
	name := shmName(t)
	mustRun(t, nil, "-o", "shm:"+name, src)
	// Python 3.11's resource tracker unlinks every segment it saw at
	// exit, even one it only attached: unregister it.
	const read = `import sys
from multiprocessing import resource_tracker, shared_memory
shm = shared_memory.SharedMemory(name=sys.argv[1])
resource_tracker.unregister(shm._name, "shared_memory")
sys.stdout.buffer.write(bytes(shm.buf[:int(sys.argv[2])]))
shm.close()
`
	out, err := exec.Command("python3", "-c", read, name, strconv.Itoa(len(data))).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("Python read %d bytes that differ from the %d written", len(out), len(data))
	}

	pyName := shmName(t)
	const write = `import sys
from multiprocessing import resource_tracker, shared_memory
shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=5)
resource_tracker.unregister(shm._name, "shared_memory")
shm.buf[:5] = b"hello"
shm.close()
`
	if out, err := exec.Command("python3", "-c", write, pyName).CombinedOutput(); err != nil {
		t.Fatalf("python3: %v: %s", err, out)
	}
	if got := mustRun(t, nil, "shm:"+pyName); string(got) != "hello" {
		t.Fatalf("read %q from Python's segment, want hello", got)
	}
}

// TestShmExisting checks that -o refuses an existing segment without
// --force and replaces it with --force, and that --mode applies.
func TestShmExisting(t *testing.T) {
	src := writeFile(t, t.TempDir(), "src", []byte("new contents\n"))
	name := shmName(t)
	seg, err := shm.Create(name, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = seg.WriteAt([]byte("old"), 0)
	seg.Close()

	r := mmcat(t, nil, "-o", "shm:"+name, src)
	if r.code != 1 || !strings.Contains(string(r.stderr), "mmcat: shm:"+name+": segment exists; use --force") {
		t.Errorf("onto an existing segment: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := mustRun(t, nil, "shm:"+name); string(got) != "old" {
		t.Errorf("segment changed without --force: %q", got)
	}
	mustRun(t, nil, "--force", "--mode", "0640", "-o", "shm:"+name, src)
	if got := mustRun(t, nil, "shm:"+name); string(got) != "new contents\n" {
		t.Errorf("after --force: %q", got)
	}
	seg, err = shm.Open(name, shm.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	if fi, err := seg.Stat(); err != nil || fi.Mode.Perm() != 0o640 {
		t.Errorf("--mode 0640 gave %v, %v", fi.Mode, err)
	}
}

// TestSysvRoundTrip writes into System V segments by key and reads them
// back by key (hexadecimal and decimal) and by id.
func TestSysvRoundTrip(t *testing.T) {
	requireSysv(t)
	dir := t.TempDir()
	data := randomBytes(200001)
	src := writeFile(t, dir, "src", data)
	key := sysvKey(t)
	mustRun(t, nil, "-o", "sysv:"+key.String(), src)
	for _, arg := range []string{"sysv:" + key.String(), "sysv:" + strconv.Itoa(int(key))} {
		if got := mustRun(t, nil, arg); !bytes.Equal(got, data) {
			t.Errorf("%s: read %d bytes, want %d", arg, len(got), len(data))
		}
	}
	seg, err := sysv.Open(key, sysv.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	id := seg.ID()
	info, _ := seg.Stat()
	seg.Close()
	if info.Mode.Perm() != 0o600 || info.Size != int64(len(data)) {
		t.Errorf("segment mode %v size %d; want 0600, %d", info.Mode, info.Size, len(data))
	}
	if got := mustRun(t, nil, "--offset", "100", "--length", "10", "sysv-id:"+strconv.Itoa(id)); !bytes.Equal(got, data[100:110]) {
		t.Errorf("sysv-id range: %x, want %x", got, data[100:110])
	}

	// Refused without --force, replaced with it.
	r := mmcat(t, nil, "-o", "sysv:"+key.String(), src)
	if r.code != 1 || !strings.Contains(string(r.stderr), "segment exists") {
		t.Errorf("onto an existing segment: exit %d, stderr %q", r.code, r.stderr)
	}
	mustRun(t, []byte("short\n"), "--force", "-n", "-o", "sysv:"+key.String())
	if got := mustRun(t, nil, "sysv:"+key.String()); string(got) != "     1\tshort\n" {
		t.Errorf("after --force: %q", got)
	}

	// An empty output cannot become a System V segment.
	k2 := sysvKey(t)
	r = mmcat(t, nil, "-o", "sysv:"+k2.String(), filepath.Join("..", "..", "testdata", "empty"))
	if r.code != 1 || !strings.Contains(string(r.stderr), "at least one byte") {
		t.Errorf("empty output to sysv: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestSysvIpcmk reads a segment that ipcmk made, by id and by key.
func TestSysvIpcmk(t *testing.T) {
	requireSysv(t)
	if _, err := exec.LookPath("ipcmk"); err != nil {
		t.Skip("no ipcmk")
	}
	out, err := exec.Command("ipcmk", "-M", "4096", "-p", "0600").Output()
	if err != nil {
		t.Fatalf("ipcmk: %v", err)
	}
	f := strings.Fields(string(out))
	id, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("ipcmk said %q", out)
	}
	t.Cleanup(func() { _ = exec.Command("ipcrm", "-m", strconv.Itoa(id)).Run() })
	seg, err := sysv.AttachID(id)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("ipcmk!\n"), 4096/7+1)[:4096]
	_, _ = seg.WriteAt(want, 0)
	info, err := seg.Stat()
	seg.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, nil, "sysv-id:"+strconv.Itoa(id)); !bytes.Equal(got, want) {
		t.Errorf("sysv-id:%d read %q...", id, got[:min(len(got), 20)])
	}
	if got := mustRun(t, nil, "sysv:"+info.Key.String()); !bytes.Equal(got, want) {
		t.Errorf("sysv:%s read %q...", info.Key, got[:min(len(got), 20)])
	}
	if got := mustRun(t, nil, "-n", "sysv-id:"+strconv.Itoa(id)); !bytes.Equal(got, gnuFormat(t, "-n", writeFile(t, t.TempDir(), "w", want))) {
		t.Errorf("-n over sysv-id differs from GNU cat")
	}
}

// TestBadSources covers sources that fail: the message names the source,
// the others are still copied, and the exit status is 1.
func TestBadSources(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good", []byte("0123456789"))
	for _, c := range []struct {
		args    []string
		stdout  string
		message string
	}{
		{[]string{good, "sysv:zz", good}, "01234567890123456789", "mmcat: sysv:zz: "},
		{[]string{"sysv-id:x", good}, "0123456789", "mmcat: sysv-id:x: invalid segment id"},
		{[]string{"shm:mmcat-test-no-such-segment", good}, "0123456789", "mmcat: shm:mmcat-test-no-such-segment: No such file or directory"},
		{[]string{"--offset", "11", good}, "", "mmcat: " + good + ": offset 11 is past the end (size 10)"},
		{[]string{"--offset", "1K", good, "/proc/version"}, "", "offset 1024 is past the end (size 10)"},
	} {
		r := mmcat(t, nil, c.args...)
		if r.code != 1 || string(r.stdout) != c.stdout || !strings.Contains(string(r.stderr), c.message) {
			t.Errorf("mmcat %q: exit %d, stdout %q, stderr %q; want 1, %q, %q", c.args, r.code, r.stdout, r.stderr, c.stdout, c.message)
		}
	}
}

// TestRanges checks --offset and --length on mapped and streamed sources
// against slicing the input.
func TestRanges(t *testing.T) {
	data := randomBytes(5000)
	f := writeFile(t, t.TempDir(), "f", data)
	for _, c := range []struct {
		args   []string
		lo, hi int
	}{
		{[]string{"--offset", "0"}, 0, 5000},
		{[]string{"--offset", "4999"}, 4999, 5000},
		{[]string{"--offset", "5000"}, 5000, 5000},
		{[]string{"--length", "0"}, 0, 0},
		{[]string{"--length", "1K"}, 0, 1024},
		{[]string{"--offset", "1k", "--length", "10"}, 1024, 1034},
		{[]string{"--offset", "4000", "--length", "1M"}, 4000, 5000},
		{[]string{"--offset=4095", "--length=2"}, 4095, 4097},
	} {
		want := data[c.lo:c.hi]
		if got := mustRun(t, nil, append(c.args, f)...); !bytes.Equal(got, want) {
			t.Errorf("mapped %q: %d bytes, want %d", c.args, len(got), len(want))
		}
		if got := mustRun(t, data, append(c.args, "-")...); !bytes.Equal(got, want) {
			t.Errorf("stdin %q: %d bytes, want %d", c.args, len(got), len(want))
		}
		// Each source gets the range.
		if got := mustRun(t, nil, append(c.args, f, f)...); !bytes.Equal(got, append(append([]byte{}, want...), want...)) {
			t.Errorf("two sources %q: %d bytes", c.args, len(got))
		}
	}
}

// TestRangeDevice reads a range of a character device, which is streamed:
// the offset is skipped by reading, and an offset past the end of what the
// device gives is an error.
func TestRangeDevice(t *testing.T) {
	if got := mustRun(t, nil, "--offset", "1M", "--length", "3K", "/dev/zero"); !bytes.Equal(got, make([]byte, 3<<10)) {
		t.Errorf("/dev/zero range: %d bytes", len(got))
	}
	r := mmcat(t, nil, "--offset", "1", "/dev/null")
	if r.code != 1 || string(r.stderr) != "mmcat: /dev/null: offset 1 is past the end (size 0)\n" {
		t.Errorf("past the end of /dev/null: exit %d, stderr %q", r.code, r.stderr)
	}
}

// requireSysv skips the test where System V shared memory is missing
// (a kernel without CONFIG_SYSVIPC answers ENOSYS).
func requireSysv(t *testing.T) {
	t.Helper()
	if _, err := sysv.SystemLimits(); err != nil {
		t.Skip("no System V shared memory:", err)
	}
}
