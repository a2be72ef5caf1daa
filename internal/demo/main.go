// Command demo shows what sets mmapkit apart, for make demo: a file that
// another process truncates under a mapping. A reader that maps the file
// with mmap(2) by hand dies of SIGBUS at its next read; a reader through
// mmfile gets an error wrapping ioadapt.ErrFault that says what happened,
// and goes on. It exits 1 if either reader does anything else.
//
// The steps are ordered by pipes and by waiting for processes, never by
// time, so every run ends the same way. On Windows, where no process can
// shrink a file that is mapped, it says so and exits 1.
package main

import (
	"fmt"
	"os"
)

// jobEnv, set in the environment of this program's children, names the
// job a child does instead of the demo, on the file named by its argument.
const jobEnv = "MMAPKIT_DEMO_JOB"

func main() {
	if job := os.Getenv(jobEnv); job != "" {
		if err := child(job, os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "demo %s: %v\n", job, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if err := run(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}
