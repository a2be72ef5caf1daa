package mmfile

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// renameTemp replaces files on Windows: a temporary file in the target's
// directory, FlushFileBuffers, then MoveFileEx with
// MOVEFILE_REPLACE_EXISTING. That is atomic on NTFS in practice, but the
// API does not promise it: best effort.
type renameTemp struct {
	f      *os.File
	path   string
	closed bool
}

func newTempFile(path string) (tempFile, error) {
	perm, exact, err := targetPerm(path)
	if err != nil {
		return nil, err
	}
	f, err := createTemp(path, perm)
	if err != nil {
		return nil, err
	}
	if exact {
		if err := f.Chmod(perm); err != nil {
			return nil, errors.Join(err, f.Close(), os.Remove(f.Name()))
		}
	}
	return &renameTemp{f: f, path: path}, nil
}

func (t *renameTemp) file() *os.File { return t.f }

func (t *renameTemp) replace(durable bool) error {
	if durable {
		if err := t.f.Sync(); err != nil {
			return err
		}
	}
	t.closed = true
	if err := t.f.Close(); err != nil {
		return err
	}
	return moveReplace(t.f.Name(), t.path, durable)
}

// moveReplace renames from over to; with durable, it returns once the
// rename is on disk: MOVEFILE_WRITE_THROUGH is what Windows has in place
// of the fsync of the directory that makes a rename durable on Unix
// (os.Rename leaves it out).
func moveReplace(from, to string, durable bool) error {
	p, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	q, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	flags := uint32(windows.MOVEFILE_REPLACE_EXISTING)
	if durable {
		flags |= windows.MOVEFILE_WRITE_THROUGH
	}
	if err := windows.MoveFileEx(p, q, flags); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

func (t *renameTemp) discard() error {
	var err error
	if !t.closed {
		t.closed = true
		err = t.f.Close()
	}
	if rerr := os.Remove(t.f.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// removeLeftover removes the file at path unless it is open: Windows
// deletes no file that a handle holds open without FILE_SHARE_DELETE, as a
// live Pending's is, and says so with a sharing violation. A symbolic link
// or junction is not a leftover. Windows has no owner to check here.
func removeLeftover(path string) (bool, error) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false, nil
	}
	err = os.Remove(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_SHARING_VIOLATION), errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, err
}
