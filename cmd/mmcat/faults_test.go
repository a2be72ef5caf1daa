//go:build faults && linux

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
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
