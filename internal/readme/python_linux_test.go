package readme

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/shm"
)

// pythonLine is how the README shows Python reading a Go segment: a
// program for python3 -c, given the segment's name as its argument.
var pythonLine = regexp.MustCompile(`python3 -c '([^']+)' NAME`)

// unregister is the statement of the README's Python line that keeps
// Python's resource tracker from removing the segment.
const unregister = `rt.unregister(m._name, "shared_memory"); `

// readmePython returns the Python program of the README, or skips when
// the machine has no python3.
func readmePython(t *testing.T) (python, prog string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := pythonLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("README.md shows no line %s", pythonLine)
	}
	python, err = exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3")
	}
	return python, string(m[1])
}

// goSegment makes a segment holding "hello", removed when the test ends.
func goSegment(t *testing.T) string {
	t.Helper()
	s, err := shm.CreateUnique("mmapkit-readme-", 4096)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = shm.Unlink(s.Name())
		s.Close()
	})
	if _, err := s.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	return s.Name()
}

// runPython runs prog with the argument name. Its stderr is a pipe, so
// Run returns only once Python's resource tracker, which inherits it,
// has exited too: whatever the tracker removes is gone by then.
func runPython(t *testing.T, python, prog, name string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errs bytes.Buffer
	cmd := exec.Command(python, "-c", prog, name)
	cmd.Stdout, cmd.Stderr = &out, &errs
	err = cmd.Run()
	return out.String(), errs.String(), err
}

// exists reports whether the segment name is still there.
func exists(t *testing.T, name string) bool {
	t.Helper()
	s, err := shm.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return true
}

// TestPythonLineReadsGoSegment runs the README's Python line against a
// segment that Go made: it prints the bytes, says nothing on stderr, and
// leaves the segment in place.
func TestPythonLineReadsGoSegment(t *testing.T) {
	python, prog := readmePython(t)
	name := goSegment(t)
	out, errs, err := runPython(t, python, prog, name)
	if err != nil || out != "b'hello'\n" || errs != "" {
		t.Fatalf("python3 -c %q %s: %v; stdout %q, stderr %q; want stdout \"b'hello'\\n\" and no error", prog, name, err, out, errs)
	}
	if !exists(t, name) {
		t.Fatalf("the segment %s is gone after Python read it", name)
	}
}

// TestPythonRemovesWhatItOnlyAttached checks what the README says of the
// unregister call: without it, Python's resource tracker removes the
// segment that Python only attached, when Python exits.
func TestPythonRemovesWhatItOnlyAttached(t *testing.T) {
	python, prog := readmePython(t)
	if strings.Count(prog, unregister) != 1 {
		t.Fatalf("the README's Python line %q does not have the statement %q once", prog, unregister)
	}
	name := goSegment(t)
	out, errs, err := runPython(t, python, strings.Replace(prog, unregister, "", 1), name)
	if err != nil || out != "b'hello'\n" {
		t.Fatalf("python3 without the unregister call: %v; stdout %q, stderr %q", err, out, errs)
	}
	if exists(t, name) {
		t.Fatalf("the segment %s outlived a Python that attached it without unregistering it (stderr %q); the README says it does not", name, errs)
	}
	if !strings.Contains(errs, "leaked shared_memory objects") {
		t.Errorf("Python said %q on stderr; the README says it warns of leaked shared_memory objects", errs)
	}
}

// TestPythonOneExpression checks what the README says of the shortest
// form, bytes(SharedMemory(name).buf[:5]): it fails with a ValueError.
func TestPythonOneExpression(t *testing.T) {
	python, _ := readmePython(t)
	name := goSegment(t)
	const prog = `import sys; from multiprocessing import shared_memory; print(bytes(shared_memory.SharedMemory(sys.argv[1]).buf[:5]))`
	out, errs, err := runPython(t, python, prog, name)
	const want = "ValueError: operation forbidden on released memoryview object"
	if err == nil || !strings.Contains(errs, want) {
		t.Fatalf("python3 -c %q: %v; stdout %q, stderr %q; want a failure with %q", prog, err, out, errs, want)
	}
}
