//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOwnerNamesAsGetent names every user and group of the local files
// as glibc does: getent's files service is the oracle, and for an id
// that several entries share, the first one wins in both. An id that no
// entry has is given by number.
func TestOwnerNamesAsGetent(t *testing.T) {
	requireTools(t, "getent")
	const getent = "getent"
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

// ownerLines are passwd and group files in the shapes that hand-edited
// and generated files take: blanks before a name or an id, leading
// zeros, a +, comments and NIS entries, missing and empty fields, CR
// line ends, an id past 32 bits, an empty name, no final newline.
var ownerLines = map[string]string{
	"passwd": "root:x:0:0:root:/root:/bin/sh\n" +
		"ann:x:1001:1001::/h:/bin/sh\r\n" +
		"  bea:x:1002:1002::/h:/bin/sh\n" +
		"\tcid:x:1003:1003::/h:/bin/sh\n" +
		"dee:x:01004:1004::/h:/bin/sh\n" +
		"eve:x:+1005:1005::/h:/bin/sh\n" +
		"fay:x: 1006:1006::/h:/bin/sh\n" +
		"gus:x:1007 :1007::/h:/bin/sh\n" +
		"+hal:x:1008:1008::/h:/bin/sh\n" +
		"-ida:x:1009:1009::/h:/bin/sh\n" +
		"#jon:x:1010:1010::/h:/bin/sh\n" +
		" #kat:x:1011:1011::/h:/bin/sh\n" +
		"lee:x:1012::::\n" +
		"max:x:1013:1013\n" +
		"ned:x:1014\n" +
		"oda:x:1015:1015\r\n" +
		"pia:x:4294968312:1016::/h:/bin/sh\n" +
		":x:1017:1017::/h:/bin/sh\n" +
		"que:x:1018:1018::/h:/bin/sh\n" +
		"rex:x:1018:1018::/h:/bin/sh\n" +
		"sue:x:1019:1019::/h:/bin/sh",
	"group": "root:x:0:\n" +
		"g1:x:2001:ann,bea\n" +
		"g2:x:2002\n" +
		"  g3:x:2003:\n" +
		"g4:x:02004:\n" +
		"#g5:x:2005:\n" +
		"+g6:x:2006:\n" +
		"g7:x:\n" +
		"g8:x:2008:\r\n" +
		"g9:x:2009",
}

// TestOwnerNamesAsGlibc reads ownerLines both ways: glibc's files
// service (getent -s files, with the files bind-mounted over /etc/passwd
// and /etc/group in a mount namespace of its own) and lookupID, for every
// id the files hold and a few they do not.
func TestOwnerNamesAsGlibc(t *testing.T) {
	requireTools(t, "getent", "unshare", "mount")
	requireRoot(t) // to bind-mount the files over /etc/passwd and /etc/group
	const getent = "getent"
	if err := exec.Command("unshare", "-m", "true").Run(); err != nil {
		t.Skipf("cannot make a mount namespace (unshare -m): %v", err)
	}
	dir := t.TempDir()
	script := "set -e\n"
	for db, text := range ownerLines {
		path := filepath.Join(dir, db)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		script += "mount --bind " + path + " /etc/" + db + "\n"
	}
	ids := map[string][]uint32{"passwd": {0, 1000, 1016, 1020, 4294967295}, "group": {0, 2000, 2007, 2010}}
	for i := uint32(1001); i <= 1019; i++ {
		ids["passwd"] = append(ids["passwd"], i)
	}
	for i := uint32(2001); i <= 2009; i++ {
		ids["group"] = append(ids["group"], i)
	}
	for db, list := range ids {
		for _, id := range list {
			// One line per id: the name glibc gives, or nothing.
			script += fmt.Sprintf("echo %s %d \"$(%s -s files %s %d | cut -d: -f1)\"\n", db, id, getent, db, id)
		}
	}
	out, err := exec.Command("unshare", "-m", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("glibc's answers: %v\n%s", err, out)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), " ", 3)
		id, _ := strconv.ParseUint(f[1], 10, 32)
		got := lookupID(filepath.Join(dir, f[0]), uint32(id), f[0] == "passwd")
		if got != f[2] {
			t.Errorf("%s id %d: glibc names %q, lookupID %q", f[0], id, f[2], got)
		}
		n++
	}
	if n != len(ids["passwd"])+len(ids["group"]) {
		t.Fatalf("glibc answered for %d ids of %d:\n%s", n, len(ids["passwd"])+len(ids["group"]), out)
	}
}
