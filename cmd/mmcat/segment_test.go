//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// testCgroup creates a memory cgroup below this process's own, limited to
// limit bytes (0: no limit), removed at the end of the test. It skips the
// test where no memory cgroup can be made.
func testCgroup(t *testing.T, limit int64) memCgroup {
	t.Helper()
	requireRoot(t)
	for _, parent := range memoryCgroups() {
		limitFile := "memory.limit_in_bytes"
		if parent.v2 {
			limitFile = "memory.max"
		}
		dir := filepath.Join(parent.dir, fmt.Sprintf("mmcat-test-%d-%x", os.Getpid(), randomBytes(4)))
		if err := os.Mkdir(dir, 0o755); err != nil {
			continue
		}
		cg := memCgroup{dir: dir, v2: parent.v2}
		t.Cleanup(func() {
			// The last pages it was charged for may take a moment to go.
			for i := 0; i < 100 && os.Remove(dir) != nil; i++ {
				time.Sleep(10 * time.Millisecond)
			}
		})
		if _, err := os.Stat(filepath.Join(dir, limitFile)); err != nil {
			continue // no memory controller here (cgroup v2 without it enabled)
		}
		if limit > 0 {
			if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
				continue
			}
		}
		return cg
	}
	t.Skip("needs a memory cgroup this test can create (cgroup v1 or v2 with the memory controller)")
	return memCgroup{}
}

// command runs argv as mmcat would be run in the cgroup: a shell moves
// itself into it, then becomes the command.
func (c memCgroup) command(argv ...string) *exec.Cmd {
	cmd := command("sh", append([]string{"-c", `echo $$ > "$1/cgroup.procs" || exit 125; shift; exec "$@"`, "sh", c.dir}, argv...)...)
	cmd.Env = append(cmd.Env, asMmcat)
	return cmd
}

// ooms returns how many times the kernel's OOM killer acted in the cgroup.
func (c memCgroup) ooms(t *testing.T) int64 {
	t.Helper()
	file := "memory.oom_control"
	if c.v2 {
		file = "memory.events"
	}
	kv, err := readKeyValues(filepath.Join(c.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return kv["oom_kill"]
}

// pattern is n bytes that are not all alike, cheap to make and check.
func pattern(n int) []byte {
	block := randomBytes(1 << 20)
	b := make([]byte, 0, n)
	for len(b) < n {
		b = append(b, block[:min(len(block), n-len(b))]...)
	}
	return b
}

// TestSegmentStreamBounded streams into shared memory inside a memory
// cgroup of 192 MiB: 128 MiB go into a POSIX segment and 48 MiB into a
// System V one, which a heap copy of the stream would not fit beside; and
// /dev/zero, which never ends, must end with an error that says why, not
// with the OOM killer.
func TestSegmentStreamBounded(t *testing.T) {
	requireSysv(t)
	cg := testCgroup(t, 192<<20)
	run := func(stdin []byte, argv ...string) (int, string, syscall.WaitStatus) {
		t.Helper()
		cmd := cg.command(append([]string{mmcatBin}, argv...)...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return ws.ExitStatus(), stderr.String(), ws
	}

	big := pattern(128 << 20)
	name := shmName(t)
	if code, msg, ws := run(big, "-o", "shm:"+name, "-"); code != 0 {
		t.Fatalf("128 MiB from a pipe into shm: %v (exit %d): %s", ws, code, msg)
	}
	seg, err := shm.Open(name, shm.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seg.Bytes(), big) {
		t.Errorf("the segment holds %d bytes that differ from the %d streamed", seg.Size(), len(big))
	}
	_ = seg.Close()
	_ = shm.Unlink(name)

	mid := big[:48<<20]
	key := sysvKey(t)
	if code, msg, ws := run(mid, "-o", "sysv:"+key.String(), "-"); code != 0 {
		t.Fatalf("48 MiB from a pipe into sysv: %v (exit %d): %s", ws, code, msg)
	}
	sseg, err := sysv.Open(key, sysv.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sseg.Bytes(), mid) {
		t.Errorf("the System V segment holds %d bytes that differ from the %d streamed", sseg.Size(), len(mid))
	}
	_ = sseg.Close()
	_ = removeSysv(key)

	for _, d := range []string{"shm:" + shmName(t), "sysv:" + sysvKey(t).String()} {
		code, msg, ws := run(nil, "-o", d, "/dev/zero")
		if ws.Signaled() || code != 1 || !strings.Contains(msg, "the output is more than") || !strings.Contains(msg, "cgroup") {
			t.Errorf("-o %s /dev/zero: %v (exit %d), stderr %q; want exit 1 and the memory limit", d, ws, code, msg)
		}
		t.Logf("-o %s /dev/zero: %s", d, strings.TrimSpace(msg))
		if got := mustRunOK(t, d); got {
			t.Errorf("-o %s /dev/zero left the segment", d)
		}
	}
	if n := cg.ooms(t); n != 0 {
		t.Errorf("the OOM killer acted %d times in the cgroup", n)
	}
}

// mustRunOK reports whether mmcat can read the segment d.
func mustRunOK(t *testing.T, d string) bool {
	t.Helper()
	return mmcat(t, nil, "--length", "1", d).code == 0
}

// TestSegmentNoSpace fills a /dev/shm of 8 MiB, mounted in a mount
// namespace of its own: a stream stops with ENOSPC, and a file larger
// than the space is refused before anything is written; neither leaves a
// segment. A memory cgroup bounds what a broken mmcat could take.
func TestSegmentNoSpace(t *testing.T) {
	requireTools(t, "unshare")
	cg := testCgroup(t, 256<<20)
	big := writeFile(t, t.TempDir(), "big", pattern(16<<20))
	const script = `mount -t tmpfs -o size=8m tmpfs /dev/shm || exit 125
"$@" 2>&1
echo "exit $?"
ls -A /dev/shm`
	for _, src := range []string{"/dev/zero", big} {
		argv := []string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", mmcatBin, "-o", "shm:mmcat-nospace", src}
		out, err := cg.command(argv...).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v: %s", argv, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 || lines[1] != "exit 1" || !strings.Contains(strings.ToLower(lines[0]), "no space") {
			t.Errorf("-o shm: %s into 8 MiB: %q; want one message about the space, exit 1, and no segment left", src, out)
		}
	}
	if n := cg.ooms(t); n != 0 {
		t.Errorf("the OOM killer acted %d times in the cgroup", n)
	}
}
