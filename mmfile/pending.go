package mmfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// Pending is a new version of a file, written through a mapping and
// published by [Pending.Commit] in one step: a reader, or a crash at any
// moment, sees the old file or the new one, never a mix. The new contents
// live in a temporary file in the target's directory until Commit renames
// it over the target. The temporary file is named after the target, with
// a leading dot, the marker ".mmfile-pending-" and 16 random hexadecimal
// digits (".data.mmfile-pending-3f9c0a51d2e87b64" for "data"), which
// [Pending.Name] returns; on Unix the Pending holds an flock(2) on it
// until Commit or Cleanup, so that [RemoveLeftovers] knows it is in use.
//
// A Pending embeds the [*File] of the temporary file, so it reads and
// writes, grows and truncates as a File does; its errors name the
// temporary file. It ends in one of three ways: [Pending.Commit] or
// [Pending.CommitNoSync] publish it, [Pending.Cleanup] discards it, and
// [Pending.Close], which makes a Pending an [io.WriteCloser], discards it
// too and says so with an error, so that code which closes a writer when
// it is done cannot lose the new version without being told.
//
// On Windows the rename is MoveFileEx with MOVEFILE_REPLACE_EXISTING,
// which is atomic on NTFS in practice but not promised by the API: there
// the replace is best effort.
type Pending struct {
	*File
	t      tempFile
	target string
	done   bool
}

// tempFile is the OS seam of the atomic replace.
type tempFile interface {
	file() *os.File
	// replace closes the file and renames it over the target; with
	// durable, it makes the file durable first and the rename after.
	replace(durable bool) error
	// discard closes and removes the file.
	discard() error
}

// NewPending starts a new version of the file at path, size bytes long and
// mapped for writing. It keeps the target's permissions when replacing an
// existing file, and uses 0666 (before umask) for a new one. The mapping
// can grow like any writable [File].
func NewPending(path string, size int64, opts ...Option) (*Pending, error) {
	if size < 0 {
		return nil, &fs.PathError{Op: "replace", Path: path, Err: errs.Detail(ioadapt.ErrInvalidSize, "negative size %d", size)}
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "replace", Path: path, Err: notRegular(fi.Mode())}
	}
	t, err := newTempFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Map(t.file(), append(opts, ReadWrite())...)
	if err == nil {
		if err = f.Truncate(size); err != nil {
			err = errs.Rollback(err, f.Close())
		}
	}
	if err != nil {
		return nil, errs.Rollback(err, t.discard())
	}
	return &Pending{File: f, t: t, target: path}, nil
}

// Commit syncs the new contents, unmaps them and atomically replaces the
// target with them, durably: after Commit returns nil, the new file
// survives a crash of the machine. On error the target is unchanged and
// the temporary file is removed. Commit after Commit or Cleanup returns an
// error wrapping [fs.ErrClosed].
func (p *Pending) Commit() error { return p.commit(true) }

// CommitNoSync is Commit without waiting for the disk: readers, and a
// crash of any process, still see the old file or the new one, never a
// mix, but after a crash of the machine the target may be the old file,
// or (on file systems that do not order a replacing rename after the
// data, as ext4 does by default) the new one with missing data. It costs
// what a plain write of the file costs.
func (p *Pending) CommitNoSync() error { return p.commit(false) }

func (p *Pending) commit(durable bool) error {
	if p.done {
		return &fs.PathError{Op: "commit", Path: p.Name(), Err: fs.ErrClosed}
	}
	p.done = true
	var err error
	if durable {
		err = p.File.Sync()
	}
	if cerr := p.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = p.t.replace(durable)
	}
	if err != nil {
		return errs.Rollback(err, p.t.discard())
	}
	return nil
}

// Close discards the new version, as [Pending.Cleanup] does, since only
// Commit and CommitNoSync publish it; and as an [io.Closer] that lost what
// was written to it, it returns an error saying so, naming the target.
// After Commit, CommitNoSync or Cleanup nothing is left to discard, and
// it returns nil, so that a deferred Close is harmless.
func (p *Pending) Close() error {
	if p.done {
		return nil
	}
	if err := p.Cleanup(); err != nil {
		return err
	}
	return &fs.PathError{Op: "close", Path: p.target, Err: errors.New(
		"closed without Commit: the new version is discarded, the file is as it was")}
}

// Name returns the path of the temporary file that holds the new version
// until Commit renames it over the target (see [Pending] for its form):
// the name the Pending's errors give, and the file to chmod or chown for
// the target to have those once published.
func (p *Pending) Name() string { return p.File.Name() }

// Cleanup discards the new version: it unmaps and removes the temporary
// file, leaving the target as it was. It is safe to call more than once
// and after Commit, where it does nothing, so it can be deferred.
func (p *Pending) Cleanup() error {
	if p.done {
		return nil
	}
	p.done = true
	err := p.File.Close()
	return errors.Join(err, p.t.discard())
}

// RemoveLeftovers removes the temporary files that [NewPending] made for
// the target path and that were never committed or cleaned up, because
// their process was killed. It returns the paths it removed.
//
// It removes only what it can tell is such a leftover: a regular file
// whose name has the shape of a Pending's temporary file for this target
// (see [Pending]), owned by the effective user, and that no live Pending
// holds. A user's own ".data1" or ".data.bak" is never touched, nor a
// symbolic link (it is not followed), nor a file of another user. A live
// Pending, in this process or another, holds a lock on its file, which the
// kernel releases when its process dies; RemoveLeftovers takes the lock
// before removing a file, so it is safe to call while other processes
// write new versions of the target: their files stay and their Commit
// succeeds. (The one file it may take from a live process is one that
// NewPending has just created and not yet locked; NewPending then sees
// that and makes another.) A file it cannot open to take the lock (one
// without read permission for its owner) is left. On Windows a live
// Pending's file cannot be deleted and is left, and ownership is not
// checked.
func RemoveLeftovers(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !isLeftover(e.Name(), base) || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		ok, err := removeLeftover(p)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed = append(removed, p)
		}
	}
	return removed, errors.Join(errs...)
}

// tempMarker sets the temporary files of NewPending apart from any name a
// user would give a file.
const tempMarker = ".mmfile-pending-"

// tempName returns a fresh name for a temporary file of the target base.
func tempName(base string) string {
	return fmt.Sprintf(".%s%s%016x", base, tempMarker, rand.Uint64())
}

// isLeftover reports whether name has the shape of a tempName of base.
func isLeftover(name, base string) bool {
	digits, ok := strings.CutPrefix(name, "."+base+tempMarker)
	if !ok || len(digits) != 16 {
		return false
	}
	for _, r := range digits {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// createTemp creates a new temporary file for the target path with
// tempName, exclusively, with perm (before the umask).
func createTemp(path string, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(filepath.Join(dir, tempName(base)), os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && attempt < 100 {
			continue
		}
		return f, err
	}
}

// targetPerm returns the permissions for a new version of path: those of
// the existing file, kept exactly (exact), else 0666 before the umask.
func targetPerm(path string) (perm fs.FileMode, exact bool, err error) {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode().IsRegular():
		return fi.Mode().Perm(), true, nil
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return 0o666, false, nil
	}
	return 0, false, err
}
