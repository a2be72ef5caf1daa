package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// mmcatBin is the command under test: this test binary, which runs as
// mmcat when testkit.JobEnv names mmcatJob, so the tests need no toolchain
// at run time (and run under Wine, which has none).
var mmcatBin string

// asMmcat, in a command's environment, makes the test binary run as mmcat.
const asMmcat = testkit.JobEnv + "=" + mmcatJob

const mmcatJob = "mmcat"

// shrinkBeforeMapEnv, set to a size for a command run as mmcat, truncates
// each file to that size between mmcat's size check and its mapping.
const shrinkBeforeMapEnv = "MMCAT_TEST_SHRINK_BEFORE_MAP"

// jobs are what the test binary does as another process: run as mmcat.
// testkit.FDProbe describes a descriptor as a program finds it at start.
var jobs = testkit.Jobs{mmcatJob: testkit.MainJob(mmcatMain)}

func TestMain(m *testing.M) {
	noCoreDumps()
	testkit.Serve(jobs, testkit.FDProbe)
	mmcatBin = os.Args[0]
	os.Exit(m.Run())
}

// mmcatMain is mmcat's main, with the switches of the tests applied.
func mmcatMain() int {
	if err := commandSetup(); err != nil {
		os.Stderr.WriteString("mmcat test setup: " + err.Error() + "\n")
		return 125
	}
	if v := os.Getenv(shrinkBeforeMapEnv); v != "" {
		size, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			panic(err)
		}
		beforeMap = func(path string) {
			if err := os.Truncate(path, size); err != nil {
				panic(err)
			}
		}
	}
	setRangeSeam()
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// command returns the command that runs name with args in the C locale;
// for mmcatBin, the test binary told to act as mmcat, invoked by the name
// "mmcat" (argv[0], which names it in its messages). (The switch is not
// set in this process's environment: the fuzzer's workers, which are this
// binary too, must stay test binaries.)
func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if name == mmcatBin {
		cmd.Env = append(cmd.Env, asMmcat)
		cmd.Args[0] = "mmcat"
	}
	return cmd
}

// result is what a run of a command left.
type result struct {
	stdout, stderr []byte
	code           int
}

// runCmd runs name with args, feeding stdin (nil: none), in the C locale.
func runCmd(tb testing.TB, stdin io.Reader, name string, args ...string) result {
	tb.Helper()
	cmd := command(name, args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := testkit.Run(tb, cmd)
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		tb.Fatalf("%s %q: %v", name, args, err)
	}
	return result{stdout: out.Bytes(), stderr: errb.Bytes(), code: code}
}

// mmcat runs the command under test.
func mmcat(tb testing.TB, stdin io.Reader, args ...string) result {
	tb.Helper()
	return runCmd(tb, stdin, mmcatBin, args...)
}

// gnu runs GNU cat.
func gnu(tb testing.TB, stdin io.Reader, args ...string) result {
	tb.Helper()
	return runCmd(tb, stdin, gnuCatPath, args...)
}

// sameAsGNU runs mmcat and GNU cat with the same arguments and input and
// fails unless standard output and exit status agree, and standard error
// does too once the program names are aligned.
func sameAsGNU(t *testing.T, stdin []byte, args ...string) {
	t.Helper()
	var in1, in2 io.Reader
	if stdin != nil {
		in1, in2 = bytes.NewReader(stdin), bytes.NewReader(stdin)
	}
	got, want := mmcat(t, in1, args...), gnu(t, in2, args...)
	if !bytes.Equal(got.stdout, want.stdout) {
		t.Errorf("mmcat %q: stdout differs from GNU cat:\n%s", args, diffReport(got.stdout, want.stdout))
	}
	if got.code != want.code {
		t.Errorf("mmcat %q: exit %d, GNU cat %d (stderr %q)", args, got.code, want.code, got.stderr)
	}
	// GNU cat names itself by argv[0].
	wantErr := strings.ReplaceAll(string(want.stderr), gnuCatPath+": ", "mmcat: ")
	if string(got.stderr) != wantErr {
		t.Errorf("mmcat %q: stderr\n%q\nGNU cat's\n%q", args, got.stderr, wantErr)
	}
}

// writeFile writes b to name in dir and returns its path.
func writeFile(tb testing.TB, dir, name string, b []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// repoTestdata lists the shared test files of the repository.
func repoTestdata(tb testing.TB) []string {
	tb.Helper()
	names := []string{"bytes.bin", "empty", "hello.txt", "lines.txt", "words.txt"}
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join("..", "..", "testdata", n)
		if _, err := os.Stat(paths[i]); err != nil {
			tb.Fatal(err)
		}
	}
	return paths
}

// generatedFiles writes the edge-case inputs and returns their paths by
// name.
func generatedFiles(tb testing.TB) map[string]string {
	tb.Helper()
	dir := tb.TempDir()
	long := bytes.Repeat([]byte("0123456789abcdef\tlong line "), 12000) // > 300 KiB, no newline until the end
	long = append(long, '\n')
	files := map[string][]byte{
		"empty":      nil,
		"one byte":   []byte("x"),
		"no newline": []byte("last line without newline\tend"),
		"long lines": append(append([]byte{}, long...), long[:70000]...),
		"all bytes":  append(allBytes(), append([]byte{'\n'}, allBytes()...)...),
		"crlf":       []byte("a\r\nb\r\n\r\n\r\nc\rd\r"),
		"blank runs": []byte("\n\n\na\n\n\n\nb\n\n\t\n\n\n"),
		"text":       textSample(40000, 7),
	}
	paths := make(map[string]string, len(files))
	for name, b := range files {
		paths[name] = writeFile(tb, dir, strings.ReplaceAll(name, " ", "-"), b)
	}
	return paths
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// mustRun runs mmcat and fails unless it exits 0 without messages.
func mustRun(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	var in *bytes.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	var r result
	if in != nil {
		r = mmcat(t, in, args...)
	} else {
		r = mmcat(t, nil, args...)
	}
	if r.code != 0 || len(r.stderr) != 0 {
		t.Fatalf("mmcat %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	return r.stdout
}

// readFile returns the contents of path.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gnuFormat is GNU cat's output for flags over the files; without GNU cat
// the test is skipped.
func gnuFormat(t *testing.T, flags string, files ...string) []byte {
	t.Helper()
	requireGNUCat(t)
	r := gnu(t, nil, append([]string{flags}, files...)...)
	if r.code != 0 {
		t.Fatalf("GNU cat %s: exit %d: %s", flags, r.code, r.stderr)
	}
	return r.stdout
}
