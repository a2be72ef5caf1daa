//go:build !linux

package sys

import (
	"errors"
	"testing"
)

// TestUnsupported: outside Linux every call says so, and the clock still
// runs.
func TestUnsupported(t *testing.T) {
	var w uint32
	errs := map[string]error{}
	_, errs["FutexWait"] = FutexWait(&w, 0, 0)
	_, errs["FutexWake"] = FutexWake(&w, 1)
	_, errs["LockByte"] = LockByte(0, 0)
	errs["UnlockByte"] = UnlockByte(0, 0)
	_, errs["ByteLocked"] = ByteLocked(0, 0)
	_, errs["Reopen"] = Reopen(0)
	_, _, errs["FileID"] = FileID(0)
	_, errs["FileSize"] = FileSize(0)
	procUnsupported(errs)
	for name, err := range errs {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v, want an error wrapping errors.ErrUnsupported", name, err)
		}
	}
	if a, b := Now(), Now(); a <= 0 || b < a {
		t.Errorf("Now went %d, %d", a, b)
	}
}
