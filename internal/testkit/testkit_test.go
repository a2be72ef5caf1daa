package testkit_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	testkit.Serve(jobs)
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
