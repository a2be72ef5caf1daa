package mmfile

import (
	"errors"
	"os"
	"path/filepath"

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
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"*")
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil {
		if err := f.Chmod(fi.Mode().Perm()); err != nil {
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
