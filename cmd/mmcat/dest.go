package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/mmapkit/mmapkit/mmfile"
	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// dest is where the output goes: standard output, or what -o names.
type dest interface {
	io.Writer
	// commit publishes what was written; after an error the destination
	// is left as it was before mmcat ran, where that is possible.
	commit() error
	// abort discards what was written.
	abort()
}

// destKind classifies a -o argument.
type destKind int

const (
	destFile destKind = iota
	destShm
	destSysv
)

func classifyDest(arg string) (destKind, string) {
	switch {
	case strings.HasPrefix(arg, "shm:"):
		return destShm, strings.TrimPrefix(arg, "shm:")
	case strings.HasPrefix(arg, "sysv:"):
		return destSysv, strings.TrimPrefix(arg, "sysv:")
	}
	return destFile, arg
}

// needsSize reports whether the destination must be created with its final
// size, so that the output has to be measured before it is written.
func (k destKind) needsSize() bool { return k != destFile }

// stdoutDest writes to standard output.
type stdoutDest struct{ *os.File }

func (stdoutDest) commit() error { return nil }
func (stdoutDest) abort()        {}

// fileDest is a new version of a file, published by commit.
type fileDest struct {
	p       *mmfile.Pending
	n       int64 // bytes written
	mode    fs.FileMode
	modeSet bool
	durable bool // fsync before the rename (--sync)
}

// createFile starts replacing path; size is the expected size of the output
// (the file grows past it if needed and is cut to what was written).
func createFile(path string, size int64, mode fs.FileMode, modeSet, durable bool) (*fileDest, error) {
	p, err := mmfile.NewPending(path, size, pendingOptions()...)
	if err != nil {
		return nil, err
	}
	return &fileDest{p: p, mode: mode, modeSet: modeSet, durable: durable}, nil
}

func (d *fileDest) Write(b []byte) (int, error) {
	n, err := d.p.Write(b)
	d.n += int64(n)
	return n, err
}

func (d *fileDest) commit() error {
	if d.p.Size() != d.n {
		if err := d.p.Truncate(d.n); err != nil {
			d.abort()
			return err
		}
	}
	if d.modeSet {
		// The temporary file becomes the target: give it the mode before
		// it is published.
		if err := os.Chmod(d.p.Name(), d.mode); err != nil {
			d.abort()
			return err
		}
	}
	if d.durable {
		return d.p.Commit()
	}
	return d.p.CommitNoSync()
}

func (d *fileDest) abort() { _ = d.p.Cleanup() }

// segDest is a shared-memory segment created for the output; abort removes
// it again.
type segDest struct {
	w      io.WriteCloser
	remove func() error
}

func (d *segDest) Write(b []byte) (int, error) { return d.w.Write(b) }
func (d *segDest) commit() error               { return d.w.Close() }
func (d *segDest) abort() {
	// Remove first: a closed shm.Segment can no longer unlink its name.
	_ = d.remove()
	_ = d.w.Close()
}

// errExists says that a destination segment is there already.
var errExists = errors.New("segment exists; use --force to replace it")

// createShm creates the POSIX segment name of size bytes. With force, an
// existing segment of that name is unlinked first; processes that have it
// mapped keep the old one.
func createShm(name string, size int64, mode fs.FileMode, force bool) (*segDest, error) {
	seg, err := shm.Create(name, size, shm.Mode(mode))
	if errors.Is(err, fs.ErrExist) {
		if !force {
			return nil, errExists
		}
		if err := shm.Unlink(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		seg, err = shm.Create(name, size, shm.Mode(mode))
	}
	if err != nil {
		return nil, err
	}
	return &segDest{w: seg, remove: seg.Unlink}, nil
}

// createSysv creates the System V segment with the key, of size bytes. With
// force, an existing segment with the key is removed first; processes that
// have it attached keep it until they detach.
func createSysv(keyArg string, size int64, mode fs.FileMode, force bool) (*segDest, error) {
	key, err := sysv.ParseKey(keyArg)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, errors.New("nothing to write: a System V segment holds at least one byte")
	}
	seg, err := sysv.Create(key, size, sysv.Mode(mode))
	if errors.Is(err, fs.ErrExist) {
		if !force {
			return nil, errExists
		}
		if rerr := removeSysv(key); rerr != nil {
			return nil, fmt.Errorf("removing the old segment: %w", rerr)
		}
		seg, err = sysv.Create(key, size, sysv.Mode(mode))
	}
	if err != nil {
		return nil, fmt.Errorf("key %v: %s", key, reason(err)) // as in opener.open
	}
	return &segDest{w: seg, remove: seg.Remove}, nil
}

// removeSysv removes the segment with the key, if there is one.
func removeSysv(key sysv.Key) error {
	old, err := sysv.Open(key, sysv.ReadOnly())
	if err == nil {
		err = old.Remove()
		_ = old.Close()
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
