//go:build linux || windows

package shm

import (
	"os"
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

// wantErr checks that err matches target, is an *fs.PathError, and says
// every fragment of want.
func wantErr(t testing.TB, err, target error, want ...string) {
	t.Helper()
	testkit.WantPathError(t, err, target, want...)
}
