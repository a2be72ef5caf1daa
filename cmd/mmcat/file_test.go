//go:build unix

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// umask returns the process's file mode creation mask, which the commands
// it starts inherit.
func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

// TestOutputFile covers -o onto a file: a new file, a replaced one (which
// keeps its permissions), --mode, standard input, formatting, and a source
// that fails among good ones.
func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", []byte("alpha\n\n\n"))
	b := writeFile(t, dir, "b", randomBytes(100000))
	ab := append(readFile(t, a), readFile(t, b)...)

	out := filepath.Join(dir, "new")
	mustRun(t, nil, "-o", out, a, b)
	checkFile(t, out, ab, 0o666&^umask())

	if err := os.Chmod(out, 0o604); err != nil {
		t.Fatal(err)
	}
	mustRun(t, []byte("in\n"), "--output", out, "-", a)
	checkFile(t, out, []byte("in\nalpha\n\n\n"), 0o604)

	mustRun(t, nil, "--mode", "0640", "-sn", "-o", out, a, a)
	checkFile(t, out, gnuFormat(t, "-sn", a, a), 0o640)

	mustRun(t, nil, "--sync", "-o", out, b)
	checkFile(t, out, readFile(t, b), 0o640)

	moded := filepath.Join(dir, "moded")
	mustRun(t, nil, "--mode=600", "-o", moded, a)
	checkFile(t, moded, readFile(t, a), 0o600)
	mustRun(t, nil, "--mode", "0640", "-sn", "-o", out, a, a)

	r := mmcat(t, nil, "-o", out, a, filepath.Join(dir, "missing"), a)
	if r.code != 1 || !strings.Contains(string(r.stderr), "missing: No such file or directory") {
		t.Errorf("a missing source: exit %d, stderr %q", r.code, r.stderr)
	}
	checkFile(t, out, bytes.Repeat(readFile(t, a), 2), 0o640)
	checkNoTemp(t, dir)
}

// TestOutputOntoSource checks that -o onto a file that is also a SOURCE
// reads the old contents: the sources' mappings hold the old file and the
// new one replaces it only at the end.
func TestOutputOntoSource(t *testing.T) {
	dir := t.TempDir()
	old := randomBytes(3 << 20)
	f := writeFile(t, dir, "f", old)
	g := writeFile(t, dir, "g", []byte("tail\n"))
	mustRun(t, nil, "-o", f, f, g, f)
	want := append(append(append([]byte{}, old...), "tail\n"...), old...)
	checkFile(t, f, want, 0o644)

	text := writeFile(t, dir, "text", []byte("one\ntwo\n"))
	mustRun(t, nil, "-n", "-o", text, text)
	checkFile(t, text, []byte("     1\tone\n     2\ttwo\n"), 0o644)
	checkNoTemp(t, dir)
}

// TestOutputErrors covers destinations that cannot be made: the old file,
// if any, is left as it was.
func TestOutputErrors(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", []byte("a\n"))
	missing := filepath.Join(dir, "no", "such", "dir", "out")
	r := mmcat(t, nil, "-o", missing, a)
	if r.code != 1 || string(r.stderr) != "mmcat: "+missing+": No such file or directory\n" {
		t.Errorf("-o into a missing directory: exit %d, stderr %q", r.code, r.stderr)
	}
	r = mmcat(t, nil, "-o", dir, a)
	if r.code != 1 || !strings.HasPrefix(string(r.stderr), "mmcat: "+dir+": ") {
		t.Errorf("-o onto a directory: exit %d, stderr %q", r.code, r.stderr)
	}
	checkNoTemp(t, dir)
}

// TestProgress checks when the progress bar is drawn: never on a pipe
// unless forced, and never with --no-progress.
func TestProgress(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", randomBytes(1<<20))
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		bar  bool
	}{
		{[]string{"-o", out, a}, false},
		{[]string{"--progress", "-o", out, a}, true},
		{[]string{"--progress", "--no-progress", "-o", out, a}, false},
		{[]string{"--progress", a}, true},
	} {
		r := mmcat(t, nil, c.args...)
		if r.code != 0 {
			t.Fatalf("mmcat %q: exit %d: %s", c.args, r.code, r.stderr)
		}
		if bar := bytes.Contains(r.stderr, []byte("MB")); bar != c.bar {
			t.Errorf("mmcat %q: progress bar %v, want %v; stderr %q", c.args, bar, c.bar, r.stderr)
		}
	}
}

// checkFile fails unless path holds want with permissions perm.
func checkFile(t *testing.T, path string, want []byte, perm os.FileMode) {
	t.Helper()
	got := readFile(t, path)
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes, want %d:\n%s", path, len(got), len(want), diffReport(got, want))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != perm {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), perm)
	}
}

// checkNoTemp fails if a temporary file of the atomic replace was left in
// dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestOutputReplaceWhole replaces an existing DEST again and again while
// other goroutines keep looking it up and reading it by name: every look
// must find a file there, and every read the old one or the new one, whole, never a missing
// name or a mix. A file opened before a replace keeps its old contents,
// and the replaced file's name is gone after each run.
func TestOutputReplaceWhole(t *testing.T) {
	dir := t.TempDir()
	versions := [][]byte{bytes.Repeat([]byte("a"), 3<<20), bytes.Repeat([]byte("b"), 2<<20+17)}
	srcs := []string{writeFile(t, dir, "a", versions[0]), writeFile(t, dir, "b", versions[1])}
	dest := writeFile(t, dir, "dest", versions[0])
	stop := make(chan struct{})
	errs := make(chan error, 1)
	missing := make(chan error, 1)
	go func() {
		// A missing name lasts a moment: look as often as can be.
		defer close(missing)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := os.Lstat(dest); err != nil {
				missing <- err
				return
			}
		}
	}()
	reads := 0
	go func() {
		defer close(errs)
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := os.ReadFile(dest)
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
				errs <- fmt.Errorf("read %d bytes that are neither version (%q...)", len(got), got[:min(len(got), 8)])
				return
			}
			reads++
		}
	}()
	for i := range 20 {
		held, err := os.Open(dest)
		if err != nil {
			t.Fatal(err)
		}
		mustRun(t, nil, "-o", dest, srcs[(i+1)%2])
		got, err := io.ReadAll(held)
		_ = held.Close()
		if err != nil || !bytes.Equal(got, versions[i%2]) {
			t.Errorf("run %d: a file opened before the replace reads %d bytes (%v), not its old contents", i, len(got), err)
		}
		checkNoTemp(t, dir)
	}
	close(stop)
	if err := <-errs; err != nil {
		t.Errorf("a reader of DEST during the replaces: %v", err)
	}
	if err := <-missing; err != nil {
		t.Errorf("DEST during the replaces: %v", err)
	}
	t.Logf("%d whole reads during 20 replaces", reads)
}
