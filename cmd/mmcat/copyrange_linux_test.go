package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/shm"
)

// rangeCalls runs cmd (mmcat) under strace and returns what each of its
// copy_file_range(2) calls returned: a count ("65536") or an error
// ("-1 EXDEV"). cmd must not have been started.
func rangeCalls(t *testing.T, cmd *exec.Cmd) []string {
	t.Helper()
	trace := filepath.Join(t.TempDir(), "trace")
	cmd.Args = append([]string{"strace", "-f", "-qq", "-o", trace, "-e", "trace=copy_file_range", cmd.Path}, cmd.Args[1:]...)
	path, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("needs strace (scripts/deps.sh installs it)")
	}
	cmd.Path = path
	_ = cmd.Run()
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatalf("strace left no trace: %v", err)
	}
	var calls []string
	for _, m := range regexp.MustCompile(`copy_file_range\(.*\) = (-1 [A-Z]+|\d+)`).FindAllStringSubmatch(string(b), -1) {
		calls = append(calls, m[1])
	}
	return calls
}

// copiedByRange reports whether some copy_file_range call copied bytes.
func copiedByRange(calls []string) bool {
	for _, c := range calls {
		if c != "0" && !strings.HasPrefix(c, "-1") {
			return true
		}
	}
	return false
}

// sparseFile writes a file of size bytes that is a hole but for the
// chunks of random bytes at the given offsets.
func sparseFile(t *testing.T, dir, name string, size int64, at ...int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for _, off := range at {
		if _, err := f.WriteAt(randomBytes(5000), off); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestCopyRangeLikeCat copies files, dense and sparse (holes at the start,
// in the middle, at the end; one all hole), among a stream and a shm:
// segment, into a new DEST, an existing one, a regular standard output and
// one opened for appending (where copy_file_range(2) refuses: EBADF), and
// checks the bytes against GNU cat's into the same kind of file, and that
// the files went by copy_file_range where it can serve.
func TestCopyRangeLikeCat(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	dense := writeFile(t, dir, "dense", randomBytes(3<<20+12345))
	sparse := sparseFile(t, dir, "sparse", 16<<20, 1<<20+17, 8<<20, 16<<20-5000)
	tailHole := sparseFile(t, dir, "tail-hole", 5<<20+3, 0)
	allHole := sparseFile(t, dir, "all-hole", 4<<20)
	stdin := randomBytes(200000)
	name := shmName(t)
	seg, err := shm.Create(name, 70000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seg.WriteAt(randomBytes(70000), 0); err != nil {
		t.Fatal(err)
	}
	seg.Close()
	// cat reads the segment as the file it is in /dev/shm.
	ours := []string{sparse, dense, "-", tailHole, "shm:" + name, allHole, dense}
	theirs := append([]string{}, ours...)
	theirs[4] = "/dev/shm/" + name

	old := randomBytes(20 << 20) // longer than the output
	for _, c := range []struct {
		what   string
		prefix []byte // what the output holds before: nil, none
		flags  int    // to open standard output with; 0: -o
		ranged bool   // copy_file_range copies
	}{
		{"-o onto a new file", nil, 0, true},
		{"-o onto an existing file", old, 0, true},
		{"into standard output", nil, os.O_TRUNC, true},
		{"appended to standard output", old[:5000], os.O_APPEND, false},
	} {
		// cat > OUT truncates; cat >> OUT keeps what OUT held.
		cat := writeFile(t, dir, "cat-out", nil)
		if c.flags == os.O_APPEND {
			writeFile(t, dir, "cat-out", c.prefix)
		}
		catOut, err := os.OpenFile(cat, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		g := command(gnuCatPath, theirs...)
		g.Stdin, g.Stdout = bytes.NewReader(stdin), catOut
		if err := g.Run(); err != nil {
			t.Fatal(err)
		}
		catOut.Close()
		want := readFile(t, cat)

		out := filepath.Join(dir, "out")
		if c.prefix != nil {
			writeFile(t, dir, "out", c.prefix)
		} else {
			os.Remove(out)
		}
		var cmd *exec.Cmd
		if c.flags == 0 {
			cmd = command(mmcatBin, append([]string{"-o", out}, ours...)...)
		} else {
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|c.flags, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd = command(mmcatBin, ours...)
			cmd.Stdout = f
		}
		var stderr bytes.Buffer
		cmd.Stdin, cmd.Stderr = bytes.NewReader(stdin), &stderr
		calls := rangeCalls(t, cmd)
		if code := cmd.ProcessState.ExitCode(); code != 0 || stderr.Len() != 0 {
			t.Errorf("%s: exit %d, stderr %q", c.what, code, stderr.String())
		}
		if got := readFile(t, out); !bytes.Equal(got, want) {
			t.Errorf("%s: the output differs from GNU cat's:\n%s", c.what, diffReport(got, want))
		}
		switch {
		case c.ranged && !copiedByRange(calls):
			t.Errorf("%s: copy_file_range copied nothing (calls: %q)", c.what, calls)
		case !c.ranged && !slicesContain(calls, "-1 EBADF"):
			t.Errorf("%s: copy_file_range calls %q, want a refusal with EBADF before the fallback", c.what, calls)
		}
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestCopyRangeRanges copies parts of dense and sparse files with --offset
// and --length into a file, by copy_file_range, and checks them against the
// slices of the files.
func TestCopyRangeRanges(t *testing.T) {
	dir := t.TempDir()
	dense := writeFile(t, dir, "dense", randomBytes(3<<20+12345))
	sparse := sparseFile(t, dir, "sparse", 9<<20, 4096, 8<<20)
	files := [][]byte{readFile(t, dense), readFile(t, sparse)}
	for _, c := range []struct{ off, n int64 }{
		{0, -1}, {4097, -1}, {4097, 5 << 20}, {1 << 20, 1}, {3<<20 + 12345, -1}, {0, 100 << 20},
	} {
		args := []string{"--offset", fmt.Sprint(c.off)}
		if c.n >= 0 {
			args = append(args, "--length", fmt.Sprint(c.n))
		}
		var want []byte
		for _, b := range files {
			end := int64(len(b))
			if c.n >= 0 {
				end = min(end, c.off+c.n)
			}
			want = append(want, b[c.off:end]...)
		}
		out := filepath.Join(dir, "out")
		cmd := command(mmcatBin, append(append(args, "-o", out), dense, sparse)...)
		calls := rangeCalls(t, cmd)
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
		if got := readFile(t, out); !bytes.Equal(got, want) {
			t.Errorf("%q: the output differs from the files' bytes:\n%s", args, diffReport(got, want))
		}
		if !copiedByRange(calls) {
			t.Errorf("%q: copy_file_range copied nothing (calls: %q)", args, calls)
		}
	}
}

// rangeRun runs mmcat with args into out, with -o or into a regular
// standard output, with script run by another process after the first
// copy_file_range call of each SOURCE (betweenRangesEnv), and returns the
// result and whether the script ran for the SOURCE first (it touches
// $1.ran).
func rangeRun(t *testing.T, viaO bool, out, script, first string, args ...string) (result, bool) {
	t.Helper()
	os.Remove(first + ".ran")
	sources := args
	var cmd *exec.Cmd
	var stdout bytes.Buffer
	if viaO {
		cmd = command(mmcatBin, append([]string{"-o", out}, sources...)...)
		cmd.Stdout = &stdout
	} else {
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd = command(mmcatBin, sources...)
		cmd.Stdout = f
	}
	cmd.Env = append(cmd.Env, betweenRangesEnv+"="+script+`; touch "$1.ran"`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run()
	_, err := os.Stat(first + ".ran")
	return result{stdout: stdout.Bytes(), stderr: stderr.Bytes(), code: cmd.ProcessState.ExitCode()}, err == nil
}

// TestCopyRangeGrowing has another process append to a file after the
// first copy_file_range call (of 64 MiB) has copied part of it: as cat,
// mmcat copies to the end of the file as it is, growth included, or to
// the end of --length.
func TestCopyRangeGrowing(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 400<<20)
	const size = 65 << 20 // more than one call copies
	data := randomBytes(size)
	for _, viaO := range []bool{true, false} {
		for _, length := range []int64{-1, size + 100} {
			src := writeFile(t, dir, "src", data)
			out := filepath.Join(dir, "out")
			var args []string
			if length >= 0 {
				args = []string{"--length", fmt.Sprint(length)}
			}
			r, ran := rangeRun(t, viaO, out, `head -c 1048577 /dev/urandom >>"$1"`, src, append(args, src)...)
			what := fmt.Sprintf("-o %v, %q", viaO, args)
			if !ran {
				t.Fatalf("%s: the file was not copied by copy_file_range: the script never ran", what)
			}
			want := readFile(t, src)
			if len(want) != size+1048577 {
				t.Fatalf("%s: the file has %d bytes after the append, want %d", what, len(want), size+1048577)
			}
			if length >= 0 {
				want = want[:length]
			}
			if r.code != 0 || len(r.stderr) != 0 {
				t.Errorf("%s: exit %d, stderr %q", what, r.code, r.stderr)
			}
			if got := readFile(t, out); !bytes.Equal(got, want) {
				t.Errorf("%s: the output is not the grown file:\n%s", what, diffReport(got, want))
			}
		}
	}
}

// TestCopyRangeTruncated has another process truncate the first of two
// files after the first copy_file_range call (of 64 MiB) has copied part
// of it, past or before what was copied: the output holds what was copied
// and what the file still had, then the second file whole; the first is
// reported, and the exit status is 1.
func TestCopyRangeTruncated(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 400<<20)
	const size = 80 << 20
	data, second := randomBytes(size), randomBytes(1<<20+3)
	for _, viaO := range []bool{true, false} {
		for _, cut := range []int64{70 << 20, 1 << 20, 0} {
			a := writeFile(t, dir, "a", data)
			b := writeFile(t, dir, "b", second)
			out := filepath.Join(dir, "out")
			script := fmt.Sprintf(`case "$1" in */a) truncate -s %d "$1";; esac`, cut)
			r, ran := rangeRun(t, viaO, out, script, a, a, b)
			what := fmt.Sprintf("-o %v, cut at %d", viaO, cut)
			if !ran {
				t.Fatalf("%s: the file was not copied by copy_file_range: the script never ran", what)
			}
			want := append(append([]byte{}, data[:max(cut, 64<<20)]...), second...)
			if got := readFile(t, out); !bytes.Equal(got, want) {
				t.Errorf("%s: the output differs from what was copied before the cut and the second file:\n%s", what, diffReport(got, want))
			}
			msg := fmt.Sprintf("mmcat: %s: the file shrank from %d to %d bytes while it was being copied\n", a, size, cut)
			if r.code != 1 || string(r.stderr) != msg {
				t.Errorf("%s: exit %d, stderr %q; want 1, %q", what, r.code, r.stderr, msg)
			}
		}
	}
}

// TestCopyRangeOtherFileSystem copies between a tmpfs and the disk, both
// ways: copy_file_range refuses with EXDEV (since Linux 5.19), and the
// copy goes the mapped way, as GNU cat falls back to read and write.
func TestCopyRangeOtherFileSystem(t *testing.T) {
	requireGNUCat(t)
	mem, disk := testkit.SmallTmpfs(t, 64<<20), t.TempDir()
	var a, b unix.Statfs_t
	if unix.Statfs(mem, &a) != nil || unix.Statfs(disk, &b) != nil || a.Type == b.Type {
		t.Skipf("needs %s on a file system other than tmpfs", disk)
	}
	for _, dirs := range [][2]string{{mem, disk}, {disk, mem}} {
		src := writeFile(t, dirs[0], "src", randomBytes(5<<20+1))
		sparse := sparseFile(t, dirs[0], "sparse", 6<<20, 3<<20)
		out := filepath.Join(dirs[1], "out")
		cmd := command(mmcatBin, "-o", out, src, sparse)
		calls := rangeCalls(t, cmd)
		what := fmt.Sprintf("from %s to %s", dirs[0], dirs[1])
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s: exit %d", what, code)
		}
		if len(calls) == 0 || calls[0] != "-1 EXDEV" {
			t.Logf("%s: copy_file_range calls %q, not a refusal with EXDEV: the kernel copies across file systems", what, calls)
		}
		want := gnu(t, nil, src, sparse).stdout
		if got := readFile(t, out); !bytes.Equal(got, want) {
			t.Errorf("%s: the output differs from GNU cat's:\n%s", what, diffReport(got, want))
		}
	}
}

// TestCopyRangeInPlace writes files with -o onto what is written in place:
// a FIFO (which copy_file_range cannot fill), /dev/null, and a regular
// file with --in-place (which it can), against GNU cat.
func TestCopyRangeInPlace(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	dense := writeFile(t, dir, "dense", randomBytes(2<<20+1))
	sparse := sparseFile(t, dir, "sparse", 3<<20, 1<<20)
	want := gnu(t, nil, dense, sparse).stdout

	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	reader := exec.Command(gnuCatPath, fifo)
	var got bytes.Buffer
	reader.Stdout = &got
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	if r := mmcat(t, nil, "-o", fifo, dense, sparse); r.code != 0 || len(r.stderr) != 0 {
		t.Errorf("-o FIFO: exit %d, stderr %q", r.code, r.stderr)
	}
	if err := reader.Wait(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("-o FIFO: what the reader got differs from GNU cat's output:\n%s", diffReport(got.Bytes(), want))
	}

	if r := mmcat(t, nil, "-o", os.DevNull, dense, sparse); r.code != 0 || len(r.stderr) != 0 {
		t.Errorf("-o /dev/null: exit %d, stderr %q", r.code, r.stderr)
	}

	out := writeFile(t, dir, "out", randomBytes(9<<20))
	cmd := command(mmcatBin, "--in-place", "-o", out, dense, sparse)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	calls := rangeCalls(t, cmd)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("--in-place: exit %d", code)
	}
	if g := readFile(t, out); !bytes.Equal(g, want) {
		t.Errorf("--in-place: the output differs from GNU cat's:\n%s", diffReport(g, want))
	}
	if !copiedByRange(calls) {
		t.Errorf("--in-place: copy_file_range copied nothing (calls: %q)", calls)
	}
}
