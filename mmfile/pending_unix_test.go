//go:build unix

package mmfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// holder is a child process with a Pending open; temp is the temporary
// file it writes, which it says first. A line "commit" commits it.
type holder struct {
	*testkit.Talker
	temp string
}

func startHolder(t *testing.T, path string) *holder {
	t.Helper()
	p, err := testkit.Talk(child("pending-hold", path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	temp, err := p.Line()
	if err != nil {
		t.Fatalf("the writer did not start: %v", err)
	}
	return &holder{p, temp}
}

// TestRemoveLeftoversOnlyLeftovers puts, beside a target, the temporary
// file of a writer that was killed, that of a writer still at work in
// another process, and files that only look like them: the user's own
// files of every similar shape, a file of another user, a symbolic link
// (to a file elsewhere), a directory and a FIFO. RemoveLeftovers removes
// the killed writer's file and nothing else, and the live writer commits.
func TestRemoveLeftoversOnlyLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "v")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	killed := startHolder(t, path)
	if err := killed.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = killed.Cmd.Wait()
	live := startHolder(t, path)
	if !strings.HasPrefix(filepath.Base(live.temp), ".v.mmfile-pending-") || filepath.Dir(live.temp) != dir {
		t.Errorf("temporary file %s is not named after the target with the marker", live.temp)
	}

	const hex = "0123456789abcdef"
	keep := []string{
		"v", filepath.Base(live.temp),
		".v1", ".v2024", ".v", "v1", ".v.bak", ".v~", "v.mmfile-pending-" + hex,
		".v.mmfile-pending-", ".v.mmfile-pending-0123", ".v.mmfile-pending-" + hex + "0",
		".v.mmfile-pending-0123456789ABCDEF", ".v.mmfile-pending-0123456789abcdeg",
		".vx.mmfile-pending-" + hex, "..v.mmfile-pending-" + hex,
	}
	for _, name := range keep[2:] {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("the user's"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	elsewhere := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(elsewhere, []byte("the user's"), 0o600); err != nil {
		t.Fatal(err)
	}
	special := map[string]func(string) error{
		"link": func(p string) error { return os.Symlink(elsewhere, p) },
		"dir":  func(p string) error { return os.Mkdir(p, 0o755) },
		"fifo": func(p string) error { return unix.Mkfifo(p, 0o600) },
	}
	if os.Geteuid() == 0 {
		special["other user"] = func(p string) error {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				return err
			}
			return os.Chown(p, 65534, 65534)
		}
	} else {
		t.Log("not root: no file of another user can be made to check that it is kept")
	}
	for what, make := range special {
		name := fmt.Sprintf(".v.mmfile-pending-%016x", len(keep)) // a leftover's shape
		if err := make(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		keep = append(keep, name)
	}

	removed, err := mmfile.RemoveLeftovers(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var leftover []string
	for _, e := range entries {
		if !slices.Contains(keep, e.Name()) {
			leftover = append(leftover, e.Name())
		}
	}
	if len(leftover) != 0 || len(removed) != 1 || !strings.HasPrefix(filepath.Base(removed[0]), ".v.mmfile-pending-") {
		t.Errorf("removed %v, left %v; want exactly the killed writer's file removed", removed, leftover)
	}
	slices.Sort(keep)
	assertOnly(t, dir, keep...)
	if b, err := os.ReadFile(elsewhere); err != nil || string(b) != "the user's" {
		t.Errorf("the symbolic link's target holds %q, %v", b, err)
	}

	if err := live.Say("commit"); err != nil {
		t.Fatal(err)
	}
	if err := live.Close(); err != nil {
		t.Fatalf("the live writer's Commit: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "from the child" {
		t.Errorf("target holds %q after the live writer's Commit", b)
	}
}

// TestRemoveLeftoversRacingWriters runs RemoveLeftovers in a loop while
// writers create, fill and commit new versions of the target: no file of
// a Pending is ever taken for a leftover, whatever the interleaving, so
// every Commit succeeds. (RemoveLeftovers may take a file that NewPending
// has created and not yet locked; NewPending then makes another.)
func TestRemoveLeftoversRacingWriters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "target")
	done := make(chan struct{})
	var removed []string
	removing := make(chan error, 1)
	go func() {
		for {
			select {
			case <-done:
				removing <- nil
				return
			default:
			}
			r, err := mmfile.RemoveLeftovers(path)
			if err != nil {
				removing <- err
				return
			}
			removed = append(removed, r...)
		}
	}()
	var mu sync.Mutex
	used := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				p, err := mmfile.NewPending(path, 0)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				used[p.Name()] = true
				mu.Unlock()
				if _, err := fmt.Fprintf(p, "writer %d version %d", w, i); err != nil {
					t.Error(err)
				}
				if err := p.CommitNoSync(); err != nil {
					t.Errorf("writer %d, version %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	if err := <-removing; err != nil {
		t.Fatal(err)
	}
	for _, r := range removed {
		if used[r] {
			t.Errorf("RemoveLeftovers removed %s, the file of a live Pending", r)
		}
	}
	t.Logf("%d Pendings, %d files removed before they were locked", len(used), len(removed))
	assertOnly(t, dir, "target")
}
