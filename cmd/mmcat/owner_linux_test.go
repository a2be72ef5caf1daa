//go:build linux

package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestOwnerNamesAsGetent names every user and group of the local files
// as glibc does: getent's files service is the oracle, and for an id
// that several entries share, the first one wins in both. An id that no
// entry has is given by number.
func TestOwnerNamesAsGetent(t *testing.T) {
	getent, err := exec.LookPath("getent")
	if err != nil {
		t.Skip("no getent on this machine to name the owners")
	}
	for _, c := range []struct {
		db, kind string
		name     func(uint32) string
	}{{"passwd", "uid", userName}, {"group", "gid", groupName}} {
		out, err := exec.Command(getent, "-s", "files", c.db).Output()
		if err != nil {
			t.Fatalf("getent -s files %s: %v", c.db, err)
		}
		seen := map[uint64]bool{}
		for line := range strings.Lines(string(out)) {
			f := strings.Split(strings.TrimSpace(line), ":")
			id, err := strconv.ParseUint(f[2], 10, 32)
			if err != nil || seen[id] {
				continue
			}
			seen[id] = true
			// getent -s files DB ID answers for an id as glibc's lookup by id does.
			first, err := exec.Command(getent, "-s", "files", c.db, f[2]).Output()
			if err != nil {
				t.Fatalf("getent -s files %s %s: %v", c.db, f[2], err)
			}
			want := strings.SplitN(string(first), ":", 2)[0] + " (" + c.kind + " " + f[2] + ")"
			if got := c.name(uint32(id)); got != want {
				t.Errorf("%s of %d = %q; want %q", c.kind, id, got, want)
			}
		}
		if len(seen) == 0 {
			t.Fatalf("getent -s files %s listed no entries", c.db)
		}
		free := uint32(4000000000)
		for seen[uint64(free)] {
			free++
		}
		if got, want := c.name(free), c.kind+" "+strconv.FormatUint(uint64(free), 10); got != want {
			t.Errorf("%s of an id no entry has = %q; want %q", c.kind, got, want)
		}
	}
}
