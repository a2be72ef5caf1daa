package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"syscall"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// version is the version --version prints; release builds set it with
// -ldflags "-X main.version=v1.2.3". Otherwise it comes from the build
// information that go build and go install record.
var version string

// Exit statuses, as GNU cat's.
const (
	exitOK    = 0
	exitFail  = 1 // a source or the output failed
	exitUsage = 1 // a mistake on the command line
)

// progName is how the command names itself in messages: the name it was
// invoked by, argv[0] as given, which is what GNU tools print ("cat: ...",
// "/usr/bin/cat: ..."), so that mmcat installed or linked as cat speaks as
// cat.
var progName = invocationName(os.Args)

func invocationName(argv []string) string {
	if len(argv) == 0 {
		return "mmcat"
	}
	return argv[0]
}

// defaultChunk is the largest write of mapped bytes when the output is not
// a pipe whose capacity sets it: small enough to keep a progress bar
// moving, large enough that the system calls do not count.
const defaultChunk = 1 << 20

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the command: it parses args, copies the sources, reports failures
// on stderr and returns the exit status. It closes stdout at the end.
func run(args []string, stdin, stdout, stderr *os.File) int {
	r := &runner{stdin: stdin, stdout: stdout, stderr: stderr}
	keepBlockedSIGPIPE() // before any write, --help's included
	cfg, err := parseArgs(args)
	switch {
	case errors.Is(err, errHelp):
		_, err = io.WriteString(stdout, usage(progName))
		r.writeFailed(asWriteError(err))
	case errors.Is(err, errVersion):
		_, err = fmt.Fprintf(stdout, "mmcat (mmapkit) %s\n", versionString())
		r.writeFailed(asWriteError(err))
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\nTry '%s --help' for more information.\n", progName, err, progName)
		return exitUsage
	default:
		r.cfg = cfg
		sig := catchSignals()
		defer sig.stop()
		if cfg.output == "" {
			r.toStdout()
		} else {
			r.toDest(sig)
		}
	}
	r.closeStdout()
	if r.failed {
		return exitFail
	}
	return exitOK
}

// runner carries one invocation.
type runner struct {
	cfg                   *config
	stdin, stdout, stderr *os.File
	failed                bool
	wroteError            bool // a write error was reported
}

// fail reports what went wrong with name (a SOURCE or DEST) and marks the
// run as failed.
func (r *runner) fail(name string, err error) {
	fmt.Fprintf(r.stderr, "%s: %s: %s\n", progName, name, reason(err))
	r.failed = true
}

// closeStdout closes standard output and reports a failure as a write
// error, as GNU's close_stdout does at the exit of every coreutils
// program: on NFS, for one, close(2) is where a delayed write fails.
// EBADF is no failure when nothing was left to write: mmcat writes
// without a buffer of its own, so that is always the case. A write error
// already reported is not reported twice.
func (r *runner) closeStdout() {
	err := r.stdout.Close()
	if err == nil || r.wroteError || errors.Is(err, syscall.EBADF) || errors.Is(err, os.ErrClosed) {
		return
	}
	r.writeFailed(&writeError{err})
}

// asWriteError marks err, from a write to standard output, as such; nil
// stays nil.
func asWriteError(err error) error {
	if err == nil {
		return nil
	}
	return &writeError{err}
}

// toStdout copies each source to standard output in turn, as GNU cat does:
// a source is opened when its turn comes, so standard input is read in its
// place and a failure is reported between the outputs around it.
func (r *runner) toStdout() {
	o := &opener{rng: r.cfg.rng, stdin: r.stdin, follow: true}
	chunk, toPipe := defaultChunk, false
	if fi, err := r.stdout.Stat(); err == nil {
		mode := fi.Mode()
		switch {
		case mode.IsRegular():
			o.outInfo = fi
		case mode&os.ModeNamedPipe != 0:
			toPipe = true
			if n := growPipe(r.stdout); n > 0 {
				chunk = n
			}
		}
		// Prefaulting pays off when write(2) copies the whole mapping
		// into a file. A character device such as /dev/null may not
		// touch the bytes at all, and into a pipe MADV_SEQUENTIAL's
		// readahead does as well (scripts/bench-cli.sh), and output
		// starts at once.
		o.populate = mode.IsRegular()
		// Into a regular file, GNU cat copies with copy_file_range(2),
		// and so does mmcat, unless an option formats.
		o.ranged = haveCopyFileRange && mode.IsRegular() && !r.cfg.opts.needsFormatting()
	}
	var bar *progress
	if r.cfg.progress == progressOn || r.cfg.output != "" && r.cfg.progress == progressAuto && isTerminal(r.stderr) {
		// A DEST written in place (see toFile) comes here too.
		bar = r.progressBar(-1, r.cfg.output)
	}
	c := newCopier(stdoutDest{r.stdout}, r.cfg.opts, chunk, bar)
	c.toPipe = toPipe
	for _, arg := range r.cfg.sources {
		s, err := o.open(arg)
		if err != nil {
			r.fail(arg, err)
			continue
		}
		err = c.copy(s)
		s.close()
		if r.writeFailed(err) {
			return
		}
		if err != nil {
			r.fail(arg, err)
		}
	}
	r.writeFailed(c.close())
}

// writeFailed reports a write error, which ends the run; it returns false
// for any other error, which the caller handles.
func (r *runner) writeFailed(err error) bool {
	var we *writeError
	if !errors.As(err, &we) {
		return false
	}
	fmt.Fprintf(r.stderr, "%s: write error: %s\n", progName, reason(we.err))
	r.failed, r.wroteError = true, true
	return true
}

// progressBar returns a meter on stderr for total bytes (-1: unknown).
func (r *runner) progressBar(total int64, desc string) *progress {
	return newProgress(r.stderr, total, desc)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// reason words err for a "mmcat: NAME: reason" line. A system error reads
// as GNU cat prints it ("No such file or directory"); the path, already
// named, is dropped from path errors.
func reason(err error) string {
	if errors.Is(err, ioadapt.ErrFault) || errors.Is(err, syscall.EFAULT) {
		// The source's mapping met a hole: a page past the end of a
		// file that shrank, or one its storage failed to read. write(2)
		// says EFAULT; a read of the mapping by mmcat itself faults.
		return "Bad address: the file shrank or its storage failed while it was being copied"
	}
	for {
		switch e := err.(type) {
		case *fs.PathError:
			err = e.Err
			continue
		case *os.SyscallError:
			err = e.Err
			continue
		case syscall.Errno:
			return capitalize(e.Error())
		}
		return err.Error()
	}
}

// capitalize upper-cases the first letter, as strerror(3) words errors.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// versionString is the version --version prints.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev[:min(12, len(rev))] + dirty
}
