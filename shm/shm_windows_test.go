//go:build windows

package shm

import (
	"errors"
	"io/fs"
	"testing"
)

func TestWindowsLifetimeFollowsHandles(t *testing.T) {
	s, name := create(t, 4096)
	if _, err := s.WriteAt([]byte("kept"), 0); err != nil {
		t.Fatal(err)
	}
	peer, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// The peer's handle keeps the segment, and its name, alive.
	again, err := Open(name)
	if err != nil {
		t.Fatalf("segment gone while a handle is open: %v", err)
	}
	got := make([]byte, 4)
	if _, err := again.ReadAt(got, 0); err != nil || string(got) != "kept" {
		t.Fatalf("read %q, %v", got, err)
	}
	again.Close()
	peer.Close()
	_, err = Open(name)
	wantErr(t, err, fs.ErrNotExist, "open "+name)
}

func TestWindowsGlobalNamespace(t *testing.T) {
	name := segName(t)
	g, err := Create(name, 4096, Global())
	if err != nil {
		t.Skipf("creating a Global\\ object: %v (needs SeCreateGlobalPrivilege)", err)
	}
	closeOnCleanup(t, g)
	if _, err := Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Local\\%s opened the Global\\ segment: %v", name, err)
	}
	p, err := Open(name, Global())
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
}
