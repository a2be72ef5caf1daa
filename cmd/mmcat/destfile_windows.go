//go:build windows

package main

import (
	"errors"
	"os"

	"github.com/mmapkit/mmapkit/mmfile"
)

// toFile writes the output to the FILE DEST. On Windows a regular file is
// replaced with [mmfile.Pending] (MoveFileEx, best effort) keeping only
// its permissions, and --in-place or anything else, such as NUL, is
// opened and written as cmd's > would.
func (r *runner) toFile(path string, sig *signalCleanup) {
	fi, err := os.Stat(path)
	if r.cfg.inPlace || err == nil && !fi.Mode().IsRegular() {
		r.writeInPlace(path)
		return
	}
	o := &opener{rng: r.cfg.rng, stdin: r.stdin, populate: true, follow: true}
	total := o.measure(r.cfg.sources, r.cfg.opts, false)
	var p *mmfile.Pending
	err = sig.making(func() (_ func(), err error) {
		if p, err = mmfile.NewPending(path, max(total, 0)); err != nil {
			return nil, err
		}
		return func() { _ = p.Cleanup() }, nil
	})
	if err != nil {
		r.fail(path, err)
		return
	}
	if r.cfg.modeSet {
		// Windows keeps only the read-only attribute of a mode, and no
		// other process can rename the open temporary file.
		if err := os.Chmod(p.Name(), r.cfg.mode); err != nil {
			sig.discard()
			r.fail(path, err)
			return
		}
	}
	d := &pendingDest{p: p}
	if !r.copyAll(d, o, total) {
		sig.discard()
		return
	}
	err = sig.publish(func() error {
		if p.Size() != d.n {
			if err := p.Truncate(d.n); err != nil {
				return errors.Join(err, p.Cleanup())
			}
		}
		if r.cfg.sync {
			return p.Commit()
		}
		return p.CommitNoSync()
	})
	if err != nil {
		r.fail(path, err)
	}
}

// pendingDest counts what is written to a Pending.
type pendingDest struct {
	p *mmfile.Pending
	n int64
}

func (d *pendingDest) Write(b []byte) (int, error) {
	n, err := d.p.Write(b)
	d.n += int64(n)
	return n, err
}

// writeInPlace opens DEST as > would and writes the output to it as to
// standard output.
func (r *runner) writeInPlace(path string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		r.fail(path, err)
		return
	}
	defer f.Close()
	stdout := r.stdout
	r.stdout = f
	r.toStdout()
	r.stdout = stdout
	if err := f.Close(); err != nil && !r.failed {
		r.writeFailed(&writeError{err})
	}
}
