package testkit

import (
	"errors"
	"testing"

	"golang.org/x/sys/windows"
)

// OpenHandles reports whether any handle on path is open in any process:
// 1 when opening it with no sharing at all is refused with a sharing
// violation, 0 when that open succeeds. A mapping holds its file open, so
// this sees mapped files as well. (GetProcessHandleCount would count
// handles of every kind, and Wine answers it with 0.)
func OpenHandles(t testing.TB, path string) int {
	t.Helper()
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, 0, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		return 1
	}
	if err != nil {
		t.Fatalf("exclusive open of %s: %v", path, err)
	}
	windows.CloseHandle(h)
	return 0
}
