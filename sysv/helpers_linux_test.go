package sysv

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"testing"
)

// track adds id to the segments the leak check looks for.
func track(id int) {
	made.Lock()
	defer made.Unlock()
	if made.ids == nil {
		made.ids = map[int]bool{}
	}
	made.ids[id] = true
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
