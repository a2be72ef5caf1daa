//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"golang.org/x/sys/unix"
)

// TestFormattedFlushBeforeBlocking runs "OPTION L NEXT" where NEXT, a pipe
// on standard input or a FIFO no one has opened yet, keeps the command
// waiting: GNU cat writes L's formatted lines first, and so must mmcat.
// The test reads them before NEXT gets its data (or, for the FIFO, a
// writer), then feeds NEXT and compares the whole output with GNU cat's.
func TestFormattedFlushBeforeBlocking(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	first := writeFile(t, dir, "L", []byte("one\n\n\n\ttwo\r\nthree\x01"))
	for _, next := range []string{"-", "fifo"} {
		for _, opt := range []string{"-n", "-A", "-s", "-bE"} {
			t.Run(next+"/"+opt, func(t *testing.T) {
				t.Parallel() // a held output costs one HangTimeout, not one each
				var outs [2][]byte
				for i, prog := range []string{gnuCatPath, mmcatBin} {
					outs[i] = flushRun(t, prog, opt, first, next)
				}
				if !bytes.Equal(outs[1], outs[0]) {
					t.Errorf("mmcat %s L %s: output differs from GNU cat's:\n%s", opt, next, diffReport(outs[1], outs[0]))
				}
			})
		}
	}
}

// flushRun runs prog with opt, first and next ("-" or "fifo"), reads
// what it writes for first (GNU cat's output of "opt first") while next
// gives nothing, then feeds next a line and returns the whole output.
func flushRun(t *testing.T, prog, opt, first, next string) []byte {
	t.Helper()
	want := gnuFormat(t, opt, first)
	// GNU cat holds a last '\r' back under -E until it knows what comes
	// next: the output of L alone, without what its end flushes.
	early := bytes.TrimSuffix(want, []byte("\r"))
	arg := next
	if next == "fifo" {
		arg = filepath.Join(t.TempDir(), "fifo")
		if err := unix.Mkfifo(arg, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := command(prog, opt, first, arg)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(early))
	var rerr error
	if !testkit.Finishes(t, filepath.Base(prog)+" "+opt+"'s output of L while "+next+" waits", func() {
		_, rerr = io.ReadFull(out, got)
	}) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.FailNow()
	}
	if rerr != nil || !bytes.Equal(got, early) {
		t.Fatalf("%s %s L %s: before %s gave anything, read %q (%v), want %q", prog, opt, next, next, got, rerr, early)
	}
	feed := io.WriteCloser(stdin)
	if next == "fifo" {
		stdin.Close()
		f, err := os.OpenFile(arg, os.O_WRONLY, 0) // waits for the command's open
		if err != nil {
			t.Fatal(err)
		}
		feed = f
	}
	if _, err := feed.Write([]byte("x\r\n\n\n\nlast\n")); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	rest, err := io.ReadAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := testkit.Wait(t, cmd); err != nil {
		t.Fatalf("%s %s L %s: %v", prog, opt, next, err)
	}
	return append(got, rest...)
}
