package testkit

import (
	"bytes"
	"os"
	"testing"
)

// FDs returns the number of open descriptors of this process, from
// /proc/self/fd; it skips the test where there is none.
func FDs(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to count descriptors: %v", err)
	}
	return len(fds)
}

// Maps returns the number of mappings of this process that map a file, a
// POSIX segment or a System V segment: what a leak of the toolkit's would
// add. Anonymous mappings are left out, since the runtime maps and splits
// its heap as it likes. It skips the test where there is no
// /proc/self/maps.
func Maps(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps to count mappings: %v", err)
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		// address perms offset dev inode pathname: a path starts with /.
		if f := bytes.Fields(line); len(f) >= 6 && f[5][0] == '/' {
			n++
		}
	}
	return n
}
