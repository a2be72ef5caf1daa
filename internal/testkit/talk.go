package testkit

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
)

// Talker is a child process that a test talks to: lines, or bytes, to its
// standard input ([Talker.Stdin]), lines from its standard output; what it
// says on standard error is kept for the messages.
type Talker struct {
	// Cmd is the child's command, started.
	Cmd *exec.Cmd
	// Stdin is the child's standard input; closing it tells a child that
	// reads to the end to finish.
	Stdin  io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
	hung   atomic.Bool
}

// Talk starts cmd with pipes to talk to it. A child says a line once it is
// ready, which the caller reads with [Talker.Expect] or [Talker.Line].
func Talk(cmd *exec.Cmd) (*Talker, error) {
	p := &Talker{Cmd: cmd}
	cmd.Stderr = &p.stderr
	var err error
	if p.Stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.out = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", jobName(cmd), err)
	}
	return p, nil
}

// Line returns the child's next line of output, without its newline. A
// child that says nothing for [HangTimeout] is hung: Line kills it and
// says so. When no whole line comes, Line waits for the child and returns
// an error with what it said on stderr.
func (p *Talker) Line() (string, error) {
	timer := time.AfterFunc(HangTimeout, func() {
		p.hung.Store(true)
		_ = p.Cmd.Process.Kill()
	})
	line, err := p.out.ReadString('\n')
	timer.Stop()
	if p.hung.Load() {
		p.Stop()
		return "", fmt.Errorf("%s said nothing in %v: it hangs (killed)", jobName(p.Cmd), HangTimeout)
	}
	if err != nil {
		p.Stop()
		return "", fmt.Errorf("%s: no line (%q, %v): %v: %s", jobName(p.Cmd), line, err, p.Cmd.ProcessState, p.Stderr())
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// Expect reads the child's next line, which must be want. Otherwise it
// stops the child and returns an error with what it said on stderr.
func (p *Talker) Expect(want string) error {
	line, err := p.Line()
	if err != nil {
		return fmt.Errorf("want %q: %w", want, err)
	}
	if line != want {
		p.Stop()
		return fmt.Errorf("%s said %q, not %q: %s", jobName(p.Cmd), line, want, p.Stderr())
	}
	return nil
}

// Say writes a line to the child's standard input.
func (p *Talker) Say(format string, args ...any) error {
	_, err := fmt.Fprintf(p.Stdin, format+"\n", args...)
	return err
}

// Close closes the child's standard input and waits for it to exit. It
// returns an error, with what the child said on stderr, when the child
// fails; a second Close, or one after [Talker.Stop], returns nil.
func (p *Talker) Close() error {
	if p.Cmd.ProcessState != nil {
		return nil
	}
	_ = p.Stdin.Close()
	if err := p.Cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %v: %s", jobName(p.Cmd), err, p.Stderr())
	}
	return nil
}

// Stop kills the child if it still runs, and waits for it.
func (p *Talker) Stop() {
	if p.Cmd.ProcessState == nil {
		_ = p.Cmd.Process.Kill()
		_ = p.Cmd.Wait()
	}
}

// Stderr returns what the child said on standard error, without the
// goroutine dumps of a crash. The child must have been waited for.
func (p *Talker) Stderr() string {
	head, _, _ := strings.Cut(p.stderr.String(), "\n\n")
	return head
}
