//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// blockingPipe returns a pipe whose ends are in blocking mode, so that a
// child writing into it waits for this process's reads, and both ends can
// be handed to raw system calls.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r, w = os.NewFile(uintptr(fds[0]), "pipe-r"), os.NewFile(uintptr(fds[1]), "pipe-w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// started is a command running with its standard output into a pipe that
// the test reads.
type started struct {
	cmd    *exec.Cmd
	out    *os.File
	stderr bytes.Buffer
}

// startInto starts name with args, writing into a fresh blocking pipe, of
// which the test keeps the read end.
func startInto(t *testing.T, name string, args ...string) *started {
	t.Helper()
	r, w := blockingPipe(t)
	s := &started{cmd: command(name, args...), out: r}
	s.cmd.Stdout, s.cmd.Stderr = w, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return s
}

// readN reads exactly n bytes of the command's output.
func (s *started) readN(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(s.out, b); err != nil {
		t.Fatalf("%q: reading %d bytes of its output: %v (stderr %q)", s.cmd.Args, n, err, s.stderr.String())
	}
	return b
}

// wait waits for the command's exit; testkit.Wait kills one that cannot
// finish (not a slow one) and fails the test.
func (s *started) wait(t *testing.T) int {
	t.Helper()
	_ = testkit.Wait(t, s.cmd)
	return s.cmd.ProcessState.ExitCode()
}

// finish reads the rest of the output, waits for the exit and returns
// what the run left, prefixed by head (what was read before).
func (s *started) finish(t *testing.T, head []byte) result {
	t.Helper()
	rest, err := io.ReadAll(s.out)
	if err != nil {
		t.Fatal(err)
	}
	code := s.wait(t)
	return result{stdout: append(head, rest...), stderr: s.stderr.Bytes(), code: code}
}

// sysAttributes returns the readable-looking regular files of a few /sys
// directories that every Linux machine has, and the BTF of the kernel if
// it is there (large, and refused to MAP_SHARED).
func sysAttributes(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, dir := range []string{"/sys/class/net/lo", "/sys/kernel/mm/transparent_hugepage", "/sys/devices/system/cpu", "/sys/kernel", "/sys/kernel/btf"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(paths) == 0 {
		t.Skip("no /sys attributes to read")
	}
	return paths
}

// TestCompatSys reads /sys attributes, which report a size of 4096 whatever
// they hold and cannot be mapped: the output, messages and status must be
// GNU cat's. Attributes whose value changes between two reads by GNU cat
// (counters) are left out.
func TestCompatSys(t *testing.T) {
	requireGNUCat(t)
	var stable []string
	for _, p := range sysAttributes(t) {
		first := gnu(t, nil, p)
		got := mmcat(t, nil, p)
		again := gnu(t, nil, p)
		if !bytes.Equal(first.stdout, again.stdout) || first.code != again.code {
			continue
		}
		stable = append(stable, p)
		want := first
		want.stderr = []byte(strings.ReplaceAll(string(want.stderr), gnuCatPath+": ", "mmcat: "))
		sameAs(t, p, got, want)
	}
	t.Logf("%d stable attributes compared", len(stable))
	if len(stable) < 5 {
		t.Fatalf("only %d stable /sys attributes: the comparison proves little", len(stable))
	}
	// All in one invocation, numbered: the numbering carries across them.
	args := append([]string{"-n"}, stable...)
	got, want := invocation{argv0: "cat"}.run(t, mmcatBin, args...), invocation{argv0: "cat"}.run(t, gnuCatPath, args...)
	sameAs(t, "-n over the attributes", got, want)

	// A range is taken of what an attribute holds, not of the page its
	// size claims: the oracle is GNU cat's output, sliced.
	for _, p := range stable {
		whole := gnu(t, nil, p)
		if whole.code != 0 || len(whole.stdout) < 2 {
			continue
		}
		if got := mustRun(t, nil, "--offset", "1", "--length", "3", p); !bytes.Equal(got, whole.stdout[1:min(4, len(whole.stdout))]) {
			t.Errorf("--offset 1 --length 3 %s: %q, want %q", p, got, whole.stdout[1:min(4, len(whole.stdout))])
		}
		if n := len(whole.stdout); n < 4000 {
			r := mmcat(t, nil, "--offset", "4000", p)
			want := fmt.Sprintf("mmcat: %s: offset 4000 is past the end (size %d)\n", p, n)
			if r.code != 1 || string(r.stderr) != want {
				t.Errorf("--offset 4000 %s: exit %d, stderr %q; want 1, %q", p, r.code, r.stderr, want)
			}
		}
	}
}

// TestShrinkBeforeMap truncates the file between mmcat's size check and its
// mapping (the seam of TestMain): mmcat must give what cat gives for the
// file as it then is, not an error about a range outside the file.
func TestShrinkBeforeMap(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	data := textSample(1<<20, 3)
	for _, c := range []struct {
		args []string
		size int64
	}{
		{nil, 300001}, {nil, 4096}, {nil, 0}, {[]string{"-n"}, 300001}, {[]string{"-A"}, 12345},
		{[]string{"--offset", "1000", "--length", "100000"}, 50000},
		{[]string{"--offset", "500000"}, 300001},
	} {
		f := writeFile(t, dir, "f", data)
		cmd := command(mmcatBin, append(c.args, f)...)
		cmd.Env = append(cmd.Env, shrinkBeforeMapEnv+"="+strconv.FormatInt(c.size, 10))
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		_ = cmd.Run()
		got := result{stdout: out.Bytes(), stderr: errb.Bytes(), code: cmd.ProcessState.ExitCode()}
		if fi, err := os.Stat(f); err != nil || fi.Size() != c.size {
			t.Fatalf("the seam did not truncate %s to %d: %v, %v", f, c.size, fi, err)
		}
		// The oracle reads the file as it now is: GNU cat, or mmcat
		// itself for --offset, which cat lacks.
		var want result
		if len(c.args) > 0 && strings.HasPrefix(c.args[0], "--offset") {
			want = mmcat(t, nil, append(c.args, f)...)
		} else {
			want = gnu(t, nil, append(c.args, f)...)
		}
		want.stderr = []byte(strings.ReplaceAll(string(want.stderr), gnuCatPath+": ", "mmcat: "))
		sameAs(t, fmt.Sprintf("%q shrunk to %d", c.args, c.size), got, want)
	}
}

// TestGrowingFile appends to a file while the command is copying it: cat
// copies what the file holds when it reaches the end, growth included, and
// so must mmcat, formatted or not. The command is held mid-copy by a pipe
// that the test reads only partly before the file grows.
func TestGrowingFile(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir() // each run rewrites the file
	for _, opts := range [][]string{nil, {"-n"}} {
		var runs [2]result
		var final []byte
		for i, prog := range []string{gnuCatPath, mmcatBin} {
			f := writeFile(t, dir, "growing", textSample(20<<20, 5))
			s := startInto(t, prog, append(opts, f)...)
			head := s.readN(t, 4<<20)
			g, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.Write(textSample(1<<20, 6)); err != nil {
				t.Fatal(err)
			}
			g.Close()
			runs[i] = s.finish(t, head)
			final = readFile(t, f)
		}
		if len(opts) == 0 && !bytes.Equal(runs[0].stdout, final) {
			t.Fatalf("GNU cat copied %d bytes of the grown file's %d: the premise fails", len(runs[0].stdout), len(final))
		}
		runs[0].stderr = []byte(strings.ReplaceAll(string(runs[0].stderr), gnuCatPath+": ", "mmcat: "))
		sameAs(t, fmt.Sprintf("%q over a growing file", opts), runs[1], runs[0])
	}
}

// faultMessage is how mmcat reports a source that faulted.
const faultMessage = "Bad address: the file shrank or its storage failed while it was being copied"

// TestTruncatedMidCopy truncates the first of two files while the command
// is copying it (held mid-copy by the pipe it writes into), well past what
// it has read: among short lines, or inside a line longer than the
// formatter's buffer, which goes out without being copied into it. GNU cat
// prints the first file up to where it now ends and then the second,
// numbering on; mmcat must print the same bytes, report the first file
// once (its mapping met a hole) and never blame the second.
//
// Unformatted, a cut in the middle of a page is left out: write(2) copies
// that page as the kernel then shows it, zeros after the cut, before it
// meets the hole (see doc.go).
func TestTruncatedMidCopy(t *testing.T) {
	requireGNUCat(t)
	long := bytes.Repeat([]byte("a long line\tof text "), 2<<20/20) // 2 MiB without a newline
	data := append(append(textSample(15<<20, 8), long...), textSample(15<<20, 10)...)
	dirs := [2]string{t.TempDir(), t.TempDir()} // each run rewrites its files
	for _, c := range []struct {
		opts []string
		cut  int64
	}{
		{nil, 8 << 20}, {nil, 16 << 20},
		{[]string{"-n"}, 8 << 20}, {[]string{"-n"}, 16 << 20}, {[]string{"-n"}, 16<<20 + 1000},
		{[]string{"-nE"}, 16 << 20}, {[]string{"-b", "-s"}, 8<<20 + 7}, {[]string{"-vT"}, 16<<20 + 4095},
		// In the last page of a 128 KiB read, which itself reads
		// whole: the fault comes only with the next one.
		{[]string{"-n"}, 16<<20 + 128<<10 - 100}, {[]string{"-E"}, 8<<20 + 128<<10 - 4095},
	} {
		var runs [2]result
		var a, b string
		for i, prog := range []string{gnuCatPath, mmcatBin} {
			a = writeFile(t, dirs[i], "a", data)
			b = writeFile(t, dirs[i], "b", textSample(300000, 9))
			s := startInto(t, prog, append(c.opts, a, b)...)
			head := s.readN(t, 1<<20)
			if err := os.Truncate(a, c.cut); err != nil {
				t.Fatal(err)
			}
			runs[i] = s.finish(t, head)
		}
		what := fmt.Sprintf("%q cut at %d", c.opts, c.cut)
		gnuRun, got := runs[0], runs[1]
		// The oracle: cat over the first file as truncated, then the
		// second.
		if want := gnuFormatOrCopy(t, c.opts, a, b); !bytes.Equal(gnuRun.stdout, want) || gnuRun.code != 0 {
			t.Fatalf("%s: GNU cat gave %d bytes, exit %d, not those of the truncated file and the next: the premise fails",
				what, len(gnuRun.stdout), gnuRun.code)
		}
		if !bytes.Equal(got.stdout, gnuRun.stdout) {
			t.Errorf("%s: stdout differs from GNU cat's:\n%s", what, diffReport(got.stdout, gnuRun.stdout))
		}
		if want := "mmcat: " + a + ": " + faultMessage + "\n"; got.code != 1 || string(got.stderr) != want {
			t.Errorf("%s: exit %d, stderr %q; want 1, %q", what, got.code, got.stderr, want)
		}
	}
}

// TestTruncatedInFlight truncates a file that is one long line while the
// command is blocked writing it to a pipe, below the end of what it is
// writing: -n sends such a line out in large spans straight from its
// input. What was read before the cut is printed, the file is reported
// once (by mmcat; cat just sees its end), and the next file follows in
// full, its first line continuing the long one and numbered on from there.
func TestTruncatedInFlight(t *testing.T) {
	requireGNUCat(t)
	long := bytes.Repeat([]byte("one long line\twithout end "), 8<<20/26) // ~8 MiB
	bData := textSample(300000, 12)
	const cut = 3 << 19 // 1.5 MiB: past what the reader took, before what was read
	for _, prog := range []string{gnuCatPath, mmcatBin} {
		dir := t.TempDir()
		a := writeFile(t, dir, "a", long)
		b := writeFile(t, dir, "b", bData)
		s := startInto(t, prog, "-n", a, b)
		head := s.readN(t, 1<<20)
		if err := os.Truncate(a, cut); err != nil {
			t.Fatal(err)
		}
		r := s.finish(t, head)

		// B's part: what cat prints for B after a line without end.
		x := writeFile(t, dir, "x", []byte("x"))
		tail := gnuFormatOrCopy(t, []string{"-n"}, x, b)[len("     1\tx"):]
		out := r.stdout
		k := len(out) - len(tail) - len("     1\t")
		switch {
		case k < cut || k > len(long):
			t.Errorf("%s: printed %d bytes of the first file, want at least the %d before the cut", prog, k, cut)
		case !bytes.Equal(out[:len("     1\t")+k], append([]byte("     1\t"), long[:k]...)):
			t.Errorf("%s: the first file's part is not its first %d bytes numbered", prog, k)
		case !bytes.Equal(out[len(out)-len(tail):], tail):
			t.Errorf("%s: the second file's part differs from cat's:\n%s", prog, diffReport(out[len(out)-len(tail):], tail))
		}
		want := result{code: 0}
		if prog == mmcatBin {
			want = result{code: 1, stderr: []byte("mmcat: " + a + ": " + faultMessage + "\n")}
		}
		if r.code != want.code || !bytes.Equal(r.stderr, want.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", prog, r.code, r.stderr, want.code, want.stderr)
		}
	}
}

// gnuFormatOrCopy is GNU cat's output for opts over files.
func gnuFormatOrCopy(t *testing.T, opts []string, files ...string) []byte {
	t.Helper()
	r := gnu(t, nil, append(append([]string{}, opts...), files...)...)
	if r.code != 0 {
		t.Fatalf("GNU cat %q: exit %d: %s", opts, r.code, r.stderr)
	}
	return r.stdout
}

// TestStdinOffsetSeeks gives --offset a regular file on standard input
// whose first terabyte is a hole: mmcat must seek past it, not read it (at
// several GB/s a read of it takes minutes). GNU tail -c +N, which seeks,
// is the oracle.
func TestStdinOffsetSeeks(t *testing.T) {
	const tera int64 = 1 << 40
	path := filepath.Join(t.TempDir(), "sparse")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tail := []byte("the end of a sparse file\n")
	if _, err := f.WriteAt(tail, tera); err != nil {
		t.Skip("the temporary directory cannot hold a sparse file of 1 TiB:", err)
	}
	size := tera + int64(len(tail))

	run := func(pos int64, args ...string) result {
		t.Helper()
		in, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		if _, err := in.Seek(pos, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		s := &started{cmd: command(mmcatBin, args...)}
		var out bytes.Buffer
		s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = in, &out, &s.stderr
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		code := s.wait(t)
		return result{stdout: out.Bytes(), stderr: s.stderr.Bytes(), code: code}
	}

	oracle, err := exec.Command("tail", "-c", "+"+strconv.FormatInt(tera+1, 10), path).Output()
	if err != nil || !bytes.Equal(oracle, tail) {
		t.Fatalf("GNU tail -c +%d: %q, %v", tera+1, oracle, err)
	}
	for _, c := range []struct {
		pos  int64
		args []string
		want []byte
	}{
		{0, []string{"--offset", "1024G", "-"}, oracle},
		{0, []string{"--offset", "1024G", "--length", "7", "-"}, oracle[:7]},
		{tera - 3, []string{"--offset", "1", "-"}, append([]byte{0, 0}, tail...)},
		{0, []string{"--offset=1099511627780", "-"}, oracle[4:]},
	} {
		if r := run(c.pos, c.args...); r.code != 0 || len(r.stderr) != 0 || !bytes.Equal(r.stdout, c.want) {
			t.Errorf("stdin at %d, %q: exit %d, stderr %q, stdout %q; want %q", c.pos, c.args, r.code, r.stderr, r.stdout, c.want)
		}
	}
	// Past the end: the message gives what was left from the position.
	r := run(tera, "--offset", "2048G", "-")
	want := fmt.Sprintf("mmcat: -: offset %d is past the end (size %d)\n", int64(2*tera), size-tera)
	if r.code != 1 || string(r.stderr) != want || len(r.stdout) != 0 {
		t.Errorf("--offset 2048G from %d: exit %d, stderr %q; want 1, %q", int64(tera), r.code, r.stderr, want)
	}
}

// TestPipeAfterExit changes a file after the command that copied it into a
// pipe has exited, while part of its output is still in the pipe, and
// compares what the pipe's reader gets with what it gets from GNU cat,
// which is the file as it was. A reader that reads the pipe, and one that
// passes the pages on by reference (splice(2) into a second pipe, as pv
// does), must both see only the bytes as they were when the command ran.
func TestPipeAfterExit(t *testing.T) {
	requireGNUCat(t)
	for _, c := range []struct {
		name    string
		size    int // of the file
		unread  int // bytes still in the pipes when the command exits
		forward bool
	}{
		{"small file, all in the pipe", 100 << 10, 100 << 10, false},
		{"reader behind", 4 << 20, 512 << 10, false},
		{"reader behind a splicing forwarder", 4 << 20, 3 << 19, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got [2][]byte
			for i, prog := range []string{gnuCatPath, mmcatBin} {
				got[i] = changeAfterExit(t, prog, c.size, c.unread, c.forward)
			}
			want := bytes.Repeat([]byte("BEFORE\n"), c.size/7+1)[:c.size]
			if !bytes.Equal(got[0], want) {
				t.Fatalf("GNU cat's reader got %d bytes that are not the file as it was: the premise fails", len(got[0]))
			}
			if !bytes.Equal(got[1], got[0]) {
				t.Errorf("mmcat's reader got what changed after it exited:\n%s", diffReport(got[1], got[0]))
			}
		})
	}
}

// changeAfterExit runs prog over a file of size bytes into a pipe of 1 MiB
// (and on through a second one of 1 MiB with forward), reads all but
// unread bytes of its output, waits for it to exit, then overwrites the
// file in place and returns everything the reader got. With forward, more
// than a pipe's capacity is unread: what was written last by copying (a
// pipe's worth, say) cannot cover for what was handed over by reference
// before it.
func changeAfterExit(t *testing.T, prog string, size, unread int, forward bool) []byte {
	t.Helper()
	f := writeFile(t, t.TempDir(), "f", bytes.Repeat([]byte("BEFORE\n"), size/7+1)[:size])
	r, w := blockingPipe(t)
	setPipeSize(t, w, 1<<20)
	cmd := command(prog, f)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s := &started{cmd: cmd, out: r}
	if forward {
		r2, w2 := blockingPipe(t)
		setPipeSize(t, w2, 1<<20)
		go func() {
			defer w2.Close()
			for {
				n, err := unix.Splice(int(r.Fd()), nil, int(w2.Fd()), nil, 1<<20, 0)
				if n <= 0 || err != nil {
					return
				}
			}
		}()
		s.out = r2
	}
	head := s.readN(t, size-unread)
	if code := s.wait(t); code != 0 {
		t.Fatalf("%s: exit %d: %s", prog, code, stderr.String())
	}
	g, err := os.OpenFile(f, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteAt(bytes.Repeat([]byte("AFTER!\n"), size/7+1)[:size], 0); err != nil {
		t.Fatal(err)
	}
	g.Close()
	return s.finish(t, head).stdout
}

// setPipeSize gives the pipe w a capacity of n bytes, or skips the test.
func setPipeSize(t *testing.T, w *os.File, n int) {
	t.Helper()
	if got, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, n); err != nil || got < n {
		t.Skipf("cannot give a pipe %d bytes (past /proc/sys/fs/pipe-max-size, or the user's pipe quota): %d, %v", n, got, err)
	}
}
