//go:build unix

package main

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/mmfile"
)

// toFile writes the output to the FILE DEST. doc.go has the table of what
// this does to DEST, side by side with cat > DEST: a DEST that is not a
// regular file, or that only a descriptor names, is written in place as
// the shell's > would open it; a regular file is replaced atomically with
// everything cat would keep, or refused with the reason, and --in-place
// writes it as cat does.
func (r *runner) toFile(path string, sig *signalCleanup) {
	t, err := openTarget(path, r.cfg.inPlace)
	if err != nil {
		r.fail(path, err)
		return
	}
	if t.inPlace {
		r.writeInPlace(t)
		return
	}
	r.replace(t, sig)
}

// target is a FILE DEST, opened as the shell's > opens it, and what -o
// does with it.
type target struct {
	path string   // DEST as given
	f    *os.File // DEST opened for writing; for a running program, for reading; nil if there is no file yet
	// inPlace: write f as cat > DEST would; truncate it first as the
	// shell's O_TRUNC does when truncate is set. what says what DEST is.
	inPlace, truncate bool
	what              string
	// dir and base name the file to replace, every symbolic link to it
	// followed; dir may be relative.
	dir, base string
}

// openTarget opens DEST and decides how to write it.
func openTarget(path string, inPlace bool) (*target, error) {
	if inPlace {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOCTTY, 0o666)
		if err != nil {
			return nil, err
		}
		return &target{path: path, f: f, inPlace: true, what: "written in place (--in-place)"}, nil
	}
	t := &target{path: path}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		// No file and no link: the new file gets this name, and appears
		// only once it is whole.
		t.dir, t.base = splitPath(path)
		if t.base == "" || t.base == "." || t.base == ".." {
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
		}
		if !isProcfs(t.dir) {
			return t, nil
		}
	}
	// Whatever is there is opened as the shell's > opens it, less
	// O_TRUNC: the kernel follows the links and applies its protections
	// (fs.protected_symlinks on every link; fs.protected_regular and
	// protected_fifos, which only O_CREAT invokes), so -o refuses what
	// cat > DEST is refused. Where that open creates the file (a
	// dangling link's target, or a DEST removed since the Lstat), the
	// kernel has approved the place: the empty file is removed at once,
	// and the new file takes its name once it is whole (createdHere).
	var before unix.Stat_t
	existed := unix.Stat(path, &before) == nil
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NOCTTY, 0o666)
	busy := errors.Is(err, syscall.ETXTBSY)
	if busy {
		// A running program, which > cannot open for writing but a
		// rename can replace. The kernel checks permissions and its
		// protections before it checks for that (may_open, then
		// get_write_access): the caller may write it.
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	t.f = f
	// The name of the file opened, for a replace: its links read once
	// more. They may have changed since the open; newReplacement checks
	// that the name leads to the file opened, and refuses otherwise.
	resolved, magic, err := resolveLinks(path)
	if err != nil {
		_ = f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	t.dir, t.base = splitPath(resolved)
	if !busy && !magic && createdHere(f, t.dir, t.base, existed, &before) {
		_ = f.Close()
		return &target{path: path, dir: t.dir, base: t.base}, nil
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	switch {
	case !fi.Mode().IsRegular():
		t.inPlace, t.what = true, describe(fi.Mode())
	case magic && busy:
		// Named through /proc, it is written in place, which a running
		// program cannot be: cat's error.
		_ = f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ETXTBSY}
	case magic:
		// /dev/stdout, /proc/self/fd/N: a name for an open file, which
		// the caller means, not for a place in a directory.
		t.inPlace, t.truncate, t.what = true, true, "a file named through /proc/PID/fd"
	default:
		if fsName := pseudoFS(f); fsName != "" {
			// Kernel attributes (/proc/sys, /sys) take writes, not renames.
			t.inPlace, t.truncate, t.what = true, true, "a file of "+fsName
		}
	}
	return t, nil
}

// createdHere reports whether the open of DEST that gave f created the
// file (DEST did not exist before it, or was another file: before, when
// existed) and, if so, removes it again from dir, where base names it: a
// replace then makes DEST whole, in the place the kernel's open approved,
// rather than leave an empty file in view, or behind it if mmcat fails
// or is killed. A file that someone else has written to meanwhile is not
// one this open made.
func createdHere(f *os.File, dir, base string, existed bool, before *unix.Stat_t) bool {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != 0 ||
		st.Uid != uint32(os.Geteuid()) || st.Nlink != 1 {
		return false
	}
	if existed && before.Dev == st.Dev && before.Ino == st.Ino {
		return false // it was there: the open only opened it
	}
	d, err := openDir(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	var named unix.Stat_t
	if unix.Fstatat(int(d.Fd()), base, &named, unix.AT_SYMLINK_NOFOLLOW) != nil || named.Dev != st.Dev || named.Ino != st.Ino {
		return false // newReplacement refuses a name that moved
	}
	return unix.Unlinkat(int(d.Fd()), base, 0) == nil
}

// resolveLinks follows the symbolic links that path ends in, as open(2)
// does, and returns the path of the file they lead to (which may not
// exist). magic reports a link of /proc, such as /proc/self/fd/1 behind
// /dev/stdout: it names an open file rather than a path, and is not
// followed further.
func resolveLinks(path string) (resolved string, magic bool, err error) {
	p := path
	for range 40 { // the kernel's limit, MAXSYMLINKS
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, false, nil
		}
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, false, nil
		}
		dir, _ := splitPath(p)
		if isProcfs(dir) {
			return p, true, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", false, err
		}
		if !strings.HasPrefix(link, "/") {
			// Not filepath.Join: cleaning "dir/../x" lexically is wrong
			// when dir is itself reached through a link.
			link = dir + "/" + link
		}
		p = link
	}
	return "", false, syscall.ELOOP
}

// splitPath splits p at its last slash, without cleaning it.
func splitPath(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	switch {
	case i < 0:
		return ".", p
	case i == 0:
		return "/", p[1:]
	}
	return p[:i], p[i+1:]
}

// describe names a file mode for messages.
func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// writeInPlace writes the output into the open DEST exactly as it goes to
// standard output, which is what cat > DEST does.
func (r *runner) writeInPlace(t *target) {
	f := t.f
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		r.fail(t.path, err)
		return
	}
	if r.cfg.modeSet && !fi.Mode().IsRegular() {
		r.fail(t.path, fmt.Errorf("--mode does not apply: DEST is %s, which -o writes in place", t.what))
		return
	}
	if t.truncate {
		if err := f.Truncate(0); err != nil {
			r.fail(t.path, err)
			return
		}
	}
	if r.cfg.modeSet {
		if err := f.Chmod(r.cfg.mode); err != nil {
			r.fail(t.path, err)
			return
		}
	}
	stdout := r.stdout
	r.stdout = f
	r.toStdout()
	r.stdout = stdout
	if r.failed {
		return
	}
	// fsync(2) of a FIFO, a terminal or /dev/null is EINVAL: there is
	// nothing to make durable.
	if r.cfg.sync {
		if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.EROFS) {
			r.fail(t.path, err)
		}
	}
	// For cat, DEST is standard output, whose close it reports as a
	// write error (close_stdout): NFS reports delayed write errors there.
	if err := f.Close(); err != nil {
		r.writeFailed(&writeError{err})
	}
}

// replace writes the output into a new file and renames it over DEST.
func (r *runner) replace(t *target, sig *signalCleanup) {
	var rp *replacement
	err := sig.making(func() (_ func(), err error) {
		if rp, err = newReplacement(t, r.cfg.mode, r.cfg.modeSet); err != nil {
			return nil, err
		}
		return rp.removeName, nil
	})
	if err == nil && rp.old != nil && !r.readsFile(rp.old) {
		// cat > DEST discards the old contents before it writes; a
		// replace keeps them until the rename, but need not keep them
		// in memory.
		dropCache(t.f)
	}
	if t.f != nil {
		_ = t.f.Close()
	}
	if err != nil {
		r.fail(t.path, err)
		return
	}
	fail := func(err error) {
		sig.discard()
		rp.discard()
		if err != nil {
			r.fail(t.path, err)
		}
	}
	// A growing SOURCE is copied as cat copies it: to its end as it is
	// when its turn is done.
	o := &opener{rng: r.cfg.rng, stdin: r.stdin, populate: true, follow: true,
		ranged: haveCopyFileRange && !r.cfg.opts.needsFormatting()}
	total := o.measure(r.cfg.sources, r.cfg.opts, false)
	// The sources' descriptors and mappings hold the old file: DEST can
	// be a SOURCE.
	d := &fileDest{f: rp.tmp, durable: r.cfg.sync}
	if !r.copyAll(d, o, total) {
		fail(nil)
		return
	}
	// With --sync, publish makes the file durable before the rename.
	if err := sig.publish(func() error { return rp.publish(r.cfg.sync) }); err != nil {
		fail(err)
		return
	}
	rp.close()
}

// readsFile reports whether a SOURCE is the file st describes, or may be
// (standard input that cannot be checked).
func (r *runner) readsFile(st *unix.Stat_t) bool {
	for _, arg := range r.cfg.sources {
		var s unix.Stat_t
		switch {
		case arg == "-":
			if r.stdin == nil {
				continue
			}
			if unix.Fstat(int(r.stdin.Fd()), &s) != nil {
				return true
			}
		case !isPath(arg):
			continue
		case unix.Stat(arg, &s) != nil:
			continue // reported when its turn comes
		}
		if s.Dev == st.Dev && s.Ino == st.Ino {
			return true
		}
	}
	return false
}

// fileDest writes the new version of a file through its descriptor: what
// copy_file_range(2) can copy from a file, by it (the kernel copies from
// page cache to page cache), and the rest by pwrite(2), which writes mapped
// sources straight from their mappings.
type fileDest struct {
	f *os.File
	n int64 // bytes written
	// durable: the file is to be fsynced, so its writeback is started
	// as the copy goes (startWriteback); started bytes have been.
	durable bool
	started int64
}

// writebackChunk is how many bytes a durable fileDest writes before it
// starts their writeback: enough for the disk to get large requests.
const writebackChunk = 16 << 20

// wrote starts the writeback of what was written since the last start,
// once it is a chunk.
func (d *fileDest) wrote() {
	if d.durable && d.n-d.started >= writebackChunk {
		startWriteback(d.f, d.started, d.n-d.started)
		d.started = d.n
	}
}

func (d *fileDest) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := unix.Pwrite(int(d.f.Fd()), b[n:], d.n)
		if err == unix.EINTR {
			continue
		}
		if k > 0 {
			n += k
			d.n += int64(k)
			d.wrote()
		}
		if err != nil {
			return n, &fs.PathError{Op: "write", Path: d.f.Name(), Err: err}
		}
		if k == 0 {
			return n, io.ErrUnexpectedEOF
		}
	}
	return n, nil
}

func (d *fileDest) copyRange(src *os.File, off, n int64) (int64, error) {
	k, err := copyFileRange(d.f, &d.n, src, off, n)
	d.wrote()
	return k, err
}

// replacement is the new file that replaces DEST: made in DEST's
// directory, given DEST's owner, group, extended attributes (ACLs among
// them) and mode through its descriptor, never by name, and renamed over
// DEST by publish.
type replacement struct {
	path string   // DEST as given, for messages
	dir  *os.File // the directory of the file replaced
	base string
	tmp  *os.File
	old  *unix.Stat_t // the file replaced; nil if DEST did not exist
	// name is tmp's name in dir while it has one: always where the file
	// system has no O_TMPFILE, and during publish otherwise.
	name string
}

// errCannotReplace says what a replace cannot keep that cat > DEST keeps,
// and what to do instead.
type errCannotReplace struct{ why string }

func cannotReplace(format string, args ...any) error {
	return &errCannotReplace{why: fmt.Sprintf(format, args...)}
}

func (e *errCannotReplace) Error() string {
	return "cannot be replaced atomically: " + e.why + "; --in-place writes it in place, as cat does"
}

// newReplacement makes the new file for t, with the attributes of the
// file it replaces; mode, with modeSet, overrides the permissions. On
// error nothing is left behind.
func newReplacement(t *target, mode fs.FileMode, modeSet bool) (_ *replacement, err error) {
	var old *unix.Stat_t
	if t.f != nil {
		old = new(unix.Stat_t)
		if err := unix.Fstat(int(t.f.Fd()), old); err != nil {
			return nil, &fs.PathError{Op: "stat", Path: t.path, Err: err}
		}
		if old.Nlink > 1 {
			return nil, cannotReplace("it has %d hard links, which would keep the old contents", old.Nlink)
		}
	}
	dir, err := openDir(t.dir)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: t.path, Err: err}
	}
	rp := &replacement{path: t.path, dir: dir, base: t.base, old: old}
	defer func() {
		if err != nil {
			rp.discard()
		}
	}()
	if old != nil {
		var st unix.Stat_t
		if err := unix.Fstatat(rp.dirfd(), t.base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Dev != old.Dev || st.Ino != old.Ino {
			return nil, &fs.PathError{Op: "open", Path: t.path, Err: errors.New("it was replaced by another file while mmcat opened it")}
		}
		if isMountPoint(t.f, dir) {
			return nil, cannotReplace("it is a mount point (a file bind-mounted over another), which rename(2) cannot replace")
		}
	}
	// Temporary files that a killed mmcat left (SIGKILL cannot be
	// caught): whatever they are, they are not DEST.
	removeLeftovers(t.dir, t.base)
	perm := uint32(0o600) // until it has DEST's attributes
	if old == nil && !modeSet {
		perm = 0o666 // what the shell's > creates, less the umask
	}
	rp.tmp, rp.name, err = createTemp(dir, t.base, perm)
	if err != nil {
		if old != nil && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
			return nil, cannotReplace("a new file cannot be created in %s (%s)", t.dir, reason(err))
		}
		return nil, &fs.PathError{Op: "create", Path: t.path, Err: err}
	}
	want := uint32(mode.Perm())
	if old != nil {
		if err := rp.carryOver(t.f, old); err != nil {
			return nil, err
		}
		if !modeSet {
			want = keptMode(uint32(old.Mode))
		}
	}
	if old != nil || modeSet {
		if err := rp.setMode(want); err != nil {
			return nil, err
		}
	}
	return rp, nil
}

func (rp *replacement) dirfd() int { return int(rp.dir.Fd()) }
func (rp *replacement) tmpfd() int { return int(rp.tmp.Fd()) }

// carryOver gives the new file the old one's owner and group, extended
// attributes and file flags. The owner comes first: chown(2) clears the
// set-user-ID and set-group-ID bits, which setMode sets last.
func (rp *replacement) carryOver(old *os.File, st *unix.Stat_t) error {
	var cur unix.Stat_t
	if err := unix.Fstat(rp.tmpfd(), &cur); err != nil {
		return err
	}
	if cur.Uid != st.Uid || cur.Gid != st.Gid {
		if err := unix.Fchown(rp.tmpfd(), int(st.Uid), int(st.Gid)); err != nil {
			switch {
			case !errors.Is(err, unix.EPERM):
				return &fs.PathError{Op: "chown", Path: rp.path, Err: err}
			case cur.Uid != st.Uid:
				return cannotReplace("it belongs to %s, and a new file can only belong to you (%s)", userName(st.Uid), userName(cur.Uid))
			}
			return cannotReplace("its group is %s, which you are not a member of, so a new file cannot have it", groupName(st.Gid))
		}
	}
	return copyAttributes(old, rp.tmp)
}

// keptMode is the mode cat > DEST leaves on DEST: its own, except that
// opening with O_TRUNC and writing clear the set-user-ID bit, and the
// set-group-ID bit of a group-executable file, unless the caller has
// CAP_FSETID (should_remove_suid in the kernel).
func keptMode(m uint32) uint32 {
	m &= 0o7777
	if !canKeepSetID() {
		m &^= unix.S_ISUID
		if m&unix.S_IXGRP != 0 {
			m &^= unix.S_ISGID
		}
	}
	return m
}

// setMode gives the new file its permissions with fchmod(2) and checks
// that the kernel kept all of them: it drops the set-group-ID bit of a
// file whose group the caller is not in.
func (rp *replacement) setMode(want uint32) error {
	if err := unix.Fchmod(rp.tmpfd(), want); err != nil {
		return &fs.PathError{Op: "chmod", Path: rp.path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(rp.tmpfd(), &st); err != nil {
		return err
	}
	if got := uint32(st.Mode) & 0o7777; got != want {
		return cannotReplace("its mode %04o cannot be given to a new file, which got %04o", want, got)
	}
	return nil
}

// publish renames the new file over DEST (giving it a name first if it has
// none); with durable, it is made durable before the rename, and the
// rename after it.
func (rp *replacement) publish(durable bool) error {
	if durable {
		if err := rp.tmp.Sync(); err != nil {
			return err
		}
	}
	if rp.name == "" {
		name, err := linkTemp(rp.dir, rp.tmp, rp.base)
		if err != nil {
			return &fs.PathError{Op: "link", Path: rp.path, Err: err}
		}
		rp.name = name
	}
	// DEST that existed is exchanged with the new file, and its name
	// then removed: what a rename over it does, without the writeback
	// that ext4 starts there (exchange). A crash in between leaves the
	// old contents under the temporary name, which RemoveLeftovers
	// removes.
	swapped := false
	if rp.old != nil {
		var err error
		if swapped, err = exchange(rp.dir, rp.name, rp.base); err != nil {
			return &fs.PathError{Op: "rename", Path: rp.path, Err: err}
		}
	}
	if !swapped {
		if err := unix.Renameat(rp.dirfd(), rp.name, rp.dirfd(), rp.base); err != nil {
			return &fs.PathError{Op: "rename", Path: rp.path, Err: err}
		}
	}
	oldName := rp.name
	rp.name = ""
	if swapped {
		if err := rp.removeSwapped(oldName); err != nil {
			return err
		}
	}
	// In a directory that others can write, the temporary name could
	// have been swapped for something else just before the rename, or
	// another writer's file renamed over DEST just after: either way
	// DEST does not hold this output, so say so rather than claim it.
	var a, b unix.Stat_t
	if err := unix.Fstat(rp.tmpfd(), &a); err != nil {
		return err
	}
	if err := unix.Fstatat(rp.dirfd(), rp.base, &b, unix.AT_SYMLINK_NOFOLLOW); err != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return &fs.PathError{Op: "rename", Path: rp.path, Err: errors.New("another process replaced the new file while it was renamed over DEST")}
	}
	if durable {
		return syncDir(rp.dir, rp.tmp)
	}
	return nil
}

// removeSwapped removes name, which exchange gave to what DEST was just
// before: the old file, or whatever another process put at DEST since
// (another mmcat's output), which a rename over DEST would have dropped
// too. A directory there is swapped back and refused, as rename(2)
// refuses to put a file in a directory's place.
func (rp *replacement) removeSwapped(name string) error {
	var st unix.Stat_t
	if unix.Fstatat(rp.dirfd(), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if _, err := exchange(rp.dir, name, rp.base); err != nil {
			return &fs.PathError{Op: "rename", Path: rp.path, Err: err}
		}
		rp.name = name
		return &fs.PathError{Op: "rename", Path: rp.path, Err: syscall.EISDIR}
	}
	_ = unix.Unlinkat(rp.dirfd(), name, 0)
	return nil
}

// removeName removes the new file's name, if it has one and the name
// still leads to it. It is safe to call from the signal handler while
// the file is being written.
func (rp *replacement) removeName() {
	if rp.name == "" {
		return
	}
	var a, b unix.Stat_t
	if unix.Fstat(rp.tmpfd(), &a) == nil && unix.Fstatat(rp.dirfd(), rp.name, &b, unix.AT_SYMLINK_NOFOLLOW) == nil && a.Dev == b.Dev && a.Ino == b.Ino {
		_ = unix.Unlinkat(rp.dirfd(), rp.name, 0)
	}
	rp.name = ""
}

// discard removes the new file and closes what is open.
func (rp *replacement) discard() {
	if rp.tmp != nil {
		rp.removeName()
	}
	rp.close()
}

func (rp *replacement) close() {
	if rp.tmp != nil {
		_ = rp.tmp.Close()
	}
	_ = rp.dir.Close()
}

// createNamed creates a temporary file in dir, named as [mmfile.Pending]
// names its own, so that [mmfile.RemoveLeftovers] finds it if mmcat is
// killed, and claimed as a Pending claims its own: locked, then checked
// to be still there, since a RemoveLeftovers running meanwhile may have
// taken it before the lock.
func createNamed(dir *os.File, base string, perm uint32) (*os.File, string, error) {
	for range 100 {
		var fd int
		name, err := withTempName(base, func(name string) (err error) {
			fd, err = unix.Openat(int(dir.Fd()), name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
			return err
		})
		if err != nil {
			return nil, "", err
		}
		f := os.NewFile(uintptr(fd), filepath.Join(dir.Name(), name))
		if lockTemp(f) {
			var a, b unix.Stat_t
			if unix.Fstat(fd, &a) == nil && unix.Fstatat(int(dir.Fd()), name, &b, unix.AT_SYMLINK_NOFOLLOW) == nil && a.Dev == b.Dev && a.Ino == b.Ino {
				return f, name, nil
			}
		}
		_ = f.Close()
	}
	return nil, "", unix.EEXIST
}

// lockTemp takes the lock that tells RemoveLeftovers that a temporary file
// is in use; the kernel drops it when the process dies. It reports false
// when another process holds it. Where the file system has no locks, the
// file goes unlocked.
func lockTemp(f *os.File) bool {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != unix.EWOULDBLOCK
}

// withTempName calls try with temporary names for base until one is free
// (try fails with EEXIST for the others), and returns it.
func withTempName(base string, try func(name string) error) (string, error) {
	short := false
	for range 100 {
		name := tempName(base, short)
		switch err := try(name); {
		case err == unix.EEXIST:
		case err == unix.ENAMETOOLONG && !short:
			short = true
		default:
			return name, err
		}
	}
	return "", unix.EEXIST
}

// tempName returns a name for a temporary sibling of base, in the shape
// that [mmfile.Pending] documents: a dot, base, ".mmfile-pending-" and 16
// hexadecimal digits. A name that would pass NAME_MAX (255 bytes on
// Linux's file systems and the BSDs') has shortName(base) in base's
// place, so that RemoveLeftovers of that name finds what a killed mmcat
// left for base.
func tempName(base string, short bool) string {
	const marker = ".mmfile-pending-"
	if short || longName(base) {
		base = shortName(base)
	}
	return fmt.Sprintf(".%s%s%016x", base, marker, rand.Uint64())
}

// longName reports whether base is too long to have a temporary sibling
// named after it.
func longName(base string) bool { return len(base)+1+len(".mmfile-pending-")+16 > 255 }

// shortName stands for a long base in temporary names: "mmcat-" and the
// 64-bit FNV-1a hash of base, in hexadecimal.
func shortName(base string) string {
	h := fnv.New64a()
	h.Write([]byte(base))
	return fmt.Sprintf("mmcat-%016x", h.Sum64())
}

// removeLeftovers removes the temporary files that killed runs of mmcat
// left for base in dir (mmfile.RemoveLeftovers: only dead writers' files
// of the caller's), under base's name and under its short one.
func removeLeftovers(dir, base string) {
	_, _ = mmfile.RemoveLeftovers(dir + "/" + base)
	_, _ = mmfile.RemoveLeftovers(dir + "/" + shortName(base))
}

// openDir opens the directory of the file to replace.
func openDir(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.EACCES {
		// A directory one may write and search but not list.
		fd, err = openSearchOnly(dir)
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), dir), nil
}

// syncDir makes a rename in dir durable. A directory opened for search
// only (O_PATH: one the caller may write and enter but not read) cannot
// be fsynced: the file system that holds it and f is synced instead
// (syncfs(2)), which writes the directory with the rest.
func syncDir(dir, f *os.File) error {
	err := dir.Sync()
	if errors.Is(err, syscall.EBADF) {
		err = syncFS(f)
	}
	if err != nil {
		return &fs.PathError{Op: "sync", Path: dir.Name(), Err: err}
	}
	return nil
}

// userName and groupName name an owner for messages, as the files
// /etc/passwd and /etc/group name it (glibc's "files" service); an id
// they do not name is given by its number alone, as are the users and
// groups that only another service (LDAP, sssd, systemd) knows. Not
// os/user: it would link the C library's lookups (and cgo) into mmcat,
// which costs every run start-up time, for the names of two messages.
func userName(uid uint32) string { return ownerName("/etc/passwd", "uid", uid) }

func groupName(gid uint32) string { return ownerName("/etc/group", "gid", gid) }

func ownerName(db, kind string, id uint32) string {
	n := strconv.FormatUint(uint64(id), 10)
	if name := lookupID(db, id, kind == "uid"); name != "" {
		return fmt.Sprintf("%s (%s %s)", name, kind, n)
	}
	return kind + " " + n
}

// lookupID returns the name of the first entry of db, a passwd(5) file
// if passwd, else a group(5) file, whose id (the third field) is id, or
// "". It reads the lines as glibc's files service does: leading blanks
// are skipped, comments and NIS's +/- entries name no one, an id is a
// number (with leading zeros, blanks or a +), and a passwd entry needs a
// group id too.
func lookupID(db string, id uint32, passwd bool) string {
	b, err := os.ReadFile(db)
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimLeft(strings.TrimSuffix(line, "\n"), " \t\v\f\r")
		f := strings.SplitN(line, ":", 5)
		if len(f) < 3 || f[0] == "" || strings.ContainsAny(f[0][:1], "#+-") {
			continue
		}
		if n, ok := idField(f[2]); !ok || n != id {
			continue
		}
		if passwd {
			if len(f) < 4 {
				continue
			}
			if _, ok := idField(f[3]); !ok {
				continue
			}
		}
		return f[0]
	}
	return ""
}

// idField parses a numeric field as glibc's files service does (strtoul,
// then nothing but the field's end): blanks and a + may lead.
func idField(s string) (uint32, bool) {
	s = strings.TrimLeft(s, " \t\v\f\r\n")
	s = strings.TrimPrefix(s, "+")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}
