package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedDir returns a directory of t.TempDir that every user can enter:
// it and its parent (the test's, which t.TempDir makes 0700) are 0755.
func SharedDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
