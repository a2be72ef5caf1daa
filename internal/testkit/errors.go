package testkit

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// WantPathError checks that err is an error tied to a path, as the
// module's are: it wraps target, is an [*fs.PathError], and says every
// fragment of want. A nil err fails t at once.
func WantPathError(t testing.TB, err, target error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one wrapping %v", target)
	}
	if !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %v", err, target)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("error %q is a %T, not an *fs.PathError", err, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
