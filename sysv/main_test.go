package sysv

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// The arguments of the child jobs: the key and id of the segment, and
// what to write or how to open it.
const (
	keyEnv   = "MMAPKIT_SYSV_KEY"
	idEnv    = "MMAPKIT_SYSV_ID"
	flagsEnv = "MMAPKIT_SYSV_FLAGS"
)

// TestMain lets the test binary serve as the other process of the
// cross-process tests: with a job named it does that job and exits.
// Otherwise it runs the tests, then fails the run if they left a segment
// behind.
func TestMain(m *testing.M) {
	testkit.Serve(jobs)
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

// jobs are the other process of the cross-process tests. Each opens the
// segment of MMAPKIT_SYSV_KEY; what it does there is its doc.
var jobs = testkit.Jobs{
	// write writes MMAPKIT_SYSV_FLAGS at offset 100 and detaches.
	"write": func() error {
		s, err := Open(envKey())
		if err != nil {
			return err
		}
		if _, err := s.WriteAt([]byte(os.Getenv(flagsEnv)), 100); err != nil {
			s.Close()
			return err
		}
		return s.Close()
	},
	// hold attaches (by key, or by MMAPKIT_SYSV_ID when the key is 0),
	// prints "attached", then for each line "W OFF TEXT" on stdin writes
	// TEXT at OFF and prints "ok"; it detaches at the end of stdin.
	"hold": func() error {
		var s *Segment
		var err error
		if key := envKey(); key != Private {
			s, err = Open(key)
		} else {
			id, _ := strconv.Atoi(os.Getenv(idEnv))
			s, err = AttachID(id)
		}
		if err != nil {
			return err
		}
		fmt.Println("attached")
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), " ", 3)
			if len(f) != 3 || f[0] != "W" {
				s.Close()
				return fmt.Errorf("bad command %q", sc.Text())
			}
			off, _ := strconv.ParseInt(f[1], 10, 64)
			if _, err := s.WriteAt([]byte(f[2]), off); err != nil {
				s.Close()
				return err
			}
			fmt.Println("ok")
		}
		return s.Close()
	},
	// slot writes the slot of testkit.SlotEnv.
	"slot": func() error {
		slot, span, round, err := testkit.SlotFromEnv()
		if err != nil {
			return err
		}
		s, err := Open(envKey())
		if err != nil {
			return err
		}
		if err := testkit.WriteSlot(s, slot, span, round); err != nil {
			s.Close()
			return err
		}
		return s.Close()
	},
	// open tries to open the key (read-only when MMAPKIT_SYSV_FLAGS is
	// "ro") and prints the outcome: "ok", or "err", whether the error
	// matches fs.ErrPermission, and the error text.
	"open": func() error {
		var opts []Option
		if os.Getenv(flagsEnv) == "ro" {
			opts = append(opts, ReadOnly())
		}
		s, err := Open(envKey(), opts...)
		if err != nil {
			fmt.Printf("err %v %v\n", errors.Is(err, fs.ErrPermission), err)
			return nil
		}
		s.Close()
		fmt.Println("ok")
		return nil
	},
}

// envKey is the key a job works on.
func envKey() Key {
	key, _ := ParseKey(os.Getenv(keyEnv))
	return key
}
