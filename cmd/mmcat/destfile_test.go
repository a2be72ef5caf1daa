//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/shm"
)

// withoutTmpfile runs cmd as on a file system without O_TMPFILE, where a
// replace has a named temporary file all along.
func withoutTmpfile(cmd *exec.Cmd) *exec.Cmd {
	cmd.Env = append(cmd.Env, noTmpfileEnv+"=1")
	return cmd
}

// tempModes are the two ways a replace makes its new file.
var tempModes = []struct {
	name  string
	apply func(*exec.Cmd) *exec.Cmd
}{
	{"O_TMPFILE", func(c *exec.Cmd) *exec.Cmd { return c }},
	{"named temporary file", withoutTmpfile},
}

// hiddenFiles lists the names in dir that start with a dot: temporary
// files of a replace.
func hiddenFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// slowWriter starts cmd with a pipe as standard input and writes first to
// it; the command then waits for more, mid-copy, until the pipe is closed.
func startFed(t *testing.T, cmd *exec.Cmd, first []byte) (stdin io.WriteCloser, stderr *bytes.Buffer) {
	t.Helper()
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(first); err != nil {
		t.Fatal(err)
	}
	return w, stderr
}

// TestOutputModeRace is the attack on --mode: in a directory another user
// can write, the temporary file is swapped for a symbolic link to a file
// of root's while mmcat, run by root, copies into it. The victim must keep
// its mode and contents, and mmcat must either publish its own file with
// the mode or say that DEST is not its output. With a named temporary
// file the swap is made mid-copy, every round; in every mode a goroutine
// also swaps whatever temporary name it sees, to hit the rename.
func TestOutputModeRace(t *testing.T) {
	requireRoot(t)
	for _, tm := range tempModes {
		t.Run(tm.name, func(t *testing.T) {
			base := testkit.SharedTmpfs(t, 64<<20)
			victim := filepath.Join(base, "victim")
			secret := []byte("root's secret\n")
			if err := os.WriteFile(victim, secret, 0o600); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(base, "shared")
			if err := os.Mkdir(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(dir, "out")
			data := randomBytes(1 << 20)
			swaps, published, caught := 0, 0, 0
			for round := range 30 {
				var raced atomic.Int32
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						ents, _ := os.ReadDir(dir)
						for _, e := range ents {
							if strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), ".swap") && e.Type().IsRegular() && swapForLink(dir, e.Name(), victim, "race") == nil {
								raced.Add(1)
							}
						}
					}
				}()
				cmd := tm.apply(command(mmcatBin, "--mode", "0644", "-o", dest, "-"))
				stdin, stderr := startFed(t, cmd, data)
				if tm.name != "O_TMPFILE" {
					// The named file exists from the start: swap it now.
					var name string
					testkit.WaitFor(t, "the temporary file", func() bool {
						names := hiddenFiles(t, dir)
						for _, n := range names {
							if !strings.HasPrefix(n, ".swap") {
								name = n
							}
						}
						return name != ""
					})
					if err := swapForLink(dir, name, victim, "mid"); err != nil {
						t.Logf("round %d: swapping %s: %v", round, name, err)
					} else {
						swaps++
					}
				}
				_, _ = stdin.Write(data)
				_ = stdin.Close()
				err := cmd.Wait()
				close(stop)
				wg.Wait()
				swaps += int(raced.Load())

				if fi, serr := os.Stat(victim); serr != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("round %d: the victim's mode is %v (%v), want 0600", round, fi.Mode(), serr)
				}
				if got, _ := os.ReadFile(victim); !bytes.Equal(got, secret) {
					t.Fatalf("round %d: the victim now holds %d bytes", round, len(got))
				}
				fi, lerr := os.Lstat(dest)
				switch {
				case err == nil:
					got, _ := os.ReadFile(dest)
					if lerr != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 || !bytes.Equal(got, append(append([]byte{}, data...), data...)) {
						t.Fatalf("round %d: mmcat succeeded but DEST is %v %v (%d bytes)", round, fi.Mode(), lerr, len(got))
					}
					published++
				case strings.Contains(stderr.String(), "another process replaced the new file"):
					caught++
				default:
					t.Fatalf("round %d: %v: %s", round, err, stderr)
				}
				_ = os.Remove(dest)
			}
			t.Logf("%d swaps; %d rounds published, %d reported the swap", swaps, published, caught)
			if tm.name != "O_TMPFILE" && caught == 0 {
				t.Error("no round reported the swapped temporary file")
			}
		})
	}
}

// swapForLink replaces dir/name with a symbolic link to target, in one
// rename, as an attacker would.
func swapForLink(dir, name, target, tag string) error {
	tmp := filepath.Join(dir, ".swap-"+tag)
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// TestOutputManySources gives -o more sources than ulimit -n allows open
// at once: cat opens them one at a time, and so must mmcat, into a file
// and into both kinds of segment.
func TestOutputManySources(t *testing.T) {
	dir := t.TempDir()
	var args []string
	var want []byte
	for i := range 150 {
		b := []byte(fmt.Sprintf("source %d\n", i))
		args = append(args, writeFile(t, dir, fmt.Sprintf("s%03d", i), b))
		want = append(want, b...)
	}
	limited := func(argv ...string) *exec.Cmd {
		return command("sh", append([]string{"-c", `ulimit -n 48 && exec "$@"`, "sh"}, argv...)...)
	}
	catOut := filepath.Join(dir, "cat-out")
	if out, err := limited(append([]string{"sh", "-c", `out=$1; shift; exec cat "$@" > "$out"`, "sh", catOut}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("cat: %v: %s", err, out)
	}
	if got := readFile(t, catOut); !bytes.Equal(got, want) {
		t.Fatalf("cat gave %d bytes, want %d", len(got), len(want))
	}
	name, key := shmName(t), sysvKey(t)
	for _, d := range []string{filepath.Join(dir, "out"), "shm:" + name, "sysv:" + key.String()} {
		cmd := limited(append([]string{mmcatBin, "-o", d}, args...)...)
		cmd.Env = append(cmd.Env, asMmcat)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("-o %s under ulimit -n 48: %v: %s", d, err, out)
			continue
		}
		if got := mustRun(t, nil, strings.TrimPrefix(d, "")); !bytes.Equal(got, want) {
			t.Errorf("-o %s holds %d bytes, want %d", d, len(got), len(want))
		}
	}
}

// hupIgnored says why a test that ends mmcat with SIGHUP cannot run: the
// tests inherited SIGHUP ignored (nohup), every child inherits it so, and
// mmcat keeps a SIGHUP that was ignored from the start ignored, as cat
// does.
const hupIgnored = "SIGHUP is ignored in the process that runs the tests (as under nohup), so mmcat started from it ignores SIGHUP, as cat would"

// TestOutputSignals interrupts -o mid-copy, with each signal that ends
// cat and with timeout(1), as root and as nobody: mmcat must die of that
// signal, as cat would, leave DEST as it was and leave no temporary file;
// a SIGKILL's leftovers are removed by the next -o to the same DEST. A
// signal ignored from the start (nohup) stays ignored.
func TestOutputSignals(t *testing.T) {
	base := testkit.SharedTmpfs(t, 64<<20)
	chunk := randomBytes(256 << 10)
	for _, u := range []runAs{asRoot, asNobody} {
		bin := binFor(t, u)
		for _, tm := range tempModes {
			for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGKILL} {
				t.Run(u.name+"/"+tm.name+"/"+sig.String(), func(t *testing.T) {
					if sig == syscall.SIGHUP && signal.Ignored(syscall.SIGHUP) {
						t.Skip(hupIgnored)
					}
					dir, err := os.MkdirTemp(base, "sig")
					if err != nil {
						t.Fatal(err)
					}
					dest := writeFile(t, dir, "out", []byte("old contents\n"))
					for _, p := range []string{dir, dest} {
						if err := os.Chown(p, u.uid, u.gid); err != nil {
							t.Fatal(err)
						}
					}
					cmd := tm.apply(u.command(bin, "-o", dest, "-"))
					stdin, stderr := startFed(t, cmd, chunk)
					if tm.name != "O_TMPFILE" {
						testkit.WaitFor(t, "the temporary file", func() bool { return len(hiddenFiles(t, dir)) > 0 })
					}
					if err := cmd.Process.Signal(sig); err != nil {
						t.Fatal(err)
					}
					_ = cmd.Wait()
					_ = stdin.Close()
					if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
						t.Errorf("after %v: %v, stderr %q; want death by the signal", sig, cmd.ProcessState, stderr)
					}
					if got := readFile(t, dest); string(got) != "old contents\n" {
						t.Errorf("DEST changed: %d bytes", len(got))
					}
					left := hiddenFiles(t, dir)
					if sig != syscall.SIGKILL && len(left) > 0 {
						t.Errorf("left behind: %q", left)
					}
					if sig == syscall.SIGKILL {
						t.Logf("SIGKILL left %q", left)
						if out, err := u.command(bin, "-o", dest, "--length", "3", dest).CombinedOutput(); err != nil {
							t.Fatalf("the next -o: %v: %s", err, out)
						}
						if left := hiddenFiles(t, dir); len(left) > 0 {
							t.Errorf("the next -o left %q", left)
						}
						if got := readFile(t, dest); string(got) != "old" {
							t.Errorf("the next -o wrote %q", got)
						}
					}
				})
			}
		}
	}

	t.Run("timeout", func(t *testing.T) {
		dir := t.TempDir()
		dest := filepath.Join(dir, "out")
		cmd := withoutTmpfile(command("timeout", "0.5", mmcatBin, "-o", dest, "-"))
		cmd.Env = append(cmd.Env, asMmcat)
		stdin, stderr := startFed(t, cmd, chunk)
		err := cmd.Wait()
		_ = stdin.Close()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 124 {
			t.Errorf("timeout: %v, stderr %q; want exit 124", err, stderr)
		}
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})

	t.Run("segment", func(t *testing.T) {
		name := shmName(t)
		cmd := command(mmcatBin, "-o", "shm:"+name, "-")
		stdin, _ := startFed(t, cmd, chunk)
		testkit.WaitFor(t, "the segment", func() bool {
			seg, err := shm.Open(name, shm.ReadOnly())
			if err == nil {
				_ = seg.Close()
			}
			return err == nil
		})
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = stdin.Close()
		if seg, err := shm.Open(name, shm.ReadOnly()); !errors.Is(err, os.ErrNotExist) {
			if err == nil {
				_ = seg.Close()
			}
			t.Errorf("after SIGTERM the segment is still there (%v)", err)
		}
	})

	t.Run("ignored SIGHUP", func(t *testing.T) {
		dir := t.TempDir()
		dest := filepath.Join(dir, "out")
		cmd := withoutTmpfile(command("sh", "-c", `trap "" HUP; exec "$@"`, "sh", mmcatBin, "-o", dest, "-"))
		cmd.Env = append(cmd.Env, asMmcat)
		stdin, stderr := startFed(t, cmd, chunk)
		testkit.WaitFor(t, "the temporary file", func() bool { return len(hiddenFiles(t, dir)) > 0 })
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		_, _ = stdin.Write(chunk)
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("with SIGHUP ignored: %v, stderr %q", err, stderr)
		}
		if got := readFile(t, dest); !bytes.Equal(got, append(append([]byte{}, chunk...), chunk...)) {
			t.Errorf("DEST holds %d bytes, want %d", len(got), 2*len(chunk))
		}
	})
}

// TestOutputLongNameLeftovers kills -o onto a DEST whose name is too
// long for a temporary name made from it, while its named temporary file
// is being written, and checks that the next -o to DEST removes what the
// killed one left.
func TestOutputLongNameLeftovers(t *testing.T) {
	dir := t.TempDir()
	dest := writeFile(t, dir, strings.Repeat("n", 245), []byte("old contents\n"))
	cmd := withoutTmpfile(command(mmcatBin, "-o", dest, "-"))
	cmd.Env = append(cmd.Env, asMmcat)
	stdin, _ := startFed(t, cmd, randomBytes(256<<10))
	testkit.WaitFor(t, "the temporary file", func() bool { return len(hiddenFiles(t, dir)) > 0 })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_ = stdin.Close()
	t.Logf("SIGKILL left %q", hiddenFiles(t, dir))
	mustRun(t, []byte("new"), "-o", dest, "-")
	if left := hiddenFiles(t, dir); len(left) > 0 {
		t.Errorf("the next -o left %q", left)
	}
	if got := readFile(t, dest); string(got) != "new" {
		t.Errorf("DEST holds %q", got)
	}
}

// TestOutputLeftovers plants what a killed writer leaves (a hidden file
// named after DEST as mmfile.Pending names its temporary files) and checks
// that the next -o removes it, and only it.
func TestOutputLeftovers(t *testing.T) {
	dir := t.TempDir()
	dest := writeFile(t, dir, "out", []byte("old"))
	leftover := writeFile(t, dir, ".out.mmfile-pending-0123456789abcdef", randomBytes(4096))
	other := writeFile(t, dir, ".other.mmfile-pending-0123456789abcdef", []byte("not ours"))
	users := writeFile(t, dir, ".out4815162342", []byte("a user's own"))
	mustRun(t, []byte("new"), "-o", dest, "-")
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover of a dead writer is still there (%v)", err)
	}
	if got := readFile(t, other); string(got) != "not ours" {
		t.Errorf("another DEST's file changed: %q", got)
	}
	if got := readFile(t, users); string(got) != "a user's own" {
		t.Errorf("a file of the user's own changed: %q", got)
	}
	if got := readFile(t, dest); string(got) != "new" {
		t.Errorf("DEST holds %q", got)
	}
}

// TestOutputOntoSource compares -o onto one of its own sources with cat:
// cat > DEST truncates DEST before it reads it, and so does --in-place;
// the default replace reads the old file (TestOutputOntoSource in
// file_test.go), which is why it is the default.
func TestOutputInPlaceOntoSource(t *testing.T) {
	for _, order := range [][]string{{"DEST", "B"}, {"B", "DEST"}} {
		dir := t.TempDir()
		run := func(name string, argv func(dest string, srcs []string) []string) result {
			dest := writeFile(t, dir, name, []byte("old contents of DEST\n"))
			b := writeFile(t, dir, "b", []byte("b\n"))
			var srcs []string
			for _, o := range order {
				srcs = append(srcs, map[string]string{"DEST": dest, "B": b}[o])
			}
			argv0 := argv(dest, srcs)
			r := runCmd(t, nil, argv0[0], argv0[1:]...)
			r.stdout = readFile(t, dest)
			r.stderr = bytes.ReplaceAll(r.stderr, []byte(dest), []byte("DEST"))
			return r
		}
		c := run("cat", func(dest string, srcs []string) []string {
			return append([]string{"sh", "-c", `out=$1; shift; exec cat "$@" > "$out"`, "sh", dest}, srcs...)
		})
		m := run("mmcat", func(dest string, srcs []string) []string {
			return append([]string{mmcatBin, "--in-place", "-o", dest}, srcs...)
		})
		if !bytes.Equal(m.stdout, c.stdout) || m.code != c.code {
			t.Errorf("%v: --in-place left %q (exit %d, %s), cat %q (exit %d, %s)", order, m.stdout, m.code, m.stderr, c.stdout, c.code, c.stderr)
		}
		if msg := "input file is output file"; bytes.Contains(c.stderr, []byte(msg)) != bytes.Contains(m.stderr, []byte(msg)) {
			t.Errorf("%v: cat said %q, mmcat %q", order, c.stderr, m.stderr)
		}
	}
}

// TestOutputTerminal writes to a terminal (the slave of a pseudo-terminal,
// in raw mode so that bytes pass unchanged) with cat > DEST and with -o:
// the master must read the same bytes.
func TestOutputTerminal(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer master.Close()
	rc, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ctlErr error
	_ = rc.Control(func(fd uintptr) {
		if ctlErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ctlErr == nil {
			n, ctlErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	})
	if ctlErr != nil {
		t.Fatal(ctlErr)
	}
	tty := fmt.Sprintf("/dev/pts/%d", n)
	// Holding the slave open keeps the master readable between writers.
	slave, err := os.OpenFile(tty, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	if err := unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := writeFile(t, dir, "a", bytes.Repeat([]byte("a line for the terminal\r\n\tand more\n"), 500))
	b := writeFile(t, dir, "b", randomBytes(3000))
	want := append(readFile(t, a), readFile(t, b)...)
	read := func(argv ...string) []byte {
		got := make(chan []byte, 1)
		go func() {
			buf := make([]byte, len(want))
			k, _ := io.ReadFull(master, buf)
			got <- buf[:k]
		}()
		r := runCmd(t, nil, argv[0], argv[1:]...)
		if r.code != 0 {
			t.Errorf("%q: exit %d: %s", argv, r.code, r.stderr)
		}
		// The writer is done: what it wrote is in the terminal's buffer.
		_ = master.SetReadDeadline(time.Now().Add(30 * time.Second))
		defer master.SetReadDeadline(time.Time{})
		return <-got
	}
	c := read("sh", "-c", `exec cat "$1" "$2" > "$3"`, "sh", a, b, tty)
	m := read(mmcatBin, "-o", tty, a, b)
	if !bytes.Equal(c, want) {
		t.Fatalf("cat > %s: the master read %d bytes, want %d", tty, len(c), len(want))
	}
	if !bytes.Equal(m, c) {
		t.Errorf("mmcat -o %s: the master read %d bytes that differ from cat's %d", tty, len(m), len(c))
	}
}

// TestOutputKernelAttribute writes a cgroup attribute, a regular file of a
// kernel file system that takes writes but no new files: as echo N >
// FILE does, -o writes it in place.
func TestOutputKernelAttribute(t *testing.T) {
	cg := testCgroup(t, 0)
	attr := filepath.Join(cg.dir, "memory.soft_limit_in_bytes")
	if cg.v2 {
		attr = filepath.Join(cg.dir, "memory.high")
	}
	src := writeFile(t, t.TempDir(), "limit", []byte("50331648\n"))
	r := runCmd(t, nil, "sh", "-c", `exec cat "$1" > "$2"`, "sh", src, attr)
	if r.code != 0 {
		t.Skipf("cat cannot write %s: %s", attr, r.stderr)
	}
	if got := strings.TrimSpace(string(readFile(t, attr))); got != "50331648" {
		t.Fatalf("cat wrote %q", got)
	}
	src = writeFile(t, t.TempDir(), "limit", []byte("33554432\n"))
	mustRun(t, nil, "-o", attr, src)
	if got := strings.TrimSpace(string(readFile(t, attr))); got != "33554432" {
		t.Errorf("after -o %s it reads %q, want 33554432", attr, got)
	}
}

// TestOutputRunningProgram replaces a program while it runs, where cat >
// DEST fails with "Text file busy": the running program goes on with the
// old file, and the new one keeps the mode. A user who may not write the
// program is refused as cat refuses.
func TestOutputRunningProgram(t *testing.T) {
	requireRoot(t)
	dir := testkit.SharedDir(t)
	prog := filepath.Join(dir, "prog")
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, b, 0o755); err != nil {
		t.Fatal(err)
	}
	running := exec.Command(prog, "60")
	if err := running.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = running.Process.Kill(); _ = running.Wait() }()
	src := writeFile(t, dir, "new", []byte("#!/bin/sh\necho new\n"))
	r := runCmd(t, nil, "sh", "-c", `exec cat "$1" > "$2"`, "sh", src, prog)
	if r.code == 0 || !strings.Contains(string(r.stderr), "Text file busy") {
		t.Fatalf("cat > a running program: exit %d, %q; want Text file busy", r.code, r.stderr)
	}
	out, err := asNobody.command(binFor(t, asNobody), "-o", prog, src).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("nobody -o onto root's running program: %v, %q; want Permission denied", err, out)
	}
	mustRun(t, nil, "-o", prog, src)
	checkFile(t, prog, readFile(t, src), 0o755)
	if err := running.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the running program is gone: %v", err)
	}
}

// TestOutputModeInPlace checks that --mode never changes a DEST that -o
// writes in place without owning it: a device keeps its mode.
func TestOutputModeInPlace(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	null := filepath.Join(dir, "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(null, 0o666); err != nil {
		t.Fatal(err)
	}
	src := writeFile(t, dir, "src", []byte("x"))
	r := mmcat(t, nil, "--mode", "0600", "-o", null, src)
	if r.code != 1 || !strings.Contains(string(r.stderr), "--mode does not apply") {
		t.Errorf("--mode onto a device: exit %d, %q", r.code, r.stderr)
	}
	if fi, err := os.Stat(null); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("the device's mode is %v (%v), want 0666", fi.Mode(), err)
	}
	// A regular file written in place takes the mode, through its descriptor.
	f := writeFile(t, dir, "f", []byte("old"))
	mustRun(t, nil, "--in-place", "--mode", "0600", "-o", f, src)
	checkFile(t, f, []byte("x"), 0o600)
}

// TestOutputBrokenFIFO writes to a FIFO whose reader leaves after one
// byte: cat dies of SIGPIPE and says nothing, and so must mmcat -o. With
// SIGPIPE ignored by the parent, cat reports a write error; the Go
// runtime does not keep an inherited SIG_IGN for SIGPIPE, so there -o
// must do what mmcat does on a broken standard output.
func TestOutputBrokenFIFO(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "src", randomBytes(8<<20))
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(script string) (syscall.WaitStatus, string) {
		reader := exec.Command("head", "-c", "1", fifo)
		reader.Stdout = io.Discard
		if err := reader.Start(); err != nil {
			t.Fatal(err)
		}
		cmd := command("sh", "-c", script, "sh", mmcatBin, src, fifo)
		cmd.Env = append(cmd.Env, asMmcat)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run()
		// A writer that never opened the FIFO leaves the reader waiting
		// for one: open and close it, which ends the reader's input.
		if fd, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			_ = unix.Close(fd)
		}
		_ = reader.Wait()
		msg := strings.ReplaceAll(stderr.String(), mmcatBin, "PROG")
		return cmd.ProcessState.Sys().(syscall.WaitStatus), strings.ReplaceAll(msg, "cat: ", "PROG: ")
	}
	for _, c := range []struct{ name, oracle, mmcat string }{
		{"cat", `exec cat "$2" > "$3"`, `exec "$1" -o "$3" "$2"`},
		{"mmcat onto standard output, SIGPIPE ignored", `trap "" PIPE; exec "$1" "$2" > "$3"`, `trap "" PIPE; exec "$1" -o "$3" "$2"`},
	} {
		ows, omsg := run(c.oracle)
		mws, mmsg := run(c.mmcat)
		if ows != mws || omsg != mmsg {
			t.Errorf("a FIFO whose reader left: mmcat -o %v %q, %s %v %q", mws, mmsg, c.name, ows, omsg)
		}
		if c.name == "cat" && (!ows.Signaled() || ows.Signal() != syscall.SIGPIPE) {
			t.Errorf("cat > FIFO: %v, want death by SIGPIPE", ows)
		}
	}
}

// TestOutputConcurrentReplaces runs two -o onto one DEST at once, many
// times: each either publishes or says that the other replaced DEST,
// DEST ends holding one of the two outputs whole, and nothing is left
// behind. The exchange gives the name it frees to whatever DEST was just
// before, the other writer's file too, and a rename would have dropped
// that.
func TestOutputConcurrentReplaces(t *testing.T) {
	dir := t.TempDir()
	dest := writeFile(t, dir, "out", []byte("old\n"))
	a := writeFile(t, t.TempDir(), "a", bytes.Repeat([]byte("a"), 1<<20))
	b := writeFile(t, t.TempDir(), "b", bytes.Repeat([]byte("b"), 1<<20))
	for round := range 30 {
		var wg sync.WaitGroup
		for _, src := range []string{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := mmcat(t, nil, "-o", dest, src)
				// The other run's publication can come between this one's
				// open of DEST and its rename, or between its rename and
				// its check: both say so.
				if e := string(r.stderr); r.code != 0 && !strings.Contains(e, "another process replaced the new file") && !strings.Contains(e, "replaced by another file while mmcat opened it") {
					t.Errorf("round %d: -o %s: exit %d, %s", round, src, r.code, r.stderr)
				}
			}()
		}
		wg.Wait()
		if left := hiddenFiles(t, dir); len(left) > 0 {
			t.Fatalf("round %d: left behind %q", round, left)
		}
		if got := readFile(t, dest); !bytes.Equal(got, readFile(t, a)) && !bytes.Equal(got, readFile(t, b)) {
			t.Fatalf("round %d: DEST holds %d bytes of neither source", round, len(got))
		}
	}
}

// TestOutputSyncSearchOnlyDirectory: --sync -o into a directory that the
// user may write and enter but not list (0333), which opens only with
// O_PATH, whose fsync fails: the rename is made durable by syncing the
// file system instead, and the run succeeds.
func TestOutputSyncSearchOnlyDirectory(t *testing.T) {
	requireRoot(t)
	base := testkit.SharedDir(t)
	dir := filepath.Join(base, "wx")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, asNobody.uid, asNobody.gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o333); err != nil {
		t.Fatal(err)
	}
	bin := binFor(t, asNobody)
	for _, name := range []string{"new", "existing"} {
		dest := filepath.Join(dir, name)
		if name == "existing" {
			if err := os.WriteFile(dest, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(dest, asNobody.uid, asNobody.gid); err != nil {
				t.Fatal(err)
			}
		}
		cmd := asNobody.command(bin, "--sync", "-o", dest)
		cmd.Stdin = strings.NewReader("new\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("--sync -o %s: %v: %s", name, err, out)
		}
		if got := readFile(t, dest); string(got) != "new\n" {
			t.Errorf("%s holds %q", name, got)
		}
	}
}

// TestOutputDanglingLinkInterrupted: -o onto a dangling symbolic link,
// ended by SIGTERM mid-copy, leaves the link dangling, as it found it:
// the target that the kernel's open created is removed at once, and the
// new file only takes its place once it is whole.
func TestOutputDanglingLinkInterrupted(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink("target", link); err != nil {
		t.Fatal(err)
	}
	cmd := withoutTmpfile(command(mmcatBin, "-o", link, "-"))
	cmd.Env = append(cmd.Env, asMmcat)
	stdin, stderr := startFed(t, cmd, randomBytes(64<<10))
	testkit.WaitFor(t, "the temporary file", func() bool { return len(hiddenFiles(t, dir)) > 0 })
	if _, err := os.Lstat(filepath.Join(dir, "target")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("while -o copies, the link's target exists (%v): it must appear only once whole", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_ = stdin.Close()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("after SIGTERM: %v, stderr %q; want death by the signal", cmd.ProcessState, stderr)
	}
	if _, err := os.Lstat(filepath.Join(dir, "target")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SIGTERM left the link's target behind (%v)", err)
	}
	if left := hiddenFiles(t, dir); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
	mustRun(t, []byte("whole\n"), "-o", link, "-")
	if got := readFile(t, filepath.Join(dir, "target")); string(got) != "whole\n" {
		t.Errorf("the target holds %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is now %v (%v)", fi.Mode(), err)
	}
}
