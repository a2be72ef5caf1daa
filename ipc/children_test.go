//go:build linux

package ipc

import (
	"fmt"
	"os"
)

// runChild is the peer side of the cross-process tests: the test binary
// run again with childEnv set to the job's name. It returns the exit code.
func runChild(job string) int {
	var err error
	switch job {
	default:
		err = fmt.Errorf("unknown child job %q", job)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", job, err)
		return 1
	}
	return 0
}
