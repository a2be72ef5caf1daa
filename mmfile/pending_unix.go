//go:build unix

package mmfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/sys"
)

// unixTemp is a temporary file that a live Pending holds: an flock(2) on
// it, held from its creation until it is renamed over the target or
// removed, tells RemoveLeftovers that it is in use. The kernel drops the
// lock when the process dies, however it dies, which is what makes a
// leftover. A lock is race-free where a pid in the name would not be: a
// pid is reused, and means nothing in another pid namespace.
//
// The lock belongs to the open file description, which f, the lock
// descriptor and the File's mapping descriptor share; it lasts until the
// last of them is closed. The lock descriptor is closed last, after the
// rename or the removal, so that f can be closed before the rename and its
// errors (write-back on NFS) stop the rename.
type unixTemp struct {
	f         *os.File
	lock      *os.File
	path      string
	published bool
}

func newTempFile(path string) (tempFile, error) {
	perm, exact, err := targetPerm(path)
	if err != nil {
		return nil, err
	}
	for {
		f, err := createTemp(path, perm)
		if err != nil {
			return nil, err
		}
		t, taken, err := claim(f, path)
		if err != nil || taken {
			// RemoveLeftovers took it first: it removes the file.
			_ = f.Close()
			if err != nil {
				return nil, err
			}
			continue
		}
		if exact {
			// The umask narrowed perm at the open: set what the target has.
			if err := f.Chmod(perm); err != nil {
				return nil, errors.Join(err, t.discard())
			}
		}
		return t, nil
	}
}

// claim locks the new file f and checks that its name is still its own;
// taken reports that RemoveLeftovers, which may have seen the file before
// the lock, got there first.
func claim(f *os.File, path string) (t *unixTemp, taken bool, err error) {
	lock, err := sys.DupFile(f)
	if err != nil {
		return nil, false, errs.Rollback(&fs.PathError{Op: "replace", Path: f.Name(), Err: err}, os.Remove(f.Name()))
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, errs.Rollback(&fs.PathError{Op: "replace", Path: f.Name(), Err: os.NewSyscallError("flock", err)}, os.Remove(f.Name()))
	}
	if !sameFile(f, f.Name()) {
		_ = lock.Close()
		return nil, true, nil
	}
	return &unixTemp{f: f, lock: lock, path: path}, false, nil
}

// sameFile reports whether path names the file open as f.
func sameFile(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	li, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, li)
}

func (t *unixTemp) file() *os.File { return t.f }

// replace makes the file durable (fsync) if asked, closes it, renames it
// over the target with the lock still held, and makes the rename durable
// (fsync of the directory) if asked.
func (t *unixTemp) replace(durable bool) error {
	if durable {
		if err := t.f.Sync(); err != nil {
			return err
		}
	}
	if err := t.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(t.f.Name(), t.path); err != nil {
		return err
	}
	t.published = true
	_ = t.lock.Close() // a descriptor that wrote nothing
	if !durable {
		return nil
	}
	dir, err := os.Open(filepath.Dir(t.path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// discard removes the file, if it is still there and not published, and
// closes it.
func (t *unixTemp) discard() error {
	if t.published {
		return nil
	}
	var err error
	if cerr := t.f.Close(); cerr != nil && !errors.Is(cerr, fs.ErrClosed) {
		err = cerr
	}
	if rerr := os.Remove(t.f.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	if t.lock != nil {
		_ = t.lock.Close()
		t.lock = nil
	}
	return err
}

// removeLeftover removes the file at path if it is a leftover: a regular
// file (not a symbolic link: it is never followed) that the effective
// user owns and that no live Pending has locked. It takes the lock, then
// checks that path still names the file it opened, before removing it.
func removeLeftover(path string) (bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case err == unix.ENOENT || err == unix.ELOOP || err == unix.EACCES:
		return false, nil // gone meanwhile; a symbolic link; not ours to check
	case err != nil:
		return false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() {
		return false, nil
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if err == unix.EWOULDBLOCK {
			return false, nil // a live Pending's
		}
		return false, &fs.PathError{Op: "flock", Path: path, Err: err}
	}
	var now unix.Stat_t
	if unix.Lstat(path, &now) != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		return false, nil // renamed or replaced since the open
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
