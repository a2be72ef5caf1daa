//go:build !windows

package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// OpenHandles counts this process's descriptors and mappings of path,
// from /proc/self: only the file's, so that descriptors that other tests
// open or leak in the meantime do not count. It skips the test where
// there is no /proc. (On Windows it tells whether path is open at all.)
func OpenHandles(t testing.TB, path string) int {
	t.Helper()
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count descriptors: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && target == real {
			n++
		}
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps to count mappings: %v", err)
	}
	for line := range strings.Lines(string(maps)) {
		if strings.HasSuffix(strings.TrimSuffix(line, "\n"), " "+real) {
			n++
		}
	}
	return n
}
