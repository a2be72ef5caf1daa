package mmfile_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// versionContent is one of two whole versions of a file, of different
// sizes and bytes, so that any mix of them is detectable.
func versionContent(v int) []byte {
	if v == 0 {
		return bytes.Repeat([]byte("old version\n"), 3000)
	}
	return bytes.Repeat([]byte("NEW VERSION, LONGER\n"), 5000)
}

func TestPendingCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	p, err := mmfile.NewPending(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Cleanup()
	if _, err := p.WriteAt([]byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write([]byte("new!")); err != nil { // grows past the size given
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("target changed before Commit: %q", got)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "new!" {
		t.Fatalf("target holds %q after Commit", got)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
			t.Errorf("permissions %v after replace; want 0640 kept", fi.Mode().Perm())
		}
	}
	if err := p.Commit(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Commit = %v", err)
	}
	if err := p.Cleanup(); err != nil {
		t.Errorf("Cleanup after Commit = %v", err)
	}
	assertOnly(t, dir, "target")
}

func TestPendingCommitNoSync(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := mmfile.NewPending(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Cleanup()
	copy(p.Bytes(), "fresh")
	if err := p.CommitNoSync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "fresh" {
		t.Fatalf("target holds %q", got)
	}
	if err := p.CommitNoSync(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second CommitNoSync = %v", err)
	}
	if err := p.Cleanup(); err != nil {
		t.Errorf("Cleanup after CommitNoSync = %v", err)
	}
	assertOnly(t, dir, "target")
}

func TestPendingCleanup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	p, err := mmfile.NewPending(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WriteAt([]byte("discarded"), 0); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(); err != nil {
		t.Fatalf("second Cleanup = %v", err)
	}
	assertOnly(t, dir)
	if err := p.Commit(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Commit after Cleanup = %v", err)
	}
}

// TestPendingCloseDiscards closes a Pending as an io.WriteCloser, after
// io.Copy, as code that does not know it is a Pending would: the new
// version is discarded, the target keeps its contents, and Close says so
// with an error naming the target. Close after Commit or Cleanup has
// nothing to discard and returns nil.
func TestPendingCloseDiscards(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := mmfile.NewPending(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	var w io.WriteCloser = p
	if _, err := io.Copy(w, strings.NewReader("new contents")); err != nil {
		t.Fatal(err)
	}
	err = w.Close()
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != path || !strings.Contains(err.Error(), "without Commit") {
		t.Errorf("Close before Commit = %v; want an error naming %s that says the version is discarded", err, path)
	}
	assertOnly(t, dir, "target")
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("target holds %q after Close; want it unchanged", b)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v; want nil, nothing left to discard", err)
	}
	for name, end := range map[string]func(*mmfile.Pending) error{"Commit": (*mmfile.Pending).Commit, "Cleanup": (*mmfile.Pending).Cleanup} {
		p, err := mmfile.NewPending(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := end(p); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("Close after %s = %v; want nil", name, err)
		}
	}
	assertOnly(t, dir, "target")
}

func TestPendingBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := mmfile.NewPending(dir, 1); !errors.Is(err, mmfile.ErrNotRegular) {
		t.Errorf("replacing a directory = %v", err)
	}
	if _, err := mmfile.NewPending(filepath.Join(dir, "missing", "f"), 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("replacing in a missing directory = %v", err)
	}
	if _, err := mmfile.NewPending(filepath.Join(dir, "f"), -5); err == nil || !strings.Contains(err.Error(), "negative size -5") {
		t.Errorf("negative size = %v", err)
	}
	assertOnly(t, dir)
}

// TestReplaceCrash kills a process in the middle of atomic replaces, many
// times: the target always holds one whole version.
func TestReplaceCrash(t *testing.T) {
	// On Windows the replace is MoveFileEx(MOVEFILE_REPLACE_EXISTING), one
	// call that a killed process cannot leave half done, so this holds
	// there too; what Windows does not promise is that the rename is
	// atomic across a power loss, which no test here provokes.
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.WriteFile(path, versionContent(0), 0o644); err != nil {
		t.Fatal(err)
	}
	rounds := testkit.EnvInt("MMAPKIT_CRASH_ROUNDS", 20) // the fault suite runs hundreds
	for round := range rounds {
		cmd := child("replace-loop", path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child did not start: %q, %v", line, err)
		}
		time.Sleep(time.Duration(round%7) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !bytes.Equal(got, versionContent(0)) && !bytes.Equal(got, versionContent(1)) {
			t.Fatalf("round %d: target holds a mix (%d bytes)", round, len(got))
		}
	}
	// Killed mid-write, a child may leave its temporary file: it is named
	// after the target, so RemoveLeftovers finds and removes it.
	removed, err := mmfile.RemoveLeftovers(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rounds, %d temporary files left by killed writers", rounds, len(removed))
	assertOnly(t, dir, "target")
}

// TestRemoveLeftoversWhilePending removes leftovers while a Pending for
// the target is open in this process: its temporary file is in use, so it
// stays, and the Pending commits.
func TestRemoveLeftoversWhilePending(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	if err := os.WriteFile(path, versionContent(0), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := mmfile.NewPending(path, int64(len(versionContent(1))))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Cleanup()
	if _, err := p.WriteAt(versionContent(1), 0); err != nil {
		t.Fatal(err)
	}
	removed, err := mmfile.RemoveLeftovers(path)
	if err != nil || len(removed) != 0 {
		t.Fatalf("RemoveLeftovers with a Pending open = %v, %v; want its temporary file kept", removed, err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, versionContent(1)) {
		t.Fatalf("target holds %d bytes, not the new version", len(got))
	}
	assertOnly(t, dir, "target")
}

// pendingHold is a child's job: it starts a new version of path, prints
// the temporary file's name, and commits when a line comes on stdin.
func pendingHold(path string) error {
	p, err := mmfile.NewPending(path, 0)
	if err != nil {
		return err
	}
	if _, err := p.Write([]byte("from the child")); err != nil {
		return err
	}
	fmt.Println(p.Name())
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	return p.Commit()
}

// assertOnly checks that dir holds exactly the named files.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v; want %v", got, names)
	}
}
