//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// runAs is who runs a command: root, or the unprivileged user nobody.
type runAs struct {
	name     string
	uid, gid int
}

var (
	asRoot   = runAs{"root", 0, 0}
	asNobody = runAs{"nobody", 65534, 65534}
)

// command returns a command that runs as u in /, in the C locale; a copy
// of the test binary runs as mmcat.
func (u runAs) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", asMmcat)
	cmd.Dir = "/"
	if u.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: []uint32{}}}
	}
	return cmd
}

// requireRoot skips a test that needs root's powers (chown, mount,
// running commands as another user).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// requireTools skips a test when an oracle it needs is missing
// (scripts/deps.sh installs them).
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("needs %s (scripts/deps.sh installs it)", n)
		}
	}
}

// binFor returns a copy of the command under test that u can run (the
// test binary sits in a directory only its owner can enter).
func binFor(t *testing.T, u runAs) string {
	t.Helper()
	if u.uid == 0 {
		return mmcatBin
	}
	b, err := os.ReadFile(mmcatBin)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(testkit.SharedDir(t), "mmcat")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture is a directory where a case builds the situation of DEST, as
// the user who will write it.
type fixture struct {
	t    *testing.T
	dir  string
	user runAs
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// own gives p to the fixture's user.
func (f *fixture) own(p string) {
	f.t.Helper()
	if err := os.Lchown(p, f.user.uid, f.user.gid); err != nil {
		f.t.Fatal(err)
	}
}

// file creates name with the contents and exactly the mode, owned by the
// fixture's user, and returns its path. The mode is in chmod(2)'s bits
// (0o4755 is set-user-ID): see chmod.
func (f *fixture) file(name, contents string, mode os.FileMode) string {
	f.t.Helper()
	p := f.path(name)
	if err := os.WriteFile(p, []byte(contents), 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.own(p)
	f.chmod(p, mode)
	return p
}

// chmod gives p the mode in chmod(2)'s bits. Not os.Chmod, which reads
// the set-ID and sticky bits from os.ModeSetuid and its kin and drops
// 0o7000.
func (f *fixture) chmod(p string, mode os.FileMode) {
	f.t.Helper()
	if err := unix.Chmod(p, uint32(mode)); err != nil {
		f.t.Fatal(err)
	}
}

// mkdir creates the directory name with the mode (chmod(2)'s bits),
// owned by the user.
func (f *fixture) mkdir(name string, mode os.FileMode) string {
	f.t.Helper()
	p := f.path(name)
	if err := os.Mkdir(p, 0o700); err != nil {
		f.t.Fatal(err)
	}
	f.own(p)
	f.chmod(p, mode)
	return p
}

// symlink makes name a symbolic link to target, owned by the user.
func (f *fixture) symlink(target, name string) string {
	f.t.Helper()
	p := f.path(name)
	if err := os.Symlink(target, p); err != nil {
		f.t.Fatal(err)
	}
	f.own(p)
	return p
}

// sh runs a setup command (setfacl, setfattr, chattr, setcap) as root.
func (f *fixture) sh(name string, args ...string) {
	f.t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		f.t.Fatalf("%s %q: %v: %s", name, args, err, out)
	}
}

// world describes every file under root, and the extra paths, so that
// what cat > DEST left can be compared with what mmcat -o DEST left: type,
// permissions, owner, group, links, contents, extended attributes (ACLs
// and capabilities among them, read by getfattr) and flags (lsattr).
func world(t *testing.T, root string, extra ...string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m[rel] = strings.ReplaceAll(describeFile(t, p), root, "$ROOT")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range extra {
		m[fmt.Sprintf("extra %d", i)] = describeFile(t, p)
	}
	return m
}

func describeFile(t *testing.T, p string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return "missing"
	}
	kinds := map[uint32]string{unix.S_IFREG: "file", unix.S_IFDIR: "dir", unix.S_IFLNK: "symlink",
		unix.S_IFIFO: "fifo", unix.S_IFCHR: "chardev", unix.S_IFBLK: "blockdev", unix.S_IFSOCK: "socket"}
	kind := kinds[st.Mode&unix.S_IFMT]
	s := fmt.Sprintf("%s mode=%04o uid=%d gid=%d", kind, st.Mode&0o7777, st.Uid, st.Gid)
	switch kind {
	case "symlink":
		l, _ := os.Readlink(p)
		return s + " -> " + l
	case "file":
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s += fmt.Sprintf(" links=%d size=%d sha256=%x head=%q", st.Nlink, len(b), sha256.Sum256(b), b[:min(len(b), 24)])
		if out, err := exec.Command("lsattr", "-d", p).Output(); err == nil {
			s += " flags=" + strings.Fields(string(out))[0]
		}
	}
	if kind == "file" || kind == "dir" {
		out, err := exec.Command("getfattr", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", p).Output()
		if err != nil {
			t.Fatalf("getfattr %s: %v", p, err)
		}
		var attrs []string
		for _, l := range strings.Split(string(out), "\n") {
			if l != "" && !strings.HasPrefix(l, "# file:") {
				attrs = append(attrs, l)
			}
		}
		s += " xattrs=[" + strings.Join(attrs, " ") + "]"
	}
	return s
}

// diffWorlds says how two worlds differ, or "" if they do not.
func diffWorlds(got, want map[string]string) string {
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "  %s:\n    mmcat: %s\n    cat:   %s\n", k, orMissing(got[k]), orMissing(want[k]))
		}
	}
	return b.String()
}

func orMissing(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

// destCase is a situation of DEST to write with cat and with mmcat.
type destCase struct {
	name  string
	setup func(f *fixture) (dest string, extra []string)
	// refuse names the users for whom mmcat -o refuses to replace DEST
	// (cat > DEST works, but a replace would lose what it keeps), and
	// must leave it untouched; --in-place must then do what cat does.
	refuse []runAs
	// users who run the case; nil means root and nobody.
	users []runAs
	// stdout, when set, is a file in the fixture (and its contents)
	// that standard output is redirected to, appending if append.
	stdout, stdoutContents string
	append                 bool
	// reader reads DEST (a FIFO) into DEST.got while it is written.
	reader bool
	// privateDev runs the command in a mount namespace of its own, over
	// a /dev that the fixture holds: a DEST in /dev that a broken
	// command replaced (as mmcat once replaced /dev/stdout) is then the
	// fixture's, and shows in its world, not the machine's.
	privateDev bool
}

// destRun is what a run of cat or mmcat did.
type destRun struct {
	code   int
	stderr string
	world  map[string]string
}

// run builds the case in a fresh fixture under base and runs argv (with
// DEST for the string "DEST") as u.
func (c *destCase) run(t *testing.T, base string, u runAs, name string, argv ...string) destRun {
	t.Helper()
	f := &fixture{t: t, dir: filepath.Join(base, name), user: u}
	if err := os.Mkdir(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.own(f.dir)
	dest, extra := c.setup(f)
	for i, a := range argv {
		if a == "DEST" {
			argv[i] = dest
		}
	}
	cmd := u.command(argv[0], argv[1:]...)
	if c.privateDev {
		cmd = privateDevCommand(f, argv)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.stdout != "" {
		p := f.file(c.stdout, c.stdoutContents, 0o644)
		flag := os.O_WRONLY
		if c.append {
			flag |= os.O_APPEND
		}
		out, err := os.OpenFile(p, flag, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		cmd.Stdout = out
	}
	var reader *exec.Cmd
	if c.reader {
		got, err := os.Create(dest + ".got")
		if err != nil {
			t.Fatal(err)
		}
		defer got.Close()
		reader = exec.Command("cat", dest)
		reader.Stdout = got
		if err := reader.Start(); err != nil {
			t.Fatal(err)
		}
	}
	err := cmd.Run()
	if reader != nil {
		// A writer that never opened the FIFO leaves the reader waiting
		// for one: open and close it, which ends the reader's input,
		// again until the reader ends (it may not have opened its end
		// yet, and a writer's open then fails).
		done := make(chan error, 1)
		go func() { done <- reader.Wait() }()
		for end := time.Now().Add(time.Minute); ; {
			if fd, err := unix.Open(dest, unix.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
				_ = unix.Close(fd)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Millisecond):
				if time.Now().Before(end) {
					continue
				}
				t.Fatal("the FIFO's reader never ended")
			}
			if err != nil {
				t.Fatalf("reading the FIFO: %v", err)
			}
			break
		}
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	w := world(t, f.dir, extra...)
	w["stdout"] = stdout.String()
	return destRun{code: code, stderr: stderr.String(), world: w}
}

// TestOutputLikeCat writes two sources to DEST in each situation of the
// table, with sh -c 'cat A B > DEST' and with mmcat -o DEST A B, as root
// and as nobody, and compares everything both leave behind. Where mmcat
// refuses on purpose (a replace cannot keep what cat keeps), it must say
// so, change nothing, and match cat with --in-place. doc.go has the same
// table in words.
func TestOutputLikeCat(t *testing.T) {
	requireRoot(t)
	requireTools(t, "getfattr", "setfattr", "setfacl", "setcap", "lsattr", "chattr", "unshare", "setpriv", "mount")
	// The sticky-directory cases are about what a replace keeps; the
	// kernel's protections there (which refuse cat too) are
	// TestOutputKernelProtections'.
	for _, k := range []string{"protected_symlinks", "protected_regular", "protected_fifos"} {
		setSysctl(t, "fs."+k, "0")
	}
	base := testkit.SharedDir(t)
	a := writeFile(t, base, "a", append([]byte("first source\n"), randomBytes(70000)...))
	b := writeFile(t, base, "b", []byte("second source\n"))
	for _, p := range []string{a, b} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	loop := func(f *fixture) (string, []string) {
		back := f.file("backing", strings.Repeat("\x00", 1<<20), 0o600)
		out, err := exec.Command("losetup", "--find", "--show", back).Output()
		if err != nil {
			f.t.Skipf("no loop device: %v", err)
		}
		dev := strings.TrimSpace(string(out))
		f.t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
		f.own(dev)
		return dev, nil
	}
	cases := []destCase{
		{name: "new file", setup: func(f *fixture) (string, []string) { return f.path("out"), nil }},
		{name: "existing file", setup: func(f *fixture) (string, []string) { return f.file("out", "old\n", 0o640), nil }},
		{name: "symlink to a 0600 file", setup: func(f *fixture) (string, []string) {
			f.file("target", "old", 0o600)
			return f.symlink("target", "link"), nil
		}},
		{name: "chain of symlinks into a subdirectory", setup: func(f *fixture) (string, []string) {
			f.mkdir("sub", 0o755)
			f.file("sub/t", "old", 0o604)
			f.symlink("sub/t", "l1")
			return f.symlink("l1", "l2"), nil
		}},
		{name: "symlink through ..", setup: func(f *fixture) (string, []string) {
			f.mkdir("sub", 0o755)
			f.file("t", "old", 0o640)
			return f.symlink("../t", "sub/link"), nil
		}},
		{name: "dangling symlink", setup: func(f *fixture) (string, []string) { return f.symlink("created", "link"), nil }},
		{name: "setuid", setup: func(f *fixture) (string, []string) { return f.file("out", "old", 0o4755), nil }},
		{name: "setgid", setup: func(f *fixture) (string, []string) { return f.file("out", "old", 0o2755), nil }},
		{name: "setgid without group execute", setup: func(f *fixture) (string, []string) { return f.file("out", "old", 0o2644), nil }},
		{name: "sticky bit", setup: func(f *fixture) (string, []string) { return f.file("out", "old", 0o1644), nil }},
		{name: "ACL", setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o640)
			f.sh("setfacl", "-m", "u:12345:rw,g:12346:r", p)
			return p, nil
		}},
		{name: "extended attributes", setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o644)
			f.sh("setfattr", "-n", "user.origin", "-v", "kept", p)
			f.sh("setfattr", "-n", "user.empty", p)
			return p, nil
		}},
		{name: "trusted extended attribute", users: []runAs{asRoot}, setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o644)
			f.sh("setfattr", "-n", "trusted.origin", "-v", "kept", p)
			return p, nil
		}},
		{name: "file capability", setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o755)
			f.sh("setcap", "cap_net_bind_service=ep", p)
			return p, nil
		}},
		{name: "nodump and noatime flags", setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o644)
			f.sh("chattr", "+dA", p)
			return p, nil
		}},
		{name: "default ACL of the directory, file without ACL", setup: func(f *fixture) (string, []string) {
			f.mkdir("sub", 0o755)
			f.sh("setfacl", "-d", "-m", "u:12345:rwx", f.path("sub"))
			p := f.file("sub/out", "old", 0o644)
			f.sh("setfacl", "-b", p)
			return p, nil
		}},
		{name: "default ACL of the directory, new file", setup: func(f *fixture) (string, []string) {
			f.mkdir("sub", 0o755)
			f.sh("setfacl", "-d", "-m", "u:12345:rwx,m::rwx", f.path("sub"))
			return f.path("sub/out"), nil
		}},
		{name: "hard link", refuse: []runAs{asRoot, asNobody}, setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o644)
			if err := os.Link(p, f.path("other")); err != nil {
				f.t.Fatal(err)
			}
			return p, nil
		}},
		{name: "another user's file in a sticky directory", refuse: []runAs{asNobody}, setup: func(f *fixture) (string, []string) {
			d := f.mkdir("tmp", 0o1777)
			if err := os.Chown(d, 0, 0); err != nil {
				f.t.Fatal(err)
			}
			p := f.file("tmp/out", "old", 0o666)
			if err := os.Chown(p, 12345, 12345); err != nil {
				f.t.Fatal(err)
			}
			return p, nil
		}},
		{name: "another group's file", refuse: []runAs{asNobody}, setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o664)
			if err := os.Chown(p, f.user.uid, 12346); err != nil {
				f.t.Fatal(err)
			}
			return p, nil
		}},
		{name: "directory the user cannot write", refuse: []runAs{asNobody}, setup: func(f *fixture) (string, []string) {
			f.mkdir("ro", 0o755)
			p := f.file("ro/out", "old", 0o666)
			if err := os.Chmod(f.path("ro"), 0o555); err != nil {
				f.t.Fatal(err)
			}
			return p, nil
		}},
		{name: "read-only file", setup: func(f *fixture) (string, []string) { return f.file("out", "old", 0o444), nil }},
		{name: "another user's read-only file that an ACL lets the user write", refuse: []runAs{asNobody}, setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o444)
			if err := os.Chown(p, 12345, 12345); err != nil {
				f.t.Fatal(err)
			}
			f.sh("setfacl", "-m", "u:nobody:rw", p)
			return p, nil
		}},
		{name: "immutable file", setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o644)
			f.sh("chattr", "+i", p)
			f.t.Cleanup(func() { _ = exec.Command("chattr", "-i", p).Run() })
			return p, nil
		}},
		{name: "append-only file", setup: func(f *fixture) (string, []string) {
			p := f.file("out", "old", 0o644)
			f.sh("chattr", "+a", p)
			f.t.Cleanup(func() { _ = exec.Command("chattr", "-a", p).Run() })
			return p, nil
		}},
		{name: "file on a read-only mount", setup: func(f *fixture) (string, []string) {
			f.mkdir("rw", 0o755)
			f.file("rw/out", "old", 0o644)
			ro := f.mkdir("ro", 0o755)
			f.sh("mount", "--bind", f.path("rw"), ro)
			f.t.Cleanup(func() { _ = exec.Command("umount", ro).Run() })
			f.sh("mount", "-o", "remount,bind,ro", ro)
			return filepath.Join(ro, "out"), nil
		}},
		{name: "write-only file", setup: func(f *fixture) (string, []string) { return f.file("out", "old", 0o200), nil }},
		{name: "FIFO", reader: true, setup: func(f *fixture) (string, []string) {
			p := f.path("fifo")
			if err := unix.Mkfifo(p, 0o644); err != nil {
				f.t.Fatal(err)
			}
			f.own(p)
			return p, nil
		}},
		{name: "/dev/null", privateDev: true, setup: func(*fixture) (string, []string) { return "/dev/null", []string{"/dev/null"} }},
		{name: "/dev/stdout to a pipe", privateDev: true, setup: func(*fixture) (string, []string) { return "/dev/stdout", []string{"/dev/stdout"} }},
		{name: "/dev/stdout to a file", privateDev: true, stdout: "out", stdoutContents: "previous contents\n", setup: func(*fixture) (string, []string) {
			return "/dev/stdout", []string{"/dev/stdout"}
		}},
		{name: "/dev/stdout to a file opened for appending", privateDev: true, stdout: "out", stdoutContents: "previous contents\n", append: true, setup: func(*fixture) (string, []string) {
			return "/dev/stdout", []string{"/dev/stdout"}
		}},
		{name: "/proc/self/fd/1 to a file", stdout: "out", setup: func(*fixture) (string, []string) { return "/proc/self/fd/1", nil }},
		{name: "/dev/fd/1 to a file", privateDev: true, stdout: "out", setup: func(*fixture) (string, []string) { return "/dev/fd/1", nil }},
		{name: "block device", users: []runAs{asRoot}, setup: loop},
		{name: "a directory", setup: func(f *fixture) (string, []string) { return f.mkdir("out", 0o755), nil }},
		{name: "in a missing directory", setup: func(f *fixture) (string, []string) { return f.path("no/such/out"), nil }},
		{name: "name of 250 bytes", setup: func(f *fixture) (string, []string) {
			return f.file(strings.Repeat("n", 250), "old", 0o640), nil
		}},
		{name: "new name of 255 bytes", setup: func(f *fixture) (string, []string) { return f.path(strings.Repeat("n", 255)), nil }},
		{name: "bind-mounted file", refuse: []runAs{asRoot, asNobody}, setup: func(f *fixture) (string, []string) {
			src := f.file("hosts.src", "old hosts\n", 0o644)
			p := f.file("hosts", "", 0o644)
			if out, err := exec.Command("mount", "--bind", src, p).CombinedOutput(); err != nil {
				f.t.Skipf("cannot bind-mount: %v: %s", err, out)
			}
			f.t.Cleanup(func() { _ = exec.Command("umount", p).Run() })
			return p, nil
		}},
	}
	for _, c := range cases {
		c.compare(t, a, b)
	}
}

// compare runs the case as each of its users, with cat > DEST and with
// mmcat -o DEST of the sources a and b, and compares what both leave;
// where mmcat refuses on purpose, it checks the refusal and --in-place.
func (c *destCase) compare(t *testing.T, a, b string) {
	t.Helper()
	users := c.users
	if users == nil {
		users = []runAs{asRoot, asNobody}
	}
	for _, u := range users {
		t.Run(c.name+" as "+u.name, func(t *testing.T) {
			bin := binFor(t, u)
			dir := testkit.SharedDir(t)
			catRun := c.run(t, dir, u, "cat", "sh", "-c", `dest=$1; shift; exec cat "$@" > "$dest"`, "sh", "DEST", a, b)
			if !refuses(c.refuse, u) {
				mm := c.run(t, dir, u, "mmcat", bin, "-o", "DEST", a, b)
				if (mm.code == 0) != (catRun.code == 0) {
					t.Errorf("mmcat exit %d (%s), cat exit %d (%s)", mm.code, mm.stderr, catRun.code, catRun.stderr)
				}
				if d := diffWorlds(mm.world, catRun.world); d != "" {
					t.Errorf("mmcat -o left another world than cat > DEST:\n%s", d)
				}
				if catRun.code != 0 {
					t.Logf("both refused: cat %q, mmcat %q", catRun.stderr, mm.stderr)
				}
				return
			}
			before := c.run(t, dir, u, "before", "true")
			mm := c.run(t, dir, u, "mmcat", bin, "-o", "DEST", a, b)
			if mm.code != 1 || !strings.Contains(mm.stderr, "--in-place") {
				t.Errorf("mmcat exit %d, stderr %q; want 1 and a message that offers --in-place", mm.code, mm.stderr)
			}
			if d := diffWorlds(mm.world, before.world); d != "" {
				t.Errorf("a refused -o changed things:\n%s", d)
			}
			t.Logf("refused: %s", strings.TrimSpace(mm.stderr))
			in := c.run(t, dir, u, "in-place", bin, "--in-place", "-o", "DEST", a, b)
			if in.code != catRun.code {
				t.Errorf("--in-place exit %d (%s), cat exit %d", in.code, in.stderr, catRun.code)
			}
			if d := diffWorlds(in.world, catRun.world); d != "" {
				t.Errorf("mmcat --in-place left another world than cat > DEST:\n%s", d)
			}
		})
	}
}

// privateDevCommand runs argv as the fixture's user with the fixture's
// dev directory mounted on /dev, in a mount namespace of its own.
func privateDevCommand(f *fixture, argv []string) *exec.Cmd {
	f.t.Helper()
	dev := f.mkdir("dev", 0o755)
	if err := os.Chown(dev, 0, 0); err != nil {
		f.t.Fatal(err)
	}
	null := filepath.Join(dev, "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chmod(null, 0o666); err != nil {
		f.t.Fatal(err)
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			f.t.Fatal(err)
		}
	}
	script := `mount --bind "$1" /dev || exit 125; shift; exec "$@"`
	args := []string{"--mount", "--propagation", "private", "sh", "-c", script, "sh", dev}
	if f.user.uid != 0 {
		args = append(args, "setpriv", fmt.Sprintf("--reuid=%d", f.user.uid), fmt.Sprintf("--regid=%d", f.user.gid), "--clear-groups")
	}
	return asRoot.command("unshare", append(args, argv...)...)
}

func refuses(users []runAs, u runAs) bool {
	for _, r := range users {
		if r == u {
			return true
		}
	}
	return false
}
