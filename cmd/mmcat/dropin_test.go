//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// invocation says how to start a command beyond its arguments.
type invocation struct {
	argv0  string    // argv[0]; "" keeps what command chose
	env    []string  // added to the environment
	stdin  io.Reader // nil: none
	stdout *os.File  // nil: captured
}

// run runs name with args as inv says.
func (inv invocation) run(tb testing.TB, name string, args ...string) result {
	tb.Helper()
	cmd := command(name, args...)
	if inv.argv0 != "" {
		cmd.Args[0] = inv.argv0
	}
	cmd.Env = append(cmd.Env, inv.env...)
	cmd.Stdin = inv.stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if inv.stdout != nil {
		cmd.Stdout = inv.stdout
	}
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		tb.Fatalf("%s %q: %v", name, args, err)
	}
	return result{stdout: out.Bytes(), stderr: errb.Bytes(), code: cmd.ProcessState.ExitCode()}
}

// sameAs fails unless got and want, two runs by the same argv[0], agree
// byte for byte on stdout and stderr and on the exit status.
func sameAs(t *testing.T, what string, got, want result) {
	t.Helper()
	if !bytes.Equal(got.stdout, want.stdout) {
		t.Errorf("%s: stdout differs from GNU's:\n%s", what, diffReport(got.stdout, want.stdout))
	}
	if got.code != want.code || !bytes.Equal(got.stderr, want.stderr) {
		t.Errorf("%s: exit %d, stderr %q\nGNU: exit %d, stderr %q", what, got.code, got.stderr, want.code, want.stderr)
	}
}

// devFull opens /dev/full for writing, closed at the end of the test; the
// test is skipped where there is none.
func devFull(t *testing.T) *os.File {
	t.Helper()
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	t.Cleanup(func() { full.Close() })
	return full
}

// TestUsageGNU runs mistakes on the command line through mmcat and GNU cat
// invoked by the same name: glibc getopt's messages, the hint, exit status
// 1 (coreutils' tests usage_vs_getopt.sh and invalid-opt.pl check these),
// and what a correct but unusual command line means: abbreviated long
// options, options after operands, POSIXLY_CORRECT, "--", and --help
// acting at once.
func TestUsageGNU(t *testing.T) {
	requireGNUCat(t)
	f := writeFile(t, t.TempDir(), "f", []byte("one\n\n\n\ttwo\n"))
	for _, c := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"-z"}},
		{nil, []string{"-/"}},
		{nil, []string{"--youdontknowme"}},
		{nil, []string{"--bogus=1"}},
		{nil, []string{"-nz", f}},
		{nil, []string{f, "-q"}},
		{nil, []string{"-n="}},
		{nil, []string{"-\xc3\xa9"}},
		{nil, []string{"---x"}},
		{nil, []string{"--num", f}},
		{nil, []string{"--nu=3"}},
		{nil, []string{"--show", f}},
		{nil, []string{"--number=1", f}},
		{nil, []string{"--show-ends=", f}},
		{nil, []string{"--bogus", "--help"}},
		{nil, []string{"--number-", f}},
		{nil, []string{"--show-a", "--squ", f}},
		{nil, []string{f, "-n", f}},
		{nil, []string{"-n", "--", "-n"}},
		{[]string{"POSIXLY_CORRECT=1"}, []string{f, "-n"}},
		{[]string{"POSIXLY_CORRECT=1"}, []string{"-E", f, "--number"}},
	} {
		for _, argv0 := range []string{"cat", gnuCatPath, "./bin/cat"} {
			inv := invocation{argv0: argv0, env: c.env}
			sameAs(t, argv0+" "+strings.Join(c.args, " "), inv.run(t, mmcatBin, c.args...), inv.run(t, gnuCatPath, c.args...))
		}
	}

	// --help acts when it is met: what follows is not looked at.
	for _, args := range [][]string{{"--help", "--bogus"}, {"--he", "-z"}, {"--version", "-z"}} {
		r := invocation{argv0: "cat"}.run(t, mmcatBin, args...)
		g := invocation{argv0: "cat"}.run(t, gnuCatPath, args...)
		if r.code != 0 || g.code != 0 || len(r.stderr) != 0 || len(r.stdout) == 0 {
			t.Errorf("%q: exit %d, stderr %q; GNU cat exit %d", args, r.code, r.stderr, g.code)
		}
	}
	// The help names the command as it was invoked, as cat's does.
	r := invocation{argv0: "/opt/bin/cat"}.run(t, mmcatBin, "--help")
	if !bytes.HasPrefix(r.stdout, []byte("Usage: /opt/bin/cat [OPTION]... [SOURCE]...\n")) || !bytes.Contains(r.stdout, []byte("\n  /opt/bin/cat f - g ")) {
		t.Errorf("--help as /opt/bin/cat: %q", r.stdout[:min(len(r.stdout), 200)])
	}
}

// TestUsageArguments checks the options that take an argument, which GNU
// cat has none of, against GNU head's, whose getopt is the same: the same
// messages with the option names swapped, and every way of giving the
// argument.
func TestUsageArguments(t *testing.T) {
	requireGNUCat(t)
	head, err := exec.LookPath("head")
	if err != nil {
		t.Skip("no head:", err)
	}
	if out, err := exec.Command(head, "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU coreutils")) {
		t.Skip("head is not GNU head")
	}
	inv := invocation{argv0: "cat"}
	for _, c := range []struct {
		mmcat, head []string
		swap        []string // head's names, then mmcat's
	}{
		{[]string{"-o"}, []string{"-n"}, []string{"'n'", "'o'"}},
		{[]string{"-no"}, []string{"-qn"}, []string{"'n'", "'o'"}},
		{[]string{"--output"}, []string{"--lines"}, []string{"'--lines'", "'--output'"}},
		{[]string{"--outp"}, []string{"--li"}, []string{"'--lines'", "'--output'"}},
		{[]string{"--sync=yes"}, []string{"--quiet=yes"}, []string{"'--quiet'", "'--sync'"}},
		{[]string{"--fo=1"}, []string{"--qu=1"}, []string{"'--quiet'", "'--force'"}},
	} {
		got, want := inv.run(t, mmcatBin, c.mmcat...), inv.run(t, head, c.head...)
		want.stderr = []byte(strings.ReplaceAll(string(want.stderr), c.swap[0], c.swap[1]))
		sameAs(t, strings.Join(c.mmcat, " "), got, want)
	}

	// The argument as the rest of the word, after "=", or as the next
	// word, even one that starts with "-"; long options abbreviated.
	data := randomBytes(5000)
	f := writeFile(t, t.TempDir(), "f", data)
	for _, args := range [][]string{
		{"--offset=100", "--length", "10", f},
		{"--off", "100", "--len=10", f},
		{f, "--offset", "100", "--length=10"},
	} {
		if got := mustRun(t, nil, args...); !bytes.Equal(got, data[100:110]) {
			t.Errorf("%q: %q, want %q", args, got, data[100:110])
		}
	}
	out := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{{"-o" + out, f}, {"-uo", out, f}, {"--outp=" + out, f}, {"--output", out, f}} {
		_ = os.Remove(out)
		mustRun(t, nil, args...)
		if got := readFile(t, out); !bytes.Equal(got, data) {
			t.Errorf("%q: wrote %d bytes, want %d", args, len(got), len(data))
		}
	}
}

// TestHelpVersionWriteError sends --help and --version to /dev/full: GNU
// cat fails with a write error at exit (coreutils' help-version.sh and
// io-errors.sh), and so must mmcat.
func TestHelpVersionWriteError(t *testing.T) {
	requireGNUCat(t)
	full := devFull(t)
	inv := invocation{argv0: "cat", stdout: full}
	for _, args := range [][]string{{"--help"}, {"--version"}, {"-n", "--version"}} {
		sameAs(t, strings.Join(args, " ")+" >/dev/full", inv.run(t, mmcatBin, args...), inv.run(t, gnuCatPath, args...))
	}
}

// TestInvocationName checks that messages name the command by argv[0], as
// GNU cat's do, whatever the binary's file is called.
func TestInvocationName(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good", []byte("good\n"))
	for _, argv0 := range []string{"cat", "mmcat", gnuCatPath, "../x/cat", "c a t"} {
		inv := invocation{argv0: argv0}
		args := []string{"-n", good, filepath.Join(dir, "missing"), dir, good}
		sameAs(t, argv0, inv.run(t, mmcatBin, args...), inv.run(t, gnuCatPath, args...))
	}
}

// largefileFlags matches the status flags in a probe's quoted fdinfo.
var largefileFlags = regexp.MustCompile(`flags:\\t([0-7]+)`)

// withoutLargefile clears O_LARGEFILE in the flags of a probe: the kernel
// sets it on every open by a 64-bit process (the shell's), and a 32-bit
// runtime's open of /dev/null lacks it, as does any 32-bit opener's that
// does not ask for it, so it does not tell a closed stream apart.
func withoutLargefile(probe string) string {
	return largefileFlags.ReplaceAllStringFunc(probe, func(m string) string {
		v, err := strconv.ParseUint(largefileFlags.FindStringSubmatch(m)[1], 8, 32)
		if err != nil {
			return m
		}
		return fmt.Sprintf(`flags:\t0%o`, v&^0o100000)
	})
}

// TestClosedStandardStreams covers "mmcat - <&-" and "mmcat F >&-", where
// GNU cat reports EBADF. The Go runtime opens /dev/null, read-write, on
// each of descriptors 0, 1 and 2 that is closed when a program starts
// (runtime.checkfds): the program then finds a descriptor that the kernel
// describes exactly as one open on /dev/null read-write by the parent, as
// Python's subprocess.DEVNULL and the shell's <>/dev/null make it, on
// which cat reads nothing and succeeds. This test shows that the two
// cannot be told apart, which is why mmcat, like any Go program, reads an
// empty standard input and writes into /dev/null there (doc.go says so);
// it fails if the runtime ever leaves the descriptor closed, and then
// mmcat should report EBADF as cat does.
func TestClosedStandardStreams(t *testing.T) {
	requireGNUCat(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	f := writeFile(t, t.TempDir(), "f", []byte("data\n"))
	shell := func(env []string, script string, args ...string) result {
		cmd := exec.Command(sh, append([]string{"-c", script}, args...)...)
		cmd.Env = append(append(os.Environ(), "LC_ALL=C"), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		_ = cmd.Run()
		return result{stdout: out.Bytes(), stderr: errb.Bytes(), code: cmd.ProcessState.ExitCode()}
	}
	for _, c := range []struct {
		fd             int
		closed, devRW  string // redirections of the probed descriptor
		cat            []string
		catStderr      string
		mmcatStdoutLen int
	}{
		{0, "<&-", "<>/dev/null", []string{"-"}, "cat: -: Bad file descriptor\ncat: closing standard input: Bad file descriptor\n", 0},
		{1, ">&-", "1<>/dev/null", []string{f}, "cat: standard output: Bad file descriptor\n", 0},
	} {
		probe := func(redir string) string {
			r := shell(testkit.ProbeFDEnv(c.fd), `exec "$0" `+redir, mmcatBin)
			if r.code != 0 || len(r.stderr) == 0 {
				t.Fatalf("probe of fd %d with %s: exit %d, %q", c.fd, redir, r.code, r.stderr)
			}
			return string(r.stderr)
		}
		closed, devRW := withoutLargefile(probe(c.closed)), withoutLargefile(probe(c.devRW))
		if closed != devRW {
			t.Errorf("fd %d: closed and open on /dev/null read-write now differ:\n%s\n%s\nmmcat can detect a closed stream and should report EBADF as cat does", c.fd, closed, devRW)
		}
		if !strings.Contains(closed, `"/dev/null"`) {
			t.Errorf("fd %d closed at exec: %s; want the runtime's /dev/null", c.fd, closed)
		}

		// GNU cat, for the record of what mmcat cannot match, and its
		// agreement with mmcat on the descriptor open read-write.
		args := strings.Join(c.cat, " ")
		if r := shell(nil, `exec "$0" `+args+" "+c.closed, gnuCatPath); r.code != 1 ||
			strings.ReplaceAll(string(r.stderr), gnuCatPath+": ", "cat: ") != c.catStderr {
			t.Errorf("GNU cat %s %s: exit %d, stderr %q; want 1, %q", args, c.closed, r.code, r.stderr, c.catStderr)
		}
		for _, redir := range []string{c.closed, c.devRW} {
			r := shell([]string{asMmcat}, `exec "$0" `+args+" "+redir, mmcatBin)
			g := shell(nil, `exec "$0" `+args+" "+c.devRW, gnuCatPath)
			if r.code != 0 || len(r.stderr) != 0 || g.code != 0 || len(g.stderr) != 0 || len(r.stdout) != c.mmcatStdoutLen {
				t.Errorf("%s %s: mmcat exit %d, stderr %q, %d bytes out; GNU cat with %s: exit %d, %q",
					args, redir, r.code, r.stderr, len(r.stdout), c.devRW, g.code, g.stderr)
			}
		}
	}
}

// TestStreamNotHeld writes a line into mmcat's standard input, a pipe that
// stays open, and waits for it on the output, under the options that
// format (coreutils' cat-buf.sh checks this of cat -v): what was read is
// written before mmcat waits for more.
func TestStreamNotHeld(t *testing.T) {
	for _, opts := range [][]string{nil, {"-v"}, {"-n"}, {"-sE"}} {
		cmd := command(mmcatBin, opts...)
		in, err := cmd.StdinPipe()
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
		if _, err := in.Write([]byte("x\x01\n")); err != nil {
			t.Fatal(err)
		}
		var n int
		if testkit.Finishes(t, fmt.Sprintf("%q: the first read of the output, after a line was written", opts), func() {
			n, _ = out.Read(make([]byte, 64))
		}) && n == 0 {
			t.Errorf("%q: no output before the input ended", opts)
		}
		in.Close()
		_ = testkit.Wait(t, cmd)
	}
}

// TestCatSelf covers an output that is also an input (coreutils'
// cat-self.sh): refused while reading it would read what is being
// written, allowed when the input's position is already at its end.
func TestCatSelf(t *testing.T) {
	requireGNUCat(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	for _, script := range []string{
		`"$0" out >>out`,
		`"$0" in out >>out`,
		`"$0" - <out >>out`,
		`"$0" -n - <out >>out`,
		`(dd status=none bs=1 skip=2 count=0 && "$0" -) <out >>out`,
		`(dd status=none bs=1 skip=2 count=0 && "$0" - in) <out >>out`,
		`"$0" in - <out >out2 && "$0" out2 >>out`,
	} {
		var runs [2]result
		var files [2]string
		for i, prog := range []string{gnuCatPath, mmcatBin} {
			dir := t.TempDir()
			writeFile(t, dir, "out", []byte("x\n"))
			writeFile(t, dir, "in", []byte("in\n"))
			cmd := exec.Command(sh, "-c", script, "cat")
			cmd.Args[len(cmd.Args)-1] = prog
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "LC_ALL=C")
			if prog == mmcatBin {
				cmd.Env = append(cmd.Env, asMmcat)
			}
			var errb bytes.Buffer
			cmd.Stderr = &errb
			_ = cmd.Run()
			runs[i] = result{stderr: []byte(strings.ReplaceAll(errb.String(), prog+": ", "cat: ")), code: cmd.ProcessState.ExitCode()}
			files[i] = string(readFile(t, filepath.Join(dir, "out")))
		}
		sameAs(t, script, runs[1], runs[0])
		if files[0] != files[1] {
			t.Errorf("%s: out holds %q, with GNU cat %q", script, files[1], files[0])
		}
	}
}
