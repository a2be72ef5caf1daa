//go:build linux

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"golang.org/x/sys/unix"
)

// shellStatus is the exit status a shell shows for a process that ended
// as ps says: 128 plus the signal's number for a death by a signal.
func shellStatus(ps *os.ProcessState) int {
	ws := ps.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
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

// TestSignalsEndLikeCat sends a signal whose default action ends cat, and
// which the Go runtime ignores in a program that does not ask for it, to
// mmcat and to GNU cat waiting to read a FIFO: both must end, with the
// status a shell shows for a death by the signal, and mmcat silently.
func TestSignalsEndLikeCat(t *testing.T) {
	requireGNUCat(t)
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGVTALRM, syscall.SIGPWR, syscall.SIGTERM} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			t.Parallel() // a signal ignored costs one HangTimeout, not one each
			fifo := filepath.Join(t.TempDir(), "fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			var status [2]int
			for i, prog := range []string{gnuCatPath, mmcatBin} {
				cmd, stderr := blockedRun(t, fifo, prog, "-n", fifo)
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				_ = testkit.Wait(t, cmd)
				status[i] = shellStatus(cmd.ProcessState)
				if stderr.Len() > 0 {
					t.Errorf("%s after %v: stderr %q", filepath.Base(prog), sig, stderr)
				}
			}
			if status[0] != 128+int(sig) {
				t.Fatalf("GNU cat after %v: status %d, want %d", sig, status[0], 128+int(sig))
			}
			if status[1] != status[0] {
				t.Errorf("mmcat after %v: status %d, GNU cat %d", sig, status[1], status[0])
			}
		})
	}
}

// TestSIGQUITToStdout sends SIGQUIT to mmcat writing standard output, not
// -o, while it waits to read: it must end with the status 131 a shell
// shows for cat's death by SIGQUIT, not with the Go runtime's dump of every
// goroutine and status 2.
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
		if got := shellStatus(cmd.ProcessState); got != 128+int(syscall.SIGQUIT) || stderr.Len() > 0 {
			t.Errorf("%q after SIGQUIT: %v (status %d), stderr %q; want status %d and no message", args, cmd.ProcessState, got, truncate(stderr.String()), 128+int(syscall.SIGQUIT))
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
// file, raw and formatted: GNU cat dies of SIGXFSZ, and mmcat must end
// with the same status, not report "File too large".
func TestFileSizeLimitLikeCat(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	src := writeFile(t, dir, "src", bytes.Repeat([]byte("0123456789abcdef\n"), 20000)) // 340 000 bytes
	for _, args := range [][]string{{src}, {"-n", src}, {"-", "<" + src}} {
		var status [2]int
		var stderr [2]string
		for i, prog := range []string{gnuCatPath, mmcatBin} {
			script := `ulimit -c 0; ulimit -f 100; "$0" ` + args[0]
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
			status[i], stderr[i] = shellStatus(cmd.ProcessState), errb.String()
		}
		if status[0] != 128+int(syscall.SIGXFSZ) {
			t.Fatalf("GNU cat %q past ulimit -f: status %d (%q), want %d", args, status[0], stderr[0], 128+int(syscall.SIGXFSZ))
		}
		if status[1] != status[0] || stderr[1] != "" {
			t.Errorf("mmcat %q past ulimit -f: status %d, stderr %q; GNU cat %d", args, status[1], stderr[1], status[0])
		}
	}
}
