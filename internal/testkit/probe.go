package testkit

import (
	"fmt"
	"os"
	"strconv"
)

// fdEnv carries the descriptor number that the probe job describes.
const fdEnv = "MMAPKIT_TEST_FD"

// FDProbe holds the job "probe-fd", which a package serves beside its own
// ([Serve]): it describes, on stderr, the descriptor that [ProbeFDEnv]
// names, as the process finds it when it starts, and exits with status 0.
// It tells what a parent (a shell's redirections, the runtime's start-up)
// leaves a program on its descriptors.
var FDProbe = Jobs{"probe-fd": func() error {
	fmt.Fprint(os.Stderr, describeFD(os.Getenv(fdEnv)))
	return nil
}}

// ProbeFDEnv is the environment of a process doing the job of [FDProbe]
// on its descriptor fd.
func ProbeFDEnv(fd int) []string {
	return []string{JobEnv + "=probe-fd", fdEnv + "=" + strconv.Itoa(fd)}
}

// describeFD describes this process's descriptor fd by what the kernel
// tells about it: what it is open on, its status flags with the
// close-on-exec bit and inode (/proc/self/fdinfo), and fstat's mode and
// size (not its times, which other processes change).
func describeFD(fd string) string {
	link, err := os.Readlink("/proc/self/fd/" + fd)
	info, ierr := os.ReadFile("/proc/self/fdinfo/" + fd)
	n, _ := strconv.Atoi(fd)
	fi, serr := os.NewFile(uintptr(n), "fd").Stat()
	var st string
	if serr == nil {
		st = fmt.Sprintf("%v size %d", fi.Mode(), fi.Size())
	}
	return fmt.Sprintf("link %q %v\nfdinfo %q %v\nfstat %s %v\n", link, err, info, ierr, st, serr)
}
