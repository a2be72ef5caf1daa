package shm

import (
	"errors"
	"io/fs"
	"testing"
)

// TestAfterCloseUnlinkAndBadArguments closes segments, named and
// anonymous, and calls what would fail on an open one too: Unlink of an
// anonymous segment (which has no name), a negative Truncate, a negative
// WriteAt. Every error matches fs.ErrClosed first.
func TestAfterCloseUnlinkAndBadArguments(t *testing.T) {
	anon, err := CreateAnonymous(4096)
	if err != nil {
		t.Fatal(err)
	}
	name := segName(t)
	named, err := Create(name, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := Unlink(name); err != nil {
		t.Fatal(err)
	}
	for kind, s := range map[string]*Segment{"anonymous": anon, "named": named} {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, writeErr := s.WriteAt([]byte("x"), -1)
		f, fileErr := s.File()
		if f != nil {
			f.Close()
			t.Errorf("%s: File after Close returned a descriptor", kind)
		}
		for call, err := range map[string]error{
			"Unlink":         s.Unlink(),
			"Truncate(-1)":   s.Truncate(-1),
			"WriteAt(p, -1)": writeErr,
			"File":           fileErr,
		} {
			if !errors.Is(err, fs.ErrClosed) {
				t.Errorf("%s: %s after Close = %v; want fs.ErrClosed", kind, call, err)
			}
		}
	}
}
