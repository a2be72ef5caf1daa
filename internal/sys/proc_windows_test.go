package sys

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"testing"
	"time"
)

// procUnsupported adds nothing: Windows has the process calls (see
// TestProcWindows).
func procUnsupported(map[string]error) {}

// TestProcWindows checks the process calls against a real child: its
// handle waits for its exit, its creation time stays put while it runs
// and differs from ours, and a pid with no process is fs.ErrNotExist.
func TestProcWindows(t *testing.T) {
	if os.Getenv("MMAPKIT_SYS_CHILD") != "" {
		time.Sleep(time.Hour)
		return
	}
	self, state, err := ProcStat(os.Getpid())
	if err != nil || self == 0 || state != 'R' {
		t.Fatalf("ProcStat(self) = %d, %q, %v; want a start time, 'R'", self, state, err)
	}
	if ns, err := PidNamespace(); ns != 0 || err != nil {
		t.Errorf("PidNamespace() = %d, %v; want 0, nil", ns, err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcWindows$")
	cmd.Env = append(os.Environ(), "MMAPKIT_SYS_CHILD=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	start, state, err := ProcStat(pid)
	if err != nil || start == 0 || state != 'R' {
		t.Fatalf("ProcStat(child) = %d, %q, %v; want a start time, 'R'", start, state, err)
	}
	if start < self {
		t.Errorf("child started at %d, before its parent (%d)", start, self)
	}
	if again, _, _ := ProcStat(pid); again != start {
		t.Errorf("child's start time moved from %d to %d", start, again)
	}
	p, err := OpenPidfd(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v while the child runs", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Wait after the kill: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Wait did not return a minute after the child was killed")
	}
	cmd.Wait()
	// The pid is free now, or some other process's.
	if s, st, err := ProcStat(pid); err == nil && s == start && st != 'X' {
		t.Errorf("ProcStat(dead child) = %d, %q: the same process, not exited", s, st)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ProcStat(dead child): %v, want an error wrapping fs.ErrNotExist", err)
	}
}

// TestPidfdCloseEndsWait: Close ends a Wait in progress with fs.ErrClosed.
func TestPidfdCloseEndsWait(t *testing.T) {
	p, err := OpenPidfd(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	time.Sleep(50 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Wait after Close: %v, want fs.ErrClosed", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Close did not end the Wait")
	}
	if err := p.Wait(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Wait after Close: %v, want fs.ErrClosed", err)
	}
	if _, err := OpenPidfd(-5); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenPidfd(-5): %v, want fs.ErrNotExist", err)
	}
}
