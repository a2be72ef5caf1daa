//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"golang.org/x/sys/unix"
)

// ending says how a process ended, from its wait status: "killed by
// SIGNAME" or "exit status N". An exit with 128 plus a signal's number,
// which a shell shows as that signal's, is not a death by the signal: a
// parent reading the wait status tells them apart.
func ending(ps *os.ProcessState) string {
	ws := ps.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return killedBy(ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

func killedBy(sig syscall.Signal) string { return "killed by " + signalName(sig) }

// signalName is sig's name, or for a real-time signal, which has none
// here, its number.
func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// blockedRun starts name with args, its standard output a pipe, feeds it
// a line through the FIFO fifo, which the test holds open for writing so
// that the command's next read waits, and returns once the line came out:
// the command is then waiting to read the FIFO, as cat waits on a quiet
// pipe.
func blockedRun(t *testing.T, fifo string, name string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	w, err := os.OpenFile(fifo, os.O_RDWR, 0) // O_RDWR: open(2) does not wait for a reader
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	cmd := command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	testkit.Finishes(t, name+"'s copy of the first line", func() {
		_, _ = bufio.NewReader(out).ReadString('\n')
	})
	return cmd, &stderr
}

// TestSignalsEndLikeCat sends a signal whose default action ends cat (most
// of which the Go runtime ignores, or answers with a goroutine dump, in a
// program that does not ask for them) to mmcat and to GNU cat waiting to
// read a FIFO: both must die of the signal, as the wait status tells, and
// mmcat silently.
func TestSignalsEndLikeCat(t *testing.T) {
	requireGNUCat(t)
	sigs := []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2,
		syscall.SIGALRM, syscall.SIGVTALRM, syscall.SIGXCPU, syscall.SIGIO, syscall.SIGPWR, 40}
	if s := unix.SignalNum("SIGSTKFLT"); s != 0 { // not on MIPS
		sigs = append(sigs, s)
	}
	for _, sig := range sigs {
		t.Run(signalName(sig), func(t *testing.T) {
			t.Parallel() // a signal ignored costs one HangTimeout, not one each
			fifo := filepath.Join(t.TempDir(), "fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			var end [2]string
			for i, prog := range []string{gnuCatPath, mmcatBin} {
				cmd, stderr := blockedRun(t, fifo, prog, "-n", fifo)
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				_ = testkit.Wait(t, cmd)
				end[i] = ending(cmd.ProcessState)
				if stderr.Len() > 0 {
					t.Errorf("%s after %v: stderr %q", filepath.Base(prog), sig, stderr)
				}
			}
			if end[0] != killedBy(sig) {
				t.Fatalf("GNU cat after %v: %s, want %s", sig, end[0], killedBy(sig))
			}
			if end[1] != end[0] {
				t.Errorf("mmcat after %v: %s, GNU cat %s", sig, end[1], end[0])
			}
		})
	}
}

// execBlockedJob is the job that blocks the signal numbered in
// blockedSignalEnv on its thread, then execs the program that its
// arguments name (its path, then its argv), with testkit.JobEnv set to
// nextJobEnv's value: the program starts with the signal blocked, as
// the child of a parent that blocks it (sigprocmask(2) masks survive
// execve).
const (
	execBlockedJob   = "exec-blocked"
	blockedSignalEnv = "MMCAT_TEST_BLOCKED_SIGNAL"
	nextJobEnv       = "MMCAT_TEST_NEXT_JOB"
)

func init() { jobs[execBlockedJob] = execBlocked }

func execBlocked() error {
	n, err := strconv.Atoi(os.Getenv(blockedSignalEnv))
	if err != nil || len(os.Args) < 3 {
		return fmt.Errorf("want %s and a program: %v, %q", blockedSignalEnv, err, os.Args)
	}
	runtime.LockOSThread() // the mask is this thread's, and execve keeps it
	var set unix.Sigset_t
	bits := uint(unsafe.Sizeof(set.Val[0]) * 8)
	set.Val[uint(n-1)/bits] |= 1 << (uint(n-1) % bits)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, nil); err != nil {
		return err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, testkit.JobEnv+"=") {
			env = append(env, kv)
		}
	}
	if next := os.Getenv(nextJobEnv); next != "" {
		env = append(env, testkit.JobEnv+"="+next)
	}
	return syscall.Exec(os.Args[1], os.Args[2:], env)
}

// withBlocked makes cmd start with sig blocked, through execBlockedJob.
func withBlocked(cmd *exec.Cmd, sig syscall.Signal) {
	next := ""
	for _, kv := range cmd.Env {
		if v, ok := strings.CutPrefix(kv, testkit.JobEnv+"="); ok {
			next = v
		}
	}
	cmd.Args = append([]string{mmcatBin, cmd.Path}, cmd.Args...)
	cmd.Path = mmcatBin
	cmd.Env = append(cmd.Env, testkit.JobEnv+"="+execBlockedJob, nextJobEnv+"="+next, fmt.Sprintf("%s=%d", blockedSignalEnv, int(sig)))
}

// pendingForProcess reports whether sig waits, blocked, in the pending
// set of process pid as a whole (ShdPnd): sent to a process in which
// every thread blocks it, a signal stays there.
func pendingForProcess(t *testing.T, pid int, sig syscall.Signal) bool {
	t.Helper()
	return statusHas(t, fmt.Sprintf("/proc/%d/status", pid), "ShdPnd:", sig)
}

// blockedInEveryThread reports whether every thread of process pid
// blocks sig (SigBlk): then the kernel can deliver it to none.
func blockedInEveryThread(t *testing.T, pid int, sig syscall.Signal) bool {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if !statusHas(t, fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()), "SigBlk:", sig) {
			return false
		}
	}
	return len(tasks) > 0
}

// statusHas reports whether sig's bit is set in the signal mask that the
// status file at path gives on the line that starts with field.
func statusHas(t *testing.T, path, field string, sig syscall.Signal) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return mask&(1<<(uint(sig)-1)) != 0
		}
	}
	t.Fatalf("no %s in %s", field, path)
	return false
}

// TestBlockedSignalsStayPending starts GNU cat and mmcat with a signal
// blocked, as a parent's mask leaves it, sends it while they wait to
// read, then ends their input: cat keeps the signal pending and finishes
// the copy, and so must mmcat. The signals are those that the Go runtime
// leaves blocked; SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGSTKFLT and others it
// unblocks before mmcat runs (doc.go, Signals).
func TestBlockedSignalsStayPending(t *testing.T) {
	requireGNUCat(t)
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGVTALRM,
		syscall.SIGXCPU, syscall.SIGIO, syscall.SIGPWR, 40} {
		t.Run(signalName(sig), func(t *testing.T) {
			t.Parallel()
			for _, prog := range []string{gnuCatPath, mmcatBin} {
				fifo := filepath.Join(t.TempDir(), "fifo")
				if err := unix.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				cmd, w, out, stderr := startBlocked(t, fifo, prog, sig)
				// Every thread must block it: one that had it
				// unblocked would take it, if not always at once.
				blocked := blockedInEveryThread(t, cmd.Process.Pid, sig)
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				pending := pendingForProcess(t, cmd.Process.Pid, sig)
				if _, err := w.Write([]byte("more\n")); err != nil {
					t.Fatal(err)
				}
				w.Close()
				_ = testkit.Wait(t, cmd)
				name := "GNU cat"
				if prog == mmcatBin {
					name = "mmcat"
				}
				if !blocked {
					t.Errorf("%s has a thread that does not block %s, blocked at its start", name, signalName(sig))
				}
				if !pending {
					t.Errorf("%s took %s, blocked at its start, at once: want it pending", name, signalName(sig))
				}
				if got := ending(cmd.ProcessState); got != "exit status 0" || stderr.Len() > 0 {
					t.Errorf("%s with %s blocked and sent: %s, stderr %q; want exit status 0", name, signalName(sig), got, stderr)
				}
				if out.String() != "line\nmore\n" {
					t.Errorf("%s with %s blocked and sent wrote %q; want \"line\\nmore\\n\"", name, signalName(sig), out)
				}
			}
		})
	}
}

// TestBlockedPipeAndFileSizeSignals: with SIGPIPE blocked, a write into a
// pipe that has no reader fails with EPIPE, which cat reports ("write
// error: Broken pipe", status 1); with SIGXFSZ blocked, a write past
// ulimit -f fails with EFBIG ("File too large", status 1). mmcat must end
// so too, not die of the signal that the runtime or its own code would
// raise.
func TestBlockedPipeAndFileSizeSignals(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "src", bytes.Repeat([]byte("0123456789abcdef\n"), 20000)) // 340 000 bytes
	// toBrokenPipe runs prog with args, its output a pipe without a
	// reader: the first write fails.
	toBrokenPipe := func(args ...string) func(prog string) *exec.Cmd {
		return func(prog string) *exec.Cmd {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			t.Cleanup(func() { w.Close() })
			cmd := command(prog, args...)
			cmd.Stdout = w
			return cmd
		}
	}
	for _, c := range []struct {
		sig  syscall.Signal
		want string // in the message
		run  func(prog string) *exec.Cmd
	}{
		{syscall.SIGPIPE, "Broken pipe", toBrokenPipe(src)},
		{syscall.SIGPIPE, "Broken pipe", toBrokenPipe("--help")},
		{syscall.SIGXFSZ, "File too large", func(prog string) *exec.Cmd {
			cmd := command("sh", "-c", `ulimit -f 100; exec "$0" "$1" >"$2"`, prog, src, filepath.Join(t.TempDir(), "out"))
			if prog == mmcatBin {
				cmd.Env = append(cmd.Env, asMmcat)
			}
			return cmd
		}},
	} {
		for _, prog := range []string{gnuCatPath, mmcatBin} {
			name := "GNU cat"
			if prog == mmcatBin {
				name = "mmcat"
			}
			cmd := c.run(prog)
			withBlocked(cmd, c.sig)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			_ = testkit.Run(t, cmd)
			if got := ending(cmd.ProcessState); got != "exit status 1" || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("%s (%s) with %s blocked: %s, stderr %q; want exit status 1 and %q", name, strings.Join(cmd.Args[2:], " "), signalName(c.sig), got, stderr.String(), c.want)
			}
		}
	}
}

// startBlocked is blockedRun for prog started with sig blocked: it
// returns the FIFO's write end, and the output collected so far, to which
// the rest is added until prog ends.
func startBlocked(t *testing.T, fifo, prog string, sig syscall.Signal) (*exec.Cmd, *os.File, *testkit.LockedBuffer, *bytes.Buffer) {
	t.Helper()
	w, err := os.OpenFile(fifo, os.O_RDWR, 0) // O_RDWR: open(2) does not wait for a reader
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	cmd := command(prog, fifo)
	withBlocked(cmd, sig)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out := &testkit.LockedBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	testkit.Finishes(t, filepath.Base(prog)+"'s copy of the first line", func() {
		for !strings.Contains(out.String(), "\n") {
			time.Sleep(time.Millisecond)
		}
	})
	return cmd, w, out, &stderr
}

// TestSIGQUITToStdout sends SIGQUIT to mmcat writing standard output, not
// -o, while it waits to read: it must die of SIGQUIT, as cat does, not
// end with the Go runtime's dump of every goroutine and status 2.
func TestSIGQUITToStdout(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{fifo}, {"-A", fifo}} {
		cmd, stderr := blockedRun(t, fifo, mmcatBin, args...)
		if err := cmd.Process.Signal(syscall.SIGQUIT); err != nil {
			t.Fatal(err)
		}
		_ = testkit.Wait(t, cmd)
		if got := ending(cmd.ProcessState); got != killedBy(syscall.SIGQUIT) || stderr.Len() > 0 {
			t.Errorf("%q after SIGQUIT: %s, stderr %q; want %s and no message", args, got, truncate(stderr.String()), killedBy(syscall.SIGQUIT))
		}
	}
}

// truncate keeps the start of a long message, such as a goroutine dump.
func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestFileSizeLimitLikeCat writes past ulimit -f into standard output, a
// file, raw and formatted: GNU cat dies of SIGXFSZ, and mmcat must die of
// it too, not report "File too large".
func TestFileSizeLimitLikeCat(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "src", bytes.Repeat([]byte("0123456789abcdef\n"), 20000)) // 340 000 bytes
	for _, args := range [][]string{{src}, {"-n", src}, {"-", "<" + src}} {
		var end, stderr [2]string
		for i, prog := range []string{gnuCatPath, mmcatBin} {
			// exec: the wait status is the program's, not the shell's.
			script := `ulimit -c 0; ulimit -f 100; exec "$0" ` + args[0]
			if len(args) > 1 {
				script += " " + args[1]
			}
			cmd := command("sh", "-c", script+" >"+filepath.Join(dir, "out"), prog)
			if prog == mmcatBin {
				cmd.Env = append(cmd.Env, asMmcat)
			}
			var errb bytes.Buffer
			cmd.Stderr = &errb
			_ = testkit.Run(t, cmd)
			end[i], stderr[i] = ending(cmd.ProcessState), errb.String()
		}
		if end[0] != killedBy(syscall.SIGXFSZ) {
			t.Fatalf("GNU cat %q past ulimit -f: %s (%q), want %s", args, end[0], stderr[0], killedBy(syscall.SIGXFSZ))
		}
		if end[1] != end[0] || stderr[1] != "" {
			t.Errorf("mmcat %q past ulimit -f: %s, stderr %q; GNU cat %s", args, end[1], stderr[1], end[0])
		}
	}
}
