package sysv

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

func init() {
	// openorcreate lowers RLIMIT_AS to 256 MiB above what the process
	// has mapped, then calls OpenOrCreate on MMAPKIT_SYSV_KEY for a
	// segment of 1 GiB, which it cannot attach, and prints the error.
	jobs["openorcreate"] = func() error {
		vm, err := vmKiB()
		if err != nil {
			return err
		}
		limit := vm<<10 + 256<<20
		if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
			return err
		}
		s, err := OpenOrCreate(envKey(), 1<<30)
		if err == nil {
			s.Close()
			return errors.New("attached 1 GiB under RLIMIT_AS: the limit does not bite")
		}
		fmt.Println(err)
		return nil
	}
}

// vmKiB is the process's VmSize in KiB.
func vmKiB() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			return strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmSize in /proc/self/status")
}

// TestOpenOrCreateFailures: an OpenOrCreate that made the segment and
// then cannot attach it leaves it, since another process of the key may
// have found it meanwhile, and says so with the segment's id (it said
// nothing, and a loop of such calls left one segment per key); one that
// found the segment leaves it too; a contradicting ExpectSize makes
// nothing.
func TestOpenOrCreateFailures(t *testing.T) {
	t.Run("attach fails", func(t *testing.T) {
		key := newKey(t)
		out, err := child(t, "openorcreate", key, 0, "").CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		info, ok := lookupKey(key)
		if ok {
			track(info.ID)
			defer shmRemove(info.ID)
		}
		if !ok {
			t.Fatalf("the segment that OpenOrCreate made is gone: another process of the key may be using it")
		}
		want := fmt.Sprintf("the segment (id %d) that this call made stays", info.ID)
		if !strings.Contains(string(out), "cannot allocate memory") || !strings.Contains(string(out), want) {
			t.Fatalf("child printed %q; want the attach's ENOMEM and %q", out, want)
		}
	})
	t.Run("expected size contradicts", func(t *testing.T) {
		key := newKey(t)
		_, err := OpenOrCreate(key, 8192, ExpectSize(4096))
		testkit.WantPathError(t, err, ioadapt.ErrSizeMismatch, "expected size 4096", "size 8192")
		if info, ok := lookupKey(key); ok {
			track(info.ID)
			_ = shmRemove(info.ID)
			t.Fatalf("a segment was made for a call that could not succeed: %+v", info)
		}
	})
	t.Run("found, not made", func(t *testing.T) {
		s := mustCreate(t, 1<<30)
		out, err := child(t, "openorcreate", s.Key(), 0, "").CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		again, err := Open(s.Key())
		if errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the failed OpenOrCreate removed a segment it had found: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		again.Close()
	})
}
