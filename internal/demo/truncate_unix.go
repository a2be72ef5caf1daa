//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// size is the file's size before the truncation.
const size = 1 << 20

// run shows both readers of a truncated file on w.
func run(w io.Writer) error {
	dir, err := os.MkdirTemp("", "mmapkit-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "shrinking")
	readers := []struct {
		who, outcome string
		read         func(path string) (string, error)
	}{
		{"a reader of a mapping made with mmap(2) by hand, at its next read of byte 0", "died", byHand},
		{"a reader through mmfile (this program), at its next ReadAt of byte 0", "got an error, and goes on", throughMmfile},
	}
	for _, r := range readers {
		if err := os.WriteFile(path, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
			return err
		}
		got, err := r.read(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "   %s:\n      %s: %s\n", r.who, r.outcome, got)
	}
	return nil
}

// child does the job of a child process on the file named by args.
func child(job string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want one file, got %q", args)
	}
	path := args[0]
	switch job {
	case "truncate":
		return os.Truncate(path, 0)
	case "raw-reader":
		return rawReader(path)
	}
	return fmt.Errorf("unknown job %q", job)
}

// rawReader maps path by hand, says "mapped", waits for a line on stdin,
// then reads the mapping's first byte: after a truncation the read raises
// SIGBUS, which the Go runtime reports before it ends the process.
func rawReader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	fmt.Println("mapped")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	fmt.Printf("read %q\n", b[0])
	return nil
}

// command returns this program, run as a child doing job on path.
func command(job, path string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, path)
	cmd.Env = append(os.Environ(), jobEnv+"="+job)
	return cmd, nil
}

// truncate has another process truncate path to 0 bytes, and waits for it.
func truncate(path string) error {
	cmd, err := command("truncate", path)
	if err != nil {
		return err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("truncating process: %v: %s", err, out)
	}
	return nil
}

// byHand starts a reader that maps path by hand, truncates the file once
// it is mapped, then lets it read. It returns how the reader died: its
// exit and the line of the Go runtime's report that names the signal.
func byHand(path string) (string, error) {
	cmd, err := command("raw-reader", path)
	if err != nil {
		return "", err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	// Until it is told to read, the reader waits for stdin: closing it
	// ends the reader on every early return.
	abort := func(err error) (string, error) {
		stdin.Close()
		_ = cmd.Wait()
		return "", err
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); line != "mapped\n" {
		return abort(fmt.Errorf("the reader did not map the file: %q, %v", line, err))
	}
	if err := truncate(path); err != nil {
		return abort(err)
	}
	if _, err := io.WriteString(stdin, "read\n"); err != nil {
		return abort(err)
	}
	said, _ := io.ReadAll(out)
	err = cmd.Wait()
	for _, line := range strings.Split(stderr.String(), "\n") {
		if err != nil && strings.Contains(line, "SIGBUS") {
			return fmt.Sprintf("%v, %s", err, strings.TrimSpace(line)), nil
		}
	}
	return "", fmt.Errorf("the reader of a truncated mapping did not die of SIGBUS: %v; stdout %q, stderr %q", err, said, stderr.String())
}

// throughMmfile maps path with mmfile, truncates the file under it and
// reads. It returns what the read's error says, which must be a fault.
func throughMmfile(path string) (string, error) {
	f, err := mmfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := truncate(path); err != nil {
		return "", err
	}
	_, got := f.ReadAt(make([]byte, 1), 0)
	if !errors.Is(got, ioadapt.ErrFault) {
		return "", fmt.Errorf("ReadAt of a truncated mapping returned %v; want an error wrapping ioadapt.ErrFault", got)
	}
	return got.Error(), nil
}
