package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestOutputAnyOS covers -o FILE where every platform can: a new file, a
// replaced one, --in-place, and a source that is DEST, which the replace
// reads as it was and --in-place, as cat > DEST, truncates first.
func TestOutputAnyOS(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", randomBytes(100000))
	b := writeFile(t, dir, "b", []byte("b\n"))
	ab := append(readFile(t, a), readFile(t, b)...)
	out := filepath.Join(dir, "out")
	mustRun(t, nil, "-o", out, a, b)
	if got := readFile(t, out); !bytes.Equal(got, ab) {
		t.Errorf("new file: %d bytes, want %d", len(got), len(ab))
	}
	mustRun(t, nil, "-o", out, b)
	if got := readFile(t, out); string(got) != "b\n" {
		t.Errorf("replaced file: %q", got)
	}
	mustRun(t, nil, "-o", out, out, a)
	if got := readFile(t, out); !bytes.Equal(got, append([]byte("b\n"), readFile(t, a)...)) {
		t.Errorf("onto a SOURCE: %d bytes", len(got))
	}
	mustRun(t, nil, "--in-place", "-o", out, b, b)
	if got := readFile(t, out); string(got) != "b\nb\n" {
		t.Errorf("--in-place: %q", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("left in the directory: %v", ents)
	}
}
