package shm

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
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
// tests: with a job named it does that job and exits. Otherwise it runs
// the tests, then fails the run if they left a segment behind.
func TestMain(m *testing.M) {
	testkit.Serve(jobs)
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

// The arguments of the peer jobs: the segment's name (its path, for
// truncate) and what to write or check.
const (
	nameEnv = "MMAPKIT_SHM_NAME"
	dataEnv = "MMAPKIT_SHM_DATA"
)

// jobs are the peer side of the cross-process tests.
var jobs = testkit.Jobs{
	// write-named opens the segment by name and writes the data at 0.
	"write-named": func() error {
		s, err := Open(os.Getenv(nameEnv))
		if err != nil {
			return err
		}
		defer s.Close()
		_, err = s.WriteAt([]byte(os.Getenv(dataEnv)), 0)
		return err
	},
	// write-inherited maps the segment of descriptor 3 and writes the data
	// at 0.
	"write-inherited": func() error {
		f := os.NewFile(3, "inherited")
		s, err := FromFile(f, ExpectSize(4096))
		if err != nil {
			return err
		}
		f.Close()
		defer s.Close()
		_, err = s.WriteAt([]byte(os.Getenv(dataEnv)), 0)
		return err
	},
	// read-hole maps the segment of descriptor 3 and reads it at 4096,
	// says "mapped", and when told (a line on stdin) reads there again:
	// the peer has punched a hole there meanwhile that cannot be filled,
	// so the read must fail with an error wrapping ErrFault, which it
	// prints, rather than kill the process.
	"read-hole": func() error {
		s, err := FromFile(os.NewFile(3, "inherited"))
		if err != nil {
			return err
		}
		defer s.Close()
		p := make([]byte, 64)
		if _, err := s.ReadAt(p, 4096); err != nil {
			return err
		}
		fmt.Println("mapped")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return err
		}
		if _, err = s.ReadAt(p, 4096); !errors.Is(err, ioadapt.ErrFault) {
			return fmt.Errorf("read of the hole = %v; want an error wrapping ErrFault", err)
		}
		fmt.Println(err)
		return nil
	},
	// write-readonly opens the segment read-only, checks that it holds the
	// data, and prints the error of a write, which must be refused.
	"write-readonly": func() error {
		data := os.Getenv(dataEnv)
		s, err := Open(os.Getenv(nameEnv), ReadOnly())
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
	},
	// truncate truncates the segment's file (the name is its path) to the
	// size the data says.
	"truncate": func() error {
		size, err := strconv.ParseInt(os.Getenv(dataEnv), 10, 64)
		if err != nil {
			return err
		}
		return os.Truncate(os.Getenv(nameEnv), size)
	},
	// slot writes the slot of testkit.SlotEnv in the segment.
	"slot": func() error {
		slot, span, round, err := testkit.SlotFromEnv()
		if err != nil {
			return err
		}
		s, err := Open(os.Getenv(nameEnv))
		if err != nil {
			return err
		}
		defer s.Close()
		return testkit.WriteSlot(s, slot, span, round)
	},
	// read-all reads the whole segment.
	"read-all": func() error {
		s, err := Open(os.Getenv(nameEnv))
		if err != nil {
			return err
		}
		defer s.Close()
		_, err = io.Copy(io.Discard, s)
		return err
	},
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
