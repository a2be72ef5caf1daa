package mmfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Pending is a new version of a file, written through a mapping and
// published by [Pending.Commit] in one step: a reader, or a crash at any
// moment, sees the old file or the new one, never a mix. The new contents
// live in a temporary file in the target's directory (named after the
// target with a leading dot and a random suffix) until Commit renames it
// over the target.
//
// On Windows the rename is MoveFileEx with MOVEFILE_REPLACE_EXISTING,
// which is atomic on NTFS in practice but not promised by the API: there
// the replace is best effort.
type Pending struct {
	*File
	t    tempFile
	done bool
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
		return nil, &fs.PathError{Op: "replace", Path: path, Err: fmt.Errorf("negative size %d", size)}
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "replace", Path: path, Err: fmt.Errorf("%w: %s", ErrNotRegular, kind(fi.Mode()))}
	}
	t, err := newTempFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Map(t.file(), append(opts, ReadWrite())...)
	if err == nil {
		err = f.Truncate(size)
		if err != nil {
			_ = f.Close()
		}
	}
	if err != nil {
		return nil, errors.Join(err, t.discard())
	}
	return &Pending{File: f, t: t}, nil
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
		return errors.Join(err, p.t.discard())
	}
	return nil
}

// Close discards the new version, as [Pending.Cleanup] does: a Pending is
// published only by Commit or CommitNoSync.
func (p *Pending) Close() error { return p.Cleanup() }

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
// their process was killed. It returns the paths it removed. It is safe
// even while another process has a Pending for the target open: that
// Pending's Commit then fails and leaves the target as it was.
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
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}

// isLeftover reports whether name is a temporary file of NewPending for
// the target base: a dot, the base, then the random digits that renameio
// and os.CreateTemp append.
func isLeftover(name, base string) bool {
	digits, ok := strings.CutPrefix(name, "."+base)
	if !ok || digits == "" {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
