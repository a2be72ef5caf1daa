package sysv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The test binary re-runs itself as a child process (os.Args[0] with
// childEnv set) to attach segments from another process.
const (
	childEnv   = "SYSV_TEST_CHILD"
	childKey   = "SYSV_TEST_KEY"
	childID    = "SYSV_TEST_ID"
	childFlags = "SYSV_TEST_FLAGS"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(childMain(role))
	}
	code := m.Run()
	if leaks := leftovers(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "sysv tests left segments behind (remove with ipcrm -m ID):\n")
		for _, info := range leaks {
			fmt.Fprintf(os.Stderr, "\tid %d key %v size %d attaches %d creator pid %d\n",
				info.ID, info.Key, info.Size, info.Attaches, info.CreatorPID)
		}
		code = 1
	}
	os.Exit(code)
}

// made holds the ids of the segments the tests made, by this process or by
// ipcmk(1), for the leak check.
var made struct {
	sync.Mutex
	ids map[int]bool
}

func track(id int) {
	made.Lock()
	defer made.Unlock()
	if made.ids == nil {
		made.ids = map[int]bool{}
	}
	made.ids[id] = true
}

// leftovers returns the segments that are still in the system and were
// made by this suite: tracked, or created by this process.
func leftovers() []Info {
	l, err := List()
	if err != nil {
		return nil // no system list here (not Linux): nothing to check
	}
	made.Lock()
	defer made.Unlock()
	var leaks []Info
	for _, info := range l {
		if made.ids[info.ID] || info.CreatorPID == os.Getpid() {
			leaks = append(leaks, info)
		}
	}
	return leaks
}

// newKey returns a random key that no segment has now.
func newKey(t testing.TB) Key {
	t.Helper()
	for range 100 {
		k := Key(0x5e000000 | rand.Int32N(1<<24))
		if _, taken := lookupKey(k); !taken {
			return k
		}
	}
	t.Fatal("no free key found in 100 tries")
	return 0
}

// cleanupSegment detaches and removes s when the test ends, pass or fail.
func cleanupSegment(t testing.TB, s *Segment) {
	t.Helper()
	track(s.ID())
	t.Cleanup(func() {
		s.Close()
		if err := s.Remove(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// mustCreate creates a segment of size bytes under a fresh key, removed
// when the test ends.
func mustCreate(t testing.TB, size int64, opts ...Option) *Segment {
	t.Helper()
	s, err := Create(newKey(t), size, opts...)
	if err != nil {
		t.Fatal(err)
	}
	cleanupSegment(t, s)
	return s
}

// childMain runs a role in a child process and returns its exit code.
// Roles:
//
//	write: open the key, write SYSV_TEST_FLAGS at offset 100, detach.
//	hold:  attach (by key, or by id when the key is 0), print "attached",
//	       then for each line "W OFF TEXT" on stdin write TEXT at OFF and
//	       print "ok"; detach at the end of stdin.
//	open:  try to open the key (read-only when SYSV_TEST_FLAGS is "ro")
//	       and print the outcome: "ok", or "err", whether the error
//	       matches fs.ErrPermission, and the error text.
func childMain(role string) int {
	key, _ := ParseKey(os.Getenv(childKey))
	id, _ := strconv.Atoi(os.Getenv(childID))
	flags := os.Getenv(childFlags)
	switch role {
	case "write":
		s, err := Open(key)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		if _, err := s.WriteAt([]byte(flags), 100); err != nil {
			fmt.Println(err)
			return 1
		}
		if err := s.Close(); err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	case "hold":
		var s *Segment
		var err error
		if key != Private {
			s, err = Open(key)
		} else {
			s, err = AttachID(id)
		}
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("attached")
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), " ", 3)
			if len(f) != 3 || f[0] != "W" {
				fmt.Println("bad command", sc.Text())
				return 1
			}
			off, _ := strconv.ParseInt(f[1], 10, 64)
			if _, err := s.WriteAt([]byte(f[2]), off); err != nil {
				fmt.Println(err)
				return 1
			}
			fmt.Println("ok")
		}
		if err := s.Close(); err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	case "slot":
		return runSlotWriter(key, flags)
	case "open":
		var opts []Option
		if flags == "ro" {
			opts = append(opts, ReadOnly())
		}
		s, err := Open(key, opts...)
		if err != nil {
			fmt.Printf("err %v %v\n", errors.Is(err, fs.ErrPermission), err)
			return 0
		}
		s.Close()
		fmt.Println("ok")
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown child role", role)
	return 2
}

// slotContent is what child slot w writes in the given round of the
// many-process scenario.
func slotContent(w, span, round int) []byte {
	return bytes.Repeat([]byte{byte('A' + w), byte('0' + round)}, span/2)
}

// runSlotWriter is the "slot" child role: open the key and write slot
// SYSV_TEST_FLAGS="slot,span,round" in 512-byte pieces.
func runSlotWriter(key Key, flags string) int {
	var w, span, round int
	if _, err := fmt.Sscanf(flags, "%d,%d,%d", &w, &span, &round); err != nil {
		fmt.Println(err)
		return 1
	}
	s, err := Open(key)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	content := slotContent(w, span, round)
	for i := 0; i < span; i += 512 {
		if _, err := s.WriteAt(content[i:i+512], int64(w*span+i)); err != nil {
			fmt.Println(err)
			return 1
		}
	}
	if err := s.Close(); err != nil {
		fmt.Println(err)
		return 1
	}
	return 0
}
