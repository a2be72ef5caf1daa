package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// JobEnv is the environment variable that names the job of a test binary
// re-run as another process. Its arguments travel in other variables,
// which each job reads itself.
const JobEnv = "MMAPKIT_TEST_JOB"

// Jobs are the jobs a package's test binary can do as another process,
// by name. A job's error is the process's failure: exit status 1 and
// "job NAME: ERR" on stderr.
type Jobs map[string]func() error

// Serve does the job that JobEnv names and exits; without one it returns,
// and TestMain goes on to run the tests. A name that is in none of
// registries exits with status 2.
func Serve(registries ...Jobs) {
	name, ok := os.LookupEnv(JobEnv)
	if !ok {
		return
	}
	for _, jobs := range registries {
		if job, ok := jobs[name]; ok {
			if err := job(); err != nil {
				fmt.Fprintf(os.Stderr, "job %s: %v\n", name, err)
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	fmt.Fprintf(os.Stderr, "unknown job %q\n", name)
	os.Exit(2)
}

// Command returns a command that re-runs the test binary as another
// process doing job, with env (NAME=value) added to this process's
// environment. -test.run=^$ keeps it from running tests should the job
// ever fall through.
func Command(job string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = JobEnviron(job, env...)
	return cmd
}

// JobEnviron is the environment of a process doing job: this process's,
// with env and the job's name added. It serves the commands that run a
// copy of the test binary, or run it through a shell.
func JobEnviron(job string, env ...string) []string {
	return append(append(os.Environ(), env...), JobEnv+"="+job)
}

// Output runs cmd and returns its standard output. When it fails, t fails
// with what it said on stderr.
func Output(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", jobName(cmd), err, stderr.String())
	}
	return string(out)
}

// jobName names cmd's job in a message, or its program when it has none.
func jobName(cmd *exec.Cmd) string {
	for _, kv := range cmd.Env {
		if job, ok := strings.CutPrefix(kv, JobEnv+"="); ok {
			return "job " + job
		}
	}
	return cmd.Path
}

// EnvInt reads a positive count from the environment variable name, for
// the suites that run a scenario longer than make test does; def
// otherwise.
func EnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// RunAll starts every command, so that they run at once, then waits for
// them all. It returns the first failure, naming the job; a command that
// cannot start ends those already started.
func RunAll(cmds []*exec.Cmd) error {
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			for _, started := range cmds[:i] {
				_ = started.Process.Kill()
				_ = started.Wait()
			}
			return fmt.Errorf("%s: %v", jobName(c), err)
		}
	}
	var first error
	for _, c := range cmds {
		if err := c.Wait(); err != nil && first == nil {
			first = fmt.Errorf("%s: %v", jobName(c), err)
		}
	}
	return first
}

// MainJob is the job of a test binary that stands in for a command: it
// runs main, which returns the command's exit status, and exits with it,
// so that the tests run the command without building it.
func MainJob(main func() int) func() error {
	return func() error {
		os.Exit(main())
		return nil
	}
}

// Wait waits for cmd, which has started, and returns what [exec.Cmd.Wait]
// returns. A child still running after [HangTimeout] is hung: Wait kills
// it and fails t, naming the command.
func Wait(t testing.TB, cmd *exec.Cmd) error {
	t.Helper()
	var hung atomic.Bool
	timer := time.AfterFunc(HangTimeout, func() {
		hung.Store(true)
		_ = cmd.Process.Kill()
	})
	err := cmd.Wait()
	timer.Stop()
	if hung.Load() {
		t.Fatalf("%s %q did not exit in %v: it hangs (killed)", jobName(cmd), cmd.Args[1:], HangTimeout)
	}
	return err
}

// Run starts cmd and waits for it as [Wait] does. An error starting it
// fails t.
func Run(t testing.TB, cmd *exec.Cmd) error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s %q: %v", jobName(cmd), cmd.Args[1:], err)
	}
	return Wait(t, cmd)
}
