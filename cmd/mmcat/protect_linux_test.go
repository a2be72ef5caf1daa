//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// setSysctl sets the sysctl name (fs.protected_regular) to v for the
// test, and back afterwards.
func setSysctl(t *testing.T, name, v string) {
	t.Helper()
	lockSysctls(t)
	p := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
	old, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("this kernel has no sysctl %s: %v", name, err)
	}
	if err := os.WriteFile(p, []byte(v), 0); err != nil {
		t.Skipf("sysctl %s cannot be set here (it needs root and a writable /proc/sys): %v", name, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(p, old, 0); err != nil {
			t.Errorf("restoring sysctl %s: %v", name, err)
		}
	})
}

// sysctlHolders are the tests that hold the lock of lockSysctls.
var sysctlHolders sync.Map // *testing.T → struct{}

// lockSysctls takes, for the rest of t, the lock of the machine's sysctls
// that setSysctl changes: a flock on a file of the temporary directory,
// which other test processes take too (two runs of the suite at once,
// make test beside make test-32bit), so that one test does not turn the
// kernel's protections off while another counts on them. The lock is
// released after the test's own cleanups, its sysctls restored.
func lockSysctls(t *testing.T) {
	t.Helper()
	if _, held := sysctlHolders.LoadOrStore(t, struct{}{}); held {
		return
	}
	path := filepath.Join(os.TempDir(), "mmapkit-test-sysctl.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close() // drops the lock
		sysctlHolders.Delete(t)
	})
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatalf("flock %s: %v", path, err)
	}
}

// kernelProtections turns on the kernel's protections of sticky
// world-writable directories, as systemd distributions set them.
func kernelProtections(t *testing.T) {
	for _, k := range []string{"protected_symlinks", "protected_regular", "protected_fifos"} {
		setSysctl(t, "fs."+k, "1")
	}
}

// stranger is the owner of what another user leaves in a sticky
// directory: neither the user who runs the command nor the directory's
// owner (root).
const stranger = 12345

// stickyDir makes name a world-writable sticky directory owned by root,
// as /tmp is.
func stickyDir(f *fixture, name string) string {
	f.t.Helper()
	d := f.mkdir(name, 0o1777)
	if err := os.Chown(d, 0, 0); err != nil {
		f.t.Fatal(err)
	}
	return d
}

// rootFile makes a 0600 file of root's holding old, in a root-owned
// directory name: what another user's link must not lead root to.
func rootFile(f *fixture, dir, name string) string {
	f.t.Helper()
	d := f.path(dir)
	if err := os.Mkdir(d, 0o755); err != nil && !os.IsExist(err) {
		f.t.Fatal(err)
	}
	p := filepath.Join(d, name)
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// strangersLink makes tmp/link a symbolic link of another user's to
// target.
func strangersLink(f *fixture, target string) string {
	f.t.Helper()
	p := f.path("tmp/link")
	if err := os.Symlink(target, p); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Lchown(p, stranger, stranger); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// TestOutputKernelProtections: with fs.protected_symlinks,
// protected_regular and protected_fifos on, root's -o into a sticky
// world-writable directory is refused exactly where cat > DEST is, and
// changes nothing: another user's file and FIFO are not written, and
// another user's link is not followed, to a file or to a name to create.
func TestOutputKernelProtections(t *testing.T) {
	requireRoot(t)
	requireTools(t, "getfattr", "lsattr")
	kernelProtections(t)
	base := testkit.SharedDir(t)
	a := writeFile(t, base, "a", []byte("first source\n"))
	b := writeFile(t, base, "b", []byte("second source\n"))
	for _, p := range []string{a, b} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := []runAs{asRoot}
	cases := []destCase{
		{name: "another user's file", users: root, setup: func(f *fixture) (string, []string) {
			stickyDir(f, "tmp")
			p := f.file("tmp/out", "old", 0o666)
			if err := os.Chown(p, stranger, stranger); err != nil {
				f.t.Fatal(err)
			}
			return p, nil
		}},
		{name: "another user's FIFO", users: root, reader: true, setup: func(f *fixture) (string, []string) {
			stickyDir(f, "tmp")
			p := f.path("tmp/fifo")
			if err := unix.Mkfifo(p, 0o666); err != nil {
				f.t.Fatal(err)
			}
			if err := os.Chown(p, stranger, stranger); err != nil {
				f.t.Fatal(err)
			}
			return p, nil
		}},
		{name: "another user's link to root's file", users: root, setup: func(f *fixture) (string, []string) {
			stickyDir(f, "tmp")
			return strangersLink(f, rootFile(f, "secret", "important")), nil
		}},
		{name: "another user's dangling link", users: root, setup: func(f *fixture) (string, []string) {
			stickyDir(f, "tmp")
			rootFile(f, "secret", "important")
			return strangersLink(f, f.path("secret/created")), nil
		}},
	}
	for _, c := range cases {
		c.compare(t, a, b)
	}
}

// TestOutputSymlinkRace: another user flips a link in a sticky directory
// between a root-owned target and nothing, as fast as it can, while root
// runs -o onto the link's name. With fs.protected_symlinks on, the
// kernel never lets root follow that link (cat > DEST is refused every
// time), so no run of mmcat may create or change a file in the
// directory the link points into, whether the link is there when mmcat
// looks at it, gone when it opens the name, or back again.
func TestOutputSymlinkRace(t *testing.T) {
	requireRoot(t)
	requireTools(t, "/usr/bin/python3")
	kernelProtections(t)
	dir := testkit.SharedDir(t)
	tmp := filepath.Join(dir, "tmp")
	secret := filepath.Join(dir, "secret")
	for d, mode := range map[string]uint32{tmp: 0o1777, secret: 0o755} {
		if err := os.Mkdir(d, 0); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
	}
	important := filepath.Join(secret, "important")
	link := filepath.Join(tmp, "evil")
	for _, target := range []string{important, filepath.Join(secret, "created")} {
		t.Run(filepath.Base(target), func(t *testing.T) {
			if err := os.WriteFile(important, []byte("ORIGINAL"), 0o600); err != nil {
				t.Fatal(err)
			}
			flipper := asNobody.command("/usr/bin/python3", "-c", `
import os, sys
target, link = sys.argv[1], sys.argv[2]
while True:
    try:
        os.symlink(target, link)
    except FileExistsError:
        pass
    try:
        os.unlink(link)
    except OSError:
        pass
`, target, link)
			if err := flipper.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = flipper.Process.Kill()
				_ = flipper.Wait()
				_ = os.Remove(link)
			}()
			deadline := time.Now().Add(20 * time.Second)
			refused, wrote := 0, 0
			for i := 0; i < 300 && time.Now().Before(deadline); i++ {
				cmd := asRoot.command(mmcatBin, "-o", link)
				cmd.Stdin = strings.NewReader(fmt.Sprintf("root output %d\n", i))
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil {
					refused++
				} else {
					wrote++
				}
				if b, err := os.ReadFile(important); err != nil || string(b) != "ORIGINAL" {
					t.Fatalf("run %d: %s now holds %q (%v); mmcat said %q", i, important, b, err, stderr.String())
				}
				if fi, err := os.Stat(important); err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("run %d: %s: %v, %v; want mode 0600", i, important, fi.Mode(), err)
				}
				if _, err := os.Lstat(filepath.Join(secret, "created")); err == nil {
					t.Fatalf("run %d: mmcat created %s through another user's link; it said %q", i, filepath.Join(secret, "created"), stderr.String())
				}
				// Root's own file, made where the link was absent, is
				// removed for the next run.
				if fi, err := os.Lstat(link); err == nil && fi.Mode().IsRegular() {
					_ = os.Remove(link)
				}
			}
			t.Logf("%d runs refused, %d wrote a new file of root's in place of the absent link", refused, wrote)
		})
	}
}
