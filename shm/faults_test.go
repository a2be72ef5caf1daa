//go:build faults && linux

// The fault-and-abuse suite of shm (make test-faults). Each scenario logs
// "faults: runs=N failures=F" for the suite's table.

package shm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/faulttest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestFaultTruncateSegment has another process shrink a segment while
// goroutines here read, write and io.Copy it: every call succeeds or
// returns ErrFault naming the segment; the process lives; once the segment
// is whole again, a fresh mapping reads it.
func TestFaultTruncateSegment(t *testing.T) {
	ty := faulttest.New(t)
	page := os.Getpagesize()
	data := testkit.Pattern(16 * page)
	for round := range 200 {
		ty.Round(truncateSegmentRound(t, data, round))
	}
}

func truncateSegmentRound(t *testing.T, data []byte, round int) error {
	s, name := create(t, int64(len(data)))
	if _, err := s.WriteAt(data, 0); err != nil {
		return err
	}
	size := (round * 997) % (len(data) / 2)
	cut := testkit.Command("truncate", nameEnv+"="+filepath.Join(shmDir(""), name), dataEnv+"="+strconv.Itoa(size))
	if err := faulttest.HammerDuring(s, data, name, cut); err != nil {
		return err
	}
	if _, err := s.ReadAt(make([]byte, 1), int64(len(data)-1)); !errors.Is(err, ioadapt.ErrFault) {
		return fmt.Errorf("read past the truncation: %v", err)
	}
	if _, err := io.Copy(new(bytes.Buffer), s); !errors.Is(err, ioadapt.ErrFault) {
		return fmt.Errorf("io.Copy over the truncation: %v", err)
	}
	if err := os.Truncate(filepath.Join(shmDir(""), name), int64(len(data))); err != nil {
		return err
	}
	fresh, err := Open(name, ExpectSize(int64(len(data))))
	if err != nil {
		return err
	}
	defer fresh.Close()
	got := make([]byte, len(data))
	if _, err := fresh.ReadAt(got, 0); err != nil || !bytes.Equal(got[:size], data[:size]) {
		return fmt.Errorf("fresh mapping after regrowth: %v", err)
	}
	return nil
}

// TestFaultFullTmpfs creates segments on a small tmpfs until it is full,
// many times: the create that needs the space fails with an error naming
// the free space, leaves no file behind, and the segments made before stay
// intact and touchable.
func TestFaultFullTmpfs(t *testing.T) {
	ty := faulttest.New(t)
	dir := testkit.SmallTmpfs(t, 1<<20)
	for round := range 200 {
		ty.Round(fullTmpfsRound(t, dir, round))
	}
}

func fullTmpfsRound(t *testing.T, dir string, round int) error {
	// From a page to most of the 1 MiB tmpfs, so that one segment at
	// least always fits before the create that fails.
	size := int64(4096 + round%28*37000)
	var made []*Segment
	defer func() {
		for _, s := range made {
			s.Close()
			_ = s.Unlink()
		}
	}()
	for i := 0; ; i++ {
		name := fmt.Sprintf("%sfull-%d-%d", testPrefix, round, i)
		s, err := Create(name, size, inDir(dir))
		if err != nil {
			if !errors.Is(err, ioadapt.ErrNoSpace) || !strings.Contains(err.Error(), "free") {
				return fmt.Errorf("create on a full tmpfs: %v", err)
			}
			if _, serr := os.Lstat(filepath.Join(dir, name)); serr == nil {
				return fmt.Errorf("the failed create left %s behind", name)
			}
			break
		}
		made = append(made, s)
		if _, err := s.WriteAt(bytes.Repeat([]byte{byte(i)}, int(size)), 0); err != nil {
			return err
		}
		if i > 1000 {
			return errors.New("no ENOSPC after 1000 segments")
		}
	}
	for i, s := range made {
		if err := s.Access(func(b []byte) error {
			if bytes.Count(b, []byte{byte(i)}) != len(b) {
				return fmt.Errorf("segment %d changed", i)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// TestFaultLeakLoop creates, writes, closes and unlinks 100 000 segments:
// no descriptor, mapping or segment is left behind.
func TestFaultLeakLoop(t *testing.T) {
	ty := faulttest.New(t)
	fds, maps := testkit.FDs(t), testkit.Maps(t)
	rounds := testkit.EnvInt("MMAPKIT_LEAK_ROUNDS", 100000)
	name := testPrefix + "leak"
	for i := range rounds {
		s, err := Create(name, 4096)
		if err != nil {
			ty.Round(err)
			continue
		}
		_, err = s.WriteAt([]byte("x"), int64(i%4096))
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if uerr := Unlink(name); err == nil {
			err = uerr
		}
		ty.Round(err)
	}
	faulttest.CheckNoGrowth(t, fds, maps, 0)
	if left := leftovers(); len(left) > 0 {
		t.Errorf("segments left behind: %v", left)
	}
}

// TestFaultHostileNames tries names an attacker would pass, and symlinks
// planted where a segment will be created: each is refused with a clear
// error, no link is followed, nothing outside the directory is written.
func TestFaultHostileNames(t *testing.T) {
	ty := faulttest.New(t)
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "planted")); err != nil {
		t.Fatal(err)
	}
	hostile := []string{"", ".", "..", "/..", "../outside", "a/../../outside", "a\x00b", strings.Repeat("n", 300), "planted", "/planted"}
	for _, name := range hostile {
		for what, call := range map[string]func() (*Segment, error){
			"Create":       func() (*Segment, error) { return Create(name, 4096, inDir(dir)) },
			"Open":         func() (*Segment, error) { return Open(name, inDir(dir)) },
			"OpenOrCreate": func() (*Segment, error) { return OpenOrCreate(name, 4096, inDir(dir)) },
		} {
			s, err := call()
			switch {
			case s != nil:
				s.Close()
				ty.Round(fmt.Errorf("%s(%q) succeeded", what, name))
			case err == nil || err.Error() == "":
				ty.Round(fmt.Errorf("%s(%q): no clear error", what, name))
			default:
				ty.Round(nil)
			}
		}
		if strings.HasSuffix(name, "planted") {
			continue // unlinking a planted link removes the link: legitimate
		}
		if err := unlinkIn(dir, name); err == nil {
			ty.Round(fmt.Errorf("Unlink(%q) succeeded", name))
		}
	}
	if got, _ := os.ReadFile(outside); string(got) != "precious" {
		t.Errorf("a planted link was followed: the target holds %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(outside))
	if len(entries) != 1 {
		t.Errorf("files appeared beside the target: %v", entries)
	}
}

// TestFaultManyProcesses has processes write disjoint ranges of one
// segment while others read it: the final contents are exactly what was
// written.
func TestFaultManyProcesses(t *testing.T) {
	ty := faulttest.New(t)
	const writers, span = 6, 1 << 16
	for round := range 100 {
		s, name := create(t, writers*span)
		var cmds []*exec.Cmd
		for w := range writers + 2 {
			c := testkit.Command("read-all", nameEnv+"="+name)
			if w < writers {
				c = testkit.Command("slot", append(testkit.SlotEnv(w, span, round), nameEnv+"="+name)...)
			}
			cmds = append(cmds, c)
		}
		failed := testkit.RunAll(cmds)
		if failed == nil {
			failed = testkit.CheckSlots(s, writers, span, round)
		}
		ty.Round(failed)
	}
}
