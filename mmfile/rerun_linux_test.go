package mmfile_test

import (
	"os"
	"os/exec"
)

// rerun returns a command that runs the test binary on the one test
// named, with env added: that test plays the other process of a
// cross-process test when it finds its variable in env, and skips
// otherwise.
func rerun(test string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
