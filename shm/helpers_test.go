//go:build linux || windows

package shm

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// runChild runs the test binary as a peer process doing job, with extra
// as its descriptors from 3 on, and returns its standard output.
func runChild(t *testing.T, job string, extra []*os.File, env ...string) string {
	t.Helper()
	cmd := testkit.Command(job, env...)
	cmd.ExtraFiles = extra
	return testkit.Output(t, cmd)
}

// wantErr checks that err matches target and reads as it should: every
// fragment of want appears in its message.
func wantErr(t testing.TB, err, target error, want ...string) {
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
