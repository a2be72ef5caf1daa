package shm

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// testPrefix starts the name of every segment this run of the tests makes,
// so that TestMain can tell them from everybody else's.
var testPrefix = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("mmapkit-test-%d-%s-", os.Getpid(), hex.EncodeToString(b[:]))
}()

// TestMain lets the test binary serve as the peer process of cross-process
// tests: with MMAPKIT_SHM_CHILD set it does that job and exits. Otherwise
// it runs the tests, then fails the run if they left a segment behind.
func TestMain(m *testing.M) {
	if job := os.Getenv("MMAPKIT_SHM_CHILD"); job != "" {
		if err := runChildJob(job); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", job, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if left := leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "tests left shared memory segments behind: %s\n", strings.Join(left, ", "))
		for _, n := range left {
			_ = Unlink(n)
		}
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// leftovers lists the segments of this run still in the system's
// shared-memory namespace, where it can be listed.
func leftovers() []string {
	infos, err := List()
	if err != nil {
		return nil // Windows: a segment dies with its last handle anyway
	}
	var left []string
	for _, in := range infos {
		if strings.HasPrefix(in.Name, testPrefix) {
			left = append(left, in.Name)
		}
	}
	return left
}

// runChildJob is the peer side of the cross-process tests.
func runChildJob(job string) error {
	name := os.Getenv("MMAPKIT_SHM_NAME")
	data := os.Getenv("MMAPKIT_SHM_DATA")
	switch job {
	case "write-named":
		s, err := Open(name)
		if err != nil {
			return err
		}
		defer s.Close()
		_, err = s.WriteAt([]byte(data), 0)
		return err
	case "write-inherited":
		f := os.NewFile(3, "inherited")
		s, err := FromFile(f, ExpectSize(4096))
		if err != nil {
			return err
		}
		f.Close()
		defer s.Close()
		_, err = s.WriteAt([]byte(data), 0)
		return err
	case "write-readonly":
		s, err := Open(name, ReadOnly())
		if err != nil {
			return err
		}
		defer s.Close()
		got := make([]byte, len(data))
		if _, err := s.ReadAt(got, 0); err != nil || string(got) != data {
			return fmt.Errorf("read %q, %v; want %q", got, err, data)
		}
		_, err = s.WriteAt([]byte("overwritten"), 0)
		if !errors.Is(err, ioadapt.ErrReadOnly) {
			return fmt.Errorf("write to a read-only segment returned %v, want an error wrapping ErrReadOnly", err)
		}
		fmt.Print(err)
		return nil
	case "truncate": // here the name is the segment's path
		size, err := strconv.ParseInt(data, 10, 64)
		if err != nil {
			return err
		}
		return os.Truncate(name, size)
	case "slot", "read-all":
		var w, span, round int
		if _, err := fmt.Sscanf(data, "%d,%d,%d", &w, &span, &round); err != nil {
			return err
		}
		s, err := Open(name)
		if err != nil {
			return err
		}
		defer s.Close()
		if job == "read-all" {
			_, err = io.Copy(io.Discard, s)
			return err
		}
		content := slotContent(w, span, round)
		for i := 0; i < span; i += 512 {
			if _, err := s.WriteAt(content[i:i+512], int64(w*span+i)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown child job %q", job)
}

// slotContent is what writer w writes in the given round of the
// many-process scenario.
func slotContent(w, span, round int) []byte {
	return bytes.Repeat([]byte{byte('A' + w), byte('0' + round)}, span/2)
}

// runChild runs the test binary as a peer process doing job, and returns
// its standard output.
func runChild(t *testing.T, job string, extra []*os.File, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "MMAPKIT_SHM_CHILD="+job)...)
	cmd.ExtraFiles = extra
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v: %s", job, err, stderr.String())
	}
	return string(out)
}

var nameSeq atomic.Int64

// segName returns a fresh name for this run, and removes the segment of
// that name when the test ends, whatever happened.
func segName(t testing.TB, opts ...Option) string {
	t.Helper()
	name := fmt.Sprintf("%s%d", testPrefix, nameSeq.Add(1))
	c, err := newConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := c.dir
	t.Cleanup(func() {
		if err := unlinkIn(dir, name); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return name
}

// closeOnCleanup closes s when the test ends, if the test has not.
func closeOnCleanup(t testing.TB, s *Segment) *Segment {
	t.Helper()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// create makes a segment of size bytes under a fresh name, closed and
// removed when the test ends.
func create(t testing.TB, size int64, opts ...Option) (*Segment, string) {
	t.Helper()
	name := segName(t, opts...)
	s, err := Create(name, size, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return closeOnCleanup(t, s), name
}

// wantErr checks that err matches target and reads as it should: every
// fragment of want appears in its message.
func wantErr(t testing.TB, err, target error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one wrapping %v", target)
	}
	if !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %v", err, target)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("error %q is a %T, not an *fs.PathError", err, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// pattern returns n bytes that differ at every offset within a page.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}
