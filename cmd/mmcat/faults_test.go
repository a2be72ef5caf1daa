//go:build faults && linux

package main

import (
	"bytes"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/faulttest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/shm"
)

// TestFaultTruncatedSource truncates a file in the middle of mmcat's copy
// of it — into a pipe by reference, through the formatter, and into an
// output file — and checks that mmcat never dies of a signal: it exits 1
// and names the file, or finishes if the truncation came too late.
func TestFaultTruncatedSource(t *testing.T) {
	runs, failures, met := 0, 0, 0
	defer func() { t.Logf("faults: runs=%d failures=%d", runs, failures) }()
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"), 1<<20) // 64 MiB
	src := filepath.Join(dir, "shrinking")
	modes := [][]string{{}, {"-n"}, {"-o", filepath.Join(dir, "out")}, {"-A", "-o", filepath.Join(dir, "out")}}
	for round := range 100 {
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{}, modes[round%len(modes)]...), src)
		cmd := command(mmcatBin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Into a pipe, mmcat blocks once the pipe is full: reading a
		// little makes sure it is mid-copy when the file shrinks. With
		// -o it runs free and the truncation lands where it lands.
		if !strings.HasPrefix(strings.Join(args, " "), "-o") && !strings.Contains(strings.Join(args, " "), " -o ") {
			if _, err := io.ReadFull(stdout, make([]byte, 4<<20)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Truncate(src, int64(round*4099)); err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, stdout)
		err = cmd.Wait()
		runs++
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		msg := strings.TrimSpace(stderr.String())
		switch {
		case ws.Signaled():
			failures++
			t.Errorf("mmcat %q died of %v: %s", args, ws.Signal(), msg)
		case err == nil:
			// It finished before the truncation reached it.
		case ws.ExitStatus() == 1 && strings.Contains(msg, src):
			met++
			if met <= 4 {
				t.Logf("mmcat %q: %s", args[:len(args)-1], msg)
			}
		default:
			failures++
			t.Errorf("mmcat %q: %v, stderr %q; want exit 1 naming the file", args, err, msg)
		}
	}
	t.Logf("%d of %d runs met the truncation mid-copy", met, runs)
	if met == 0 {
		t.Error("no run met the truncation: the scenario proved nothing")
	}
}

// TestFaultKilledOutput kills -o at random moments, hundreds of times:
// with SIGTERM, SIGINT, SIGHUP, timeout(1) and SIGKILL, replacing a file
// (with and without O_TMPFILE) or filling a POSIX segment. After every
// round DEST holds its old contents or all of the new (a segment that
// SIGKILL interrupted holds a part), a catchable signal leaves no
// temporary file or segment and kills mmcat as it kills cat, and a
// temporary file that SIGKILL left is gone after the next -o to DEST.
func TestFaultKilledOutput(t *testing.T) {
	ty := faulttest.New(t)
	base := testkit.SharedTmpfs(t, 96<<20)
	src := writeFile(t, base, "src", randomBytes(6<<20))
	want := readFile(t, src)
	old := randomBytes(4096)
	dir := filepath.Join(base, "d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "out")
	seg := shmName(t)
	signals := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGKILL, 0} // 0: timeout(1)
	if signal.Ignored(syscall.SIGHUP) {
		t.Log(hupIgnored + ": the rounds leave SIGHUP out")
		signals = slices.DeleteFunc(signals, func(s syscall.Signal) bool { return s == syscall.SIGHUP })
	}
	mid, killedLeft := 0, 0
	for round := range 600 {
		sig := signals[round%len(signals)]
		toShm := round%7 == 3
		named := round%2 == 1
		delay := time.Duration(mathrand.IntN(12000)) * time.Microsecond
		ty.Round(func() error {
			if err := os.WriteFile(dest, old, 0o644); err != nil {
				return err
			}
			_ = shm.Unlink(seg)
			target := dest
			if toShm {
				target = "shm:" + seg
			}
			var cmd *exec.Cmd
			if sig == 0 {
				cmd = command("timeout", fmt.Sprintf("%.4f", delay.Seconds()), mmcatBin, "-o", target, src)
				cmd.Env = append(cmd.Env, asMmcat)
			} else {
				cmd = command(mmcatBin, "-o", target, src)
			}
			if named {
				cmd = withoutTmpfile(cmd)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				return err
			}
			if sig != 0 {
				time.Sleep(delay)
				_ = cmd.Process.Signal(sig)
			}
			_ = cmd.Wait()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			switch {
			case ws.Exited() && ws.ExitStatus() == 0:
			case sig == 0 && ws.ExitStatus() == 124:
			case ws.Signaled() && ws.Signal() == sig:
			default:
				return fmt.Errorf("-o %s, %v after %v: %v, stderr %q", target, sig, delay, cmd.ProcessState, stderr.String())
			}
			complete := ws.Exited() && ws.ExitStatus() == 0
			got := readFile(t, dest)
			if toShm {
				if s, err := shm.Open(seg, shm.ReadOnly()); err == nil {
					got = append([]byte{}, s.Bytes()...)
					_ = s.Close()
				} else {
					got = nil
				}
			}
			switch {
			case bytes.Equal(got, want):
			case !complete && (toShm && got == nil || !toShm && bytes.Equal(got, old)):
				mid++
			case toShm && sig == syscall.SIGKILL:
				// A segment is visible by its name while it is filled,
				// and SIGKILL leaves no chance to remove it (doc.go).
				mid++
			default:
				return fmt.Errorf("-o %s, %v after %v (%v): DEST holds %d bytes, neither old nor new", target, sig, delay, cmd.ProcessState, len(got))
			}
			left := hiddenFiles(t, dir)
			if sig != syscall.SIGKILL && len(left) > 0 {
				return fmt.Errorf("-o %s, %v after %v: left %q", target, sig, delay, left)
			}
			if len(left) > 0 {
				killedLeft++
				if r := mmcat(t, nil, "-o", dest, "--length", "1", src); r.code != 0 {
					return fmt.Errorf("the -o after a SIGKILL: exit %d: %s", r.code, r.stderr)
				}
				if left := hiddenFiles(t, dir); len(left) > 0 {
					return fmt.Errorf("the -o after a SIGKILL left %q", left)
				}
			}
			return nil
		}())
	}
	t.Logf("%d rounds were killed mid-copy; %d SIGKILLs left a temporary file, which the next -o removed", mid, killedLeft)
	if mid == 0 {
		t.Error("no round was killed mid-copy: the scenario proved nothing")
	}
}
