//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// compatOptions are the option arguments compared with GNU cat: every
// letter alone, the composites, combined short options in several orders,
// and every long form.
var compatOptions = [][]string{
	nil,
	{"-A"}, {"-b"}, {"-e"}, {"-E"}, {"-n"}, {"-s"}, {"-t"}, {"-T"}, {"-u"}, {"-v"},
	{"-nE"}, {"-bn"}, {"-nb"}, {"-sn"}, {"-vET"}, {"-Abs"}, {"-tb"}, {"-en"}, {"-s", "-E", "-T"},
	{"--show-all"}, {"--number-nonblank"}, {"--show-ends"}, {"--number"},
	{"--squeeze-blank"}, {"--show-tabs"}, {"--show-nonprinting"},
	{"--number", "--squeeze-blank", "-T"},
}

// TestCompatGNU compares output and exit status with GNU cat for each
// option set, over the repository's testdata, over generated edge cases
// one by one, and over all of them in one invocation (numbering and -s
// carry across files).
func TestCompatGNU(t *testing.T) {
	requireGNUCat(t)
	td := repoTestdata(t)
	gen := generatedFiles(t)
	var all []string
	inputs := map[string][]string{"testdata": td}
	for name, p := range gen {
		inputs[name] = []string{p}
		all = append(all, p)
	}
	inputs["all generated"] = append(all, td...)
	inputs["crlf then no newline"] = []string{gen["crlf"], gen["no newline"], gen["blank runs"], gen["crlf"]}
	for name, files := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, opts := range compatOptions {
				sameAsGNU(t, nil, append(append([]string{}, opts...), files...)...)
			}
		})
	}
}

// TestCompatStdin covers "-" and the default of no SOURCE, alone and between
// files, with and without formatting.
func TestCompatStdin(t *testing.T) {
	requireGNUCat(t)
	gen := generatedFiles(t)
	in := []byte("from stdin\n\n\n\twith tabs\r\nand no newline")
	for _, args := range [][]string{
		nil, {"-"}, {"-n"}, {"-A", "-"},
		{gen["blank runs"], "-", gen["crlf"]},
		{"-sn", gen["blank runs"], "-", gen["blank runs"]},
		{"-E", gen["crlf"], "-"},
		{"--", "-"},
	} {
		sameAsGNU(t, in, args...)
	}
}

// TestCompatStreams covers sources that cannot be mapped and are read:
// a FIFO, a file of /proc (size 0 but not empty) and a character device.
func TestCompatStreams(t *testing.T) {
	requireGNUCat(t)
	if _, err := os.Stat("/proc/version"); err != nil {
		t.Skip("no /proc/version:", err)
	}
	for _, args := range [][]string{
		{"/proc/version"}, {"-n", "/proc/version"}, {"-A", "/proc/version", "/proc/version"},
		{"/dev/null"}, {"-n", "/dev/null", "/proc/version"},
	} {
		sameAsGNU(t, nil, args...)
	}

	// A FIFO, fed by a writer; both commands read the same bytes.
	data := textSample(200000, 11)
	for _, opts := range [][]string{nil, {"-n"}, {"-vE"}} {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("the temporary directory cannot hold a FIFO:", err)
		}
		feed := func() {
			go func() {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				defer f.Close()
				_, _ = f.Write(data)
			}()
		}
		feed()
		got := mmcat(t, nil, append(opts, fifo)...)
		feed()
		want := gnu(t, nil, append(opts, fifo)...)
		if !bytes.Equal(got.stdout, want.stdout) || got.code != want.code {
			t.Errorf("FIFO %q: exit %d vs %d, stderr %q:\n%s", opts, got.code, want.code, got.stderr, diffReport(got.stdout, want.stdout))
		}
	}

	// A pipe on standard input.
	sameAsGNU(t, data, "-b", "-")
}

// TestCompatFailures covers sources GNU cat reports: a missing file among
// good ones (the others are copied), a directory, and a file that is also
// standard output.
func TestCompatFailures(t *testing.T) {
	requireGNUCat(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good", []byte("good\n"))
	missing := filepath.Join(dir, "missing")
	for _, args := range [][]string{
		{good, missing, good},
		{"-n", missing, good, dir, good},
		{dir},
	} {
		sameAsGNU(t, nil, args...)
	}

	// Standard output appending to one of the inputs.
	for _, prog := range []string{gnuCatPath, mmcatBin} {
		same := writeFile(t, dir, "same", []byte("keep me\n"))
		out, err := os.OpenFile(same, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := command(prog, good, same, good)
		cmd.Stdout = out
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err = cmd.Run()
		out.Close()
		code := cmd.ProcessState.ExitCode()
		b, _ := os.ReadFile(same)
		want := "keep me\ngood\ngood\n"
		name := prog // GNU cat names itself by argv[0]
		if prog == mmcatBin {
			name = "mmcat"
		}
		msg := name + ": " + same + ": input file is output file\n"
		if code != 1 || string(b) != want || stderr.String() != msg {
			t.Errorf("%s with stdout appending to an input: exit %d (%v), file %q, stderr %q; want 1, %q, %q",
				prog, code, err, b, stderr.String(), want, msg)
		}
	}
}

// TestUsage covers usage errors, --help and --version.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-x"}, {"--bogus"}, {"--offset", "12Q"}, {"--length", "-1"}, {"--mode", "999", "-o", "x"}, {"-o"}, {"-o", "sysv-id:1"}} {
		r := mmcat(t, nil, args...)
		if r.code != 1 || !strings.HasSuffix(string(r.stderr), "Try 'mmcat --help' for more information.\n") ||
			strings.Count(string(r.stderr), "\n") != 2 || len(r.stdout) != 0 {
			t.Errorf("mmcat %q: exit %d, stdout %q, stderr %q; want 1 and a hint", args, r.code, r.stdout, r.stderr)
		}
	}
	r := mmcat(t, nil, "--help")
	if r.code != 0 || !bytes.Contains(r.stdout, []byte("Usage: mmcat [OPTION]... [SOURCE]...")) || !bytes.Contains(r.stdout, []byte("Examples:")) {
		t.Errorf("--help: exit %d, %q", r.code, r.stdout)
	}
	if h := mmcat(t, nil, "-h"); !bytes.Equal(h.stdout, r.stdout) {
		t.Error("-h and --help differ")
	}
	r = mmcat(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(string(r.stdout), "mmcat (mmapkit) ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}

// TestCompatWriteErrors compares failures to write: a full device (exit 1,
// "write error") and a reader that goes away (death by SIGPIPE, mapped
// sources included).
func TestCompatWriteErrors(t *testing.T) {
	requireGNUCat(t)
	full := devFull(t)
	big := writeFile(t, t.TempDir(), "big", bytes.Repeat([]byte("0123456789abcdef\n"), 1<<17))
	for _, args := range [][]string{{big}, {"-n", big}, {"-"}, {"/dev/zero"}, {"-n", "/dev/zero"}} {
		var status [2]string
		for i, prog := range []string{gnuCatPath, mmcatBin} {
			cmd := command(prog, args...)
			in, err := os.Open(big)
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdin, cmd.Stdout = in, full
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			_ = cmd.Run()
			in.Close()
			msg := strings.Replace(stderr.String(), prog+": ", "", 1)
			msg = strings.Replace(msg, "mmcat: ", "", 1)
			status[i] = cmd.ProcessState.String() + ": " + msg
		}
		if status[0] != status[1] {
			t.Errorf("%q onto /dev/full: GNU cat %q, mmcat %q", args, status[0], status[1])
		}

		// A reader that closes the pipe early.
		for i, prog := range []string{gnuCatPath, mmcatBin} {
			cmd := command(prog, args...)
			in, err := os.Open(big)
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdin = in
			r, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			_, _ = r.Read(make([]byte, 10))
			r.Close()
			_ = cmd.Wait()
			in.Close()
			status[i] = cmd.ProcessState.String()
		}
		if status[0] != status[1] {
			t.Errorf("%q into a closed pipe: GNU cat %q, mmcat %q", args, status[0], status[1])
		}
	}
}
