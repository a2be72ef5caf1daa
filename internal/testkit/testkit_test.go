package testkit_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

var jobs = testkit.Jobs{
	"echo": func() error {
		fmt.Print(os.Getenv("TESTKIT_WORD"))
		return nil
	},
	"fail": func() error { return errors.New("asked to fail") },
	// main stands in for a command that exits with status 3.
	"main": testkit.MainJob(func() int {
		fmt.Print(strings.Join(os.Args[1:], " "))
		return 3
	}),
	// talk says ready, then answers every line it reads until the end of
	// its input; "fail" makes it fail, saying why on stderr.
	"talk": func() error {
		fmt.Println("ready")
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "fail" {
				return errors.New("asked to fail")
			}
			fmt.Println("got " + sc.Text())
		}
		return sc.Err()
	},
	// slot writes its slot of the file TESTKIT_PATH.
	"slot": func() error {
		slot, span, round, err := testkit.SlotFromEnv()
		if err != nil {
			return err
		}
		f, err := os.OpenFile(os.Getenv("TESTKIT_PATH"), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		return testkit.WriteSlot(f, slot, span, round)
	},
}

func TestMain(m *testing.M) {
	testkit.Serve(jobs, testkit.FDProbe)
	os.Exit(m.Run())
}

// TestJobs runs the test binary as another process: a job's output comes
// back, its error is exit status 1 with the job named on stderr, and an
// unknown job is exit status 2.
func TestJobs(t *testing.T) {
	if got := testkit.Output(t, testkit.Command("echo", "TESTKIT_WORD=hello")); got != "hello" {
		t.Errorf("echo said %q; want hello", got)
	}
	for job, want := range map[string]struct {
		code int
		msg  string
	}{"fail": {1, "job fail: asked to fail"}, "nope": {2, `unknown job "nope"`}} {
		out, err := testkit.Command(job).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != want.code || !strings.Contains(string(out), want.msg) {
			t.Errorf("job %s: %v, %q; want exit status %d saying %q", job, err, out, want.code, want.msg)
		}
	}
	err := testkit.RunAll([]*exec.Cmd{testkit.Command("echo"), testkit.Command("fail"), testkit.Command("echo")})
	if err == nil || !strings.Contains(err.Error(), "job fail: exit status 1") {
		t.Errorf("RunAll with a failing job = %v; want the failure named", err)
	}
	if err := testkit.RunAll([]*exec.Cmd{testkit.Command("echo"), testkit.Command("echo")}); err != nil {
		t.Errorf("RunAll of jobs that succeed = %v", err)
	}
}

// TestSlots has processes write their slots of one file and checks them
// through os.File; a changed byte is found.
func TestSlots(t *testing.T) {
	const writers, span, round = 3, 2048, 4
	path := filepath.Join(t.TempDir(), "slots")
	if err := os.WriteFile(path, make([]byte, writers*span), 0o600); err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		testkit.Output(t, testkit.Command("slot", append(testkit.SlotEnv(w, span, round), "TESTKIT_PATH="+path)...))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testkit.CheckSlots(f, writers, span, round); err != nil {
		t.Fatal(err)
	}
	if err := testkit.CheckSlots(f, writers, span, round+1); err == nil || !strings.Contains(err.Error(), "slot 0") {
		t.Errorf("slots of another round pass: %v", err)
	}
	if _, err := f.WriteAt([]byte{0}, span+7); err != nil {
		t.Fatal(err)
	}
	if err := testkit.CheckSlots(f, writers, span, round); err == nil || !strings.Contains(err.Error(), "slot 1") {
		t.Errorf("a changed byte of slot 1 gives %v", err)
	}
}

// TestPatterns checks the properties the tests rely on: Pattern differs
// at every offset within a page, TextPattern holds no NUL and depends on
// its seed.
func TestPatterns(t *testing.T) {
	p := testkit.Pattern(4096)
	seen := map[[2]byte]bool{}
	for i := 0; i+1 < len(p); i += 2 {
		seen[[2]byte{p[i], p[i+1]}] = true
	}
	if len(seen) < 256 {
		t.Errorf("Pattern repeats within a page: %d distinct pairs", len(seen))
	}
	a, b := testkit.TextPattern(10000, 1), testkit.TextPattern(10000, 2)
	if strings.ContainsRune(string(a), 0) || string(a) == string(b) {
		t.Errorf("TextPattern holds a NUL or ignores its seed")
	}
}

// TestMainJob runs a job that stands in for a command: its arguments and
// exit status are the command's.
func TestMainJob(t *testing.T) {
	cmd := exec.Command(os.Args[0], "a", "b")
	cmd.Env = testkit.JobEnviron("main")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || string(out) != "a b" {
		t.Errorf("main job: %v, %q; want exit status 3 saying \"a b\"", err, out)
	}
	if err := testkit.Run(t, testkit.Command("echo")); err != nil {
		t.Errorf("Run of a job that succeeds = %v", err)
	}
	if err := testkit.Run(t, testkit.Command("fail")); err == nil {
		t.Error("Run of a job that fails = nil")
	}
}

// TestTalker talks to a child line by line; its failure comes with what
// it said on stderr.
func TestTalker(t *testing.T) {
	p, err := testkit.Talk(testkit.Command("talk"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := p.Expect("ready"); err != nil {
		t.Fatal(err)
	}
	if err := p.Say("x %d", 1); err != nil {
		t.Fatal(err)
	}
	if line, err := p.Line(); line != "got x 1" || err != nil {
		t.Errorf("answer %q, %v; want \"got x 1\"", line, err)
	}
	_ = p.Say("y")
	if err := p.Expect("got z"); err == nil || !strings.Contains(err.Error(), `said "got y", not "got z"`) {
		t.Errorf("Expect of the wrong line = %v", err)
	}
	if p.Cmd.ProcessState == nil {
		t.Error("a child that said the wrong line still runs")
	}

	p, err = testkit.Talk(testkit.Command("talk"))
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Expect("ready")
	_ = p.Say("fail")
	if _, err := p.Line(); err == nil || !strings.Contains(err.Error(), "job talk: asked to fail") {
		t.Errorf("Line from a child that failed = %v; want its stderr", err)
	}

	p, err = testkit.Talk(testkit.Command("talk"))
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(p.Expect("ready"), p.Close(), p.Close()); err != nil {
		t.Errorf("a child whose input ends: %v", err)
	}
}

// TestFDProbe has the probe describe descriptors it inherited: a file
// open for reading and one open for writing, as fd 0 and 1.
func TestFDProbe(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("windows: a child inherits handles, not descriptors 0-2 that fstat describes")
	}
	if _, err := os.Stat("/proc/self/fdinfo"); err != nil {
		t.Skipf("no /proc/self/fdinfo: %v", err)
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	for fd, flag := range map[int]int{0: os.O_RDONLY, 1: os.O_WRONLY} {
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), testkit.ProbeFDEnv(fd)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if fd == 0 {
			cmd.Stdin = f
		} else {
			cmd.Stdout = f
		}
		err = cmd.Run()
		f.Close()
		if got := stderr.String(); err != nil || !strings.Contains(got, fmt.Sprintf("link %q", path)) ||
			!strings.Contains(got, "flags:") || !strings.Contains(got, "size 5") {
			t.Errorf("probe of fd %d: %v\n%s", fd, err, got)
		}
	}
}

// TestSharedDir checks the modes that let another user in.
func TestSharedDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("windows: no Unix permission bits; a directory reports mode 0777")
	}
	d := testkit.SharedDir(t)
	for _, p := range []string{d, filepath.Dir(d)} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want mode 0755", p, fi.Mode(), err)
		}
	}
}
