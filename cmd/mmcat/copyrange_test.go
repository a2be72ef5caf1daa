package main

import (
	"os"
	"os/exec"
)

// betweenRangesEnv, set to a shell script for a command run as mmcat, has
// the script run, by sh with the SOURCE as $1, once per SOURCE after the
// first copy_file_range(2) call that copied some of it: another process
// that changes the file in the middle of the copy.
const betweenRangesEnv = "MMCAT_TEST_BETWEEN_RANGES"

// setRangeSeam sets the seam of betweenRangesEnv, if asked.
func setRangeSeam() {
	script := os.Getenv(betweenRangesEnv)
	if script == "" {
		return
	}
	done := make(map[string]bool)
	betweenRanges = func(path string) {
		if done[path] {
			return
		}
		done[path] = true
		cmd := exec.Command("sh", "-c", script, "sh", path)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			panic("the script of " + betweenRangesEnv + ": " + err.Error())
		}
	}
}
