//go:build !linux

package testkit

import "testing"

// SmallTmpfs skips the test: mounting a tmpfs of a given size is a Linux
// capability.
func SmallTmpfs(t testing.TB, size int64) string {
	t.Helper()
	t.Skipf("mounting a tmpfs of %d bytes needs Linux", size)
	return ""
}

// SharedTmpfs skips the test, as [SmallTmpfs] does.
func SharedTmpfs(t testing.TB, size int64) string {
	t.Helper()
	return SmallTmpfs(t, size)
}

// SmallExt4 skips the test: ext4 through a loop device is Linux's.
func SmallExt4(t testing.TB, size int64) string {
	t.Helper()
	t.Skipf("mounting an ext4 image of %d bytes needs Linux", size)
	return ""
}
