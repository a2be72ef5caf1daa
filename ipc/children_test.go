//go:build linux || windows

package ipc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// The environment of a child process: what it does (childEnv), where the
// pipe is, and the job's parameters.
const (
	regionEnv = "MMAPKIT_IPC_REGION" // shm:NAME, sysv:ID or fd:3 (the first of ExtraFiles)
	argsEnv   = "MMAPKIT_IPC_ARGS"   // key=value,key=value
)

// runChild is the peer side of the cross-process tests: the test binary
// run again with childEnv set to the job's name. It returns the exit code.
// Children report on standard output, one line per event, which the
// parent reads with child.expect.
func runChild(job string) int {
	if err := childJob(job); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", job, err)
		fmt.Printf("error %v\n", err)
		return 1
	}
	return 0
}

type childArgs map[string]string

func (a childArgs) int(key string) int {
	n, _ := strconv.Atoi(a[key])
	return n
}

func parseArgs() childArgs { return envArgs(argsEnv) }

// envArgs parses the key=value,... list in the environment variable name.
func envArgs(name string) childArgs {
	a := childArgs{}
	for _, kv := range strings.Split(os.Getenv(name), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			a[k] = v
		}
	}
	return a
}

// openRegion maps the region the parent named.
func openRegion(spec string) (ioadapt.Region, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "shm":
		return shm.Open(arg)
	case "sysv":
		id, err := strconv.Atoi(arg)
		if err != nil {
			return nil, err
		}
		return sysv.AttachID(id)
	case "fd":
		fd, err := strconv.Atoi(arg)
		if err != nil {
			return nil, err
		}
		f := os.NewFile(uintptr(fd), "inherited")
		defer f.Close()
		return shm.FromFile(f)
	}
	return nil, fmt.Errorf("unknown region %q", spec)
}

func childJob(job string) error {
	if job == "sleep" {
		sleepForever() // keeps the descriptors it inherited until killed
	}
	a := parseArgs()
	region, err := openRegion(os.Getenv(regionEnv))
	if err != nil {
		return err
	}
	var opts []Option
	if m := a["mode"]; m != "" {
		opts = append(opts, WithWaitMode(WaitMode(a.int("mode"))))
	}
	p, err := OpenPipe(region, opts...)
	if err != nil {
		return err
	}
	switch job {
	case "hold": // attach an end, say so, and wait to be killed
		var err error
		if a["role"] == "writer" {
			_, err = p.Writer()
		} else {
			_, err = p.Reader()
		}
		if err != nil {
			if errors.Is(err, ErrInUse) {
				fmt.Printf("inuse %v\n", err)
				return nil
			}
			return err
		}
		fmt.Println("ready")
		if a["fork"] != "" {
			// A child of ours keeps the segment open after we die.
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=sleep")
			cmd.ExtraFiles = []*os.File{}
			if f, ok := region.(interface{ File() (*os.File, error) }); ok {
				sf, err := f.File()
				if err != nil {
					return err
				}
				cmd.ExtraFiles = append(cmd.ExtraFiles, sf)
			}
			if err := cmd.Start(); err != nil {
				return err
			}
			fmt.Printf("forked %d\n", cmd.Process.Pid)
		}
		sleepForever()
	case "write": // write count bytes of the pattern from 'from', then hold or close
		w, err := p.Writer()
		if err != nil {
			return err
		}
		fmt.Println("ready")
		from, count, chunk := a.int("from"), a.int("count"), max(1, a.int("chunk"))
		if p.Messages() {
			for i := 0; i < count; i++ {
				if _, err := w.Write(record(from + i)); err != nil {
					return fmt.Errorf("record %d: %w", from+i, err)
				}
			}
		} else {
			buf := pattern(from, count)
			for off := 0; off < count; off += chunk {
				if _, err := w.Write(buf[off:min(off+chunk, count)]); err != nil {
					return fmt.Errorf("write at %d: %w", from+off, err)
				}
			}
		}
		fmt.Println("written")
		if a["hold"] != "" {
			sleepForever()
		}
		return w.Close()
	case "stall": // write 'count' records, then stop inside the next Commit
		w, err := p.Writer()
		if err != nil {
			return err
		}
		fmt.Println("ready")
		from := a.int("from")
		for i := range a.int("count") {
			if _, err := w.Write(record(from + i)); err != nil {
				return err
			}
		}
		beforePublish = func() {
			fmt.Println("stalled")
			sleepForever()
		}
		_, err = w.Write(record(from + a.int("count")))
		return err
	case "flood": // write the pattern (or records) from 'from' until killed
		w, err := p.Writer()
		if err != nil {
			return err
		}
		fmt.Println("ready")
		return flood(w, p.Messages(), a.int("from"), max(1, a.int("chunk")))
	case "slowread": // read and check the pattern from 'from', pausing, until killed
		r, err := p.Reader()
		if err != nil {
			return err
		}
		fmt.Println("ready")
		buf := make([]byte, max(1, a.int("chunk")))
		for n := a.int("from"); ; {
			m, err := r.Read(buf)
			for i, c := range buf[:m] {
				if c != patternByte(n+i) {
					return fmt.Errorf("byte %d is %#x, want %#x", n+i, c, patternByte(n+i))
				}
			}
			n += m
			if err != nil {
				return err
			}
			time.Sleep(time.Duration(n%7) * 100 * time.Microsecond)
		}
	case "readclose": // read and check count bytes of the pattern, then close the reader
		r, err := p.Reader()
		if err != nil {
			return err
		}
		fmt.Println("ready")
		if n, err := checkStreamN(r, a.int("from"), a.int("count")); err != nil {
			return fmt.Errorf("read %d bytes: %w", n, err)
		}
		if err := r.Close(); err != nil {
			return err
		}
		fmt.Println("closed")
		sleepForever()
	case "read": // read everything, check it against the pattern, report
		r, err := p.Reader()
		if err != nil {
			return err
		}
		fmt.Println("ready")
		n, err := checkStream(r, a.int("from"))
		if err != nil && err != io.EOF {
			fmt.Printf("read %d %v\n", n, err)
			return nil
		}
		fmt.Printf("read %d EOF\n", n)
		return nil
	}
	return fmt.Errorf("unknown child job %q", job)
}

// flood writes the pattern from position from (or the records from
// index from) forever, alternating Write and Reserve/Commit.
func flood(w *Writer, messages bool, from, chunk int) error {
	for i := 0; ; i++ {
		var b []byte
		if messages {
			b = record(from + i)
		} else {
			b = pattern(from, chunk)
			from += chunk
		}
		if i%2 == 0 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			continue
		}
		if messages { // one reservation holds the whole record
			room, err := w.Reserve(len(b))
			if err != nil {
				return err
			}
			if err := w.Commit(copy(room, b)); err != nil {
				return err
			}
			continue
		}
		for len(b) > 0 {
			room, err := w.Reserve(len(b))
			if err != nil {
				return err
			}
			n := copy(room, b)
			if err := w.Commit(n); err != nil {
				return err
			}
			b = b[n:]
		}
	}
}

// record is the i'th record of the message tests: its length and bytes
// follow from i, so that a reader can check each one whole.
func record(i int) []byte {
	return pattern(i*131, (i*37)%1500)
}

// checkStream reads r to the end and checks every byte against the
// pattern from position from; it returns the count of good bytes.
func checkStream(r io.Reader, from int) (int, error) {
	buf := make([]byte, 32<<10)
	n := 0
	for {
		m, err := r.Read(buf)
		for i, c := range buf[:m] {
			if c != patternByte(from+n+i) {
				return n + i, fmt.Errorf("byte %d is %#x, want %#x", from+n+i, c, patternByte(from+n+i))
			}
		}
		n += m
		if err != nil {
			return n, err
		}
	}
}

// child is a peer process running a job.
type child struct {
	t   testing.TB
	cmd *exec.Cmd
	out *bufio.Reader
}

// startChild runs the test binary as a peer doing job on the region, with
// the given args (key=value,...).
func startChild(t testing.TB, job, region, args string, extra ...*os.File) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+job, regionEnv+"="+region, argsEnv+"="+args, noExitSleep)
	cmd.ExtraFiles = extra
	return runChildCmd(t, cmd)
}

// runChildCmd starts cmd, a peer process that reports on its standard
// output, and kills it when the test ends.
func runChildCmd(t testing.TB, cmd *exec.Cmd) *child {
	t.Helper()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	})
	return c
}

// line returns the child's next line of output, or fails after hang.
func (c *child) line() string {
	c.t.Helper()
	lines := make(chan string, 1)
	go func() {
		s, err := c.out.ReadString('\n')
		if err != nil && s == "" {
			s = "EOF: " + err.Error()
		}
		lines <- strings.TrimSpace(s)
	}()
	select {
	case s := <-lines:
		return s
	case <-time.After(hang):
		c.t.Fatalf("child %d said nothing for %v", c.cmd.Process.Pid, hang)
		return ""
	}
}

// expect fails unless the child's next line starts with want, and returns
// the line.
func (c *child) expect(want string) string {
	c.t.Helper()
	s := c.line()
	if !strings.HasPrefix(s, want) {
		c.t.Fatalf("child %d said %q, want %q", c.cmd.Process.Pid, s, want)
	}
	return s
}

// kill kills the child (SIGKILL; TerminateProcess on Windows) and reaps
// it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// wait waits for the child to exit and fails if it did not succeed.
func (c *child) wait() {
	c.t.Helper()
	if err := c.cmd.Wait(); err != nil {
		c.t.Fatalf("child %d: %v", c.cmd.Process.Pid, err)
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// sleepForever blocks until the process is killed. A bare select{} would
// not: the runtime ends a process whose goroutines are all blocked.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// noExitSleep spares a race-enabled child the second the race runtime
// sleeps at exit (GORACE atexit_sleep_ms), which adds up over hundreds of
// children; without -race it does nothing.
const noExitSleep = "GORACE=atexit_sleep_ms=0"
