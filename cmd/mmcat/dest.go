package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

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

// stdoutDest writes to standard output, or to a DEST written in place.
type stdoutDest struct{ *os.File }

// Write writes to the file; a pipe whose reader is gone ends the process
// with SIGPIPE, as it ends cat. The Go runtime does that itself for
// descriptors 1 and 2 only, and a DEST written in place has another. A
// write past the file size limit (ulimit -f) ends it as SIGXFSZ ends cat.
func (d stdoutDest) Write(b []byte) (int, error) {
	n, err := d.File.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		dieOfSIGPIPE(d.File)
	}
	dieOfSIGXFSZ(err)
	return n, err
}

// copyRange copies from src at the file position, as GNU cat does when
// standard output is a regular file. Past the file size limit it ends the
// process as Write does.
func (d stdoutDest) copyRange(src *os.File, off, n int64) (int64, error) {
	k, err := copyFileRange(d.File, nil, src, off, n)
	dieOfSIGXFSZ(err)
	return k, err
}

// splice moves bytes of src into standard output, a pipe, by reference.
func (d stdoutDest) splice(src *os.File, off, n int64) (int64, error) {
	return spliceToPipe(d.File, src, off, n)
}

func (stdoutDest) commit() error { return nil }
func (stdoutDest) abort()        {}

// toDest copies every source to the -o destination, with sig told what a
// signal must remove. As with standard output, and as GNU cat does, each
// source is opened only when its turn comes, so any number of them can be
// given whatever ulimit -n is.
func (r *runner) toDest(sig *signalCleanup) {
	kind, name := classifyDest(r.cfg.output)
	if kind == destFile {
		r.toFile(name, sig)
		return
	}
	r.toSegment(kind, name, sig)
}

// copyAll copies the sources to w in turn. A failing source is reported
// and skipped; it returns false when writing failed, which it reports as a
// failure of DEST.
func (r *runner) copyAll(w io.Writer, o *opener, total int64) bool {
	var bar *progress
	if r.cfg.progress == progressOn || r.cfg.progress == progressAuto && isTerminal(r.stderr) {
		bar = r.progressBar(total, r.cfg.output)
	}
	c := newCopier(w, r.cfg.opts, defaultChunk, bar)
	for _, arg := range r.cfg.sources {
		s, err := o.open(arg)
		if err != nil {
			r.fail(arg, err)
			continue
		}
		err = c.copy(s)
		s.close()
		var we *writeError
		if errors.As(err, &we) {
			r.fail(r.cfg.output, we.err)
			return false
		}
		if err != nil {
			r.fail(arg, err)
		}
	}
	if err := c.close(); err != nil {
		r.fail(r.cfg.output, errors.Unwrap(err))
		return false
	}
	return true
}

// measure returns the number of bytes the sources will give, or -1 if that
// cannot be known before reading them: a stream, or formatting. It opens
// nothing that could block. With exact, each mappable source is opened
// (and closed again), so that one that cannot be read counts for nothing;
// otherwise the size is what stat(2) says, enough for a hint.
func (o *opener) measure(args []string, opts catOptions, exact bool) int64 {
	if opts.needsFormatting() {
		return -1
	}
	total := int64(0)
	for _, arg := range args {
		if arg == "-" {
			return -1
		}
		if isPath(arg) {
			fi, err := os.Stat(arg)
			switch {
			case err != nil:
				continue // reported when its turn comes
			case !fi.Mode().IsRegular() || fi.Size() == 0:
				return -1 // a stream: a FIFO, a device, a /proc file
			case !exact:
				if _, n, err := o.rng.clip(fi.Size()); err == nil {
					total += n
				}
				continue
			}
		}
		s, err := o.open(arg)
		if err != nil {
			continue
		}
		n := s.size()
		s.close()
		if n < 0 {
			return -1
		}
		total += n
	}
	return total
}

// isPath reports whether the SOURCE operand arg names a file.
func isPath(arg string) bool {
	for _, p := range []string{"shm:", "sysv:", "sysv-id:"} {
		if strings.HasPrefix(arg, p) {
			return false
		}
	}
	return arg != "-"
}

// toSegment copies the sources into a new shm:NAME or sysv:KEY segment.
// Shared memory lives in RAM (or swap): the output is bounded by what the
// system and this process's memory cgroup can still hold (segmentRoom),
// and never held in mmcat's own heap. A POSIX segment grows as the data
// comes where the platform allows it; a System V segment has its size
// fixed at creation, so output of unknown size (a stream, formatting) is
// spooled first, outside the heap, and copied in once complete.
func (r *runner) toSegment(kind destKind, name string, sig *signalCleanup) {
	mode := r.cfg.mode
	if !r.cfg.modeSet {
		mode = 0o600
	}
	o := &opener{rng: r.cfg.rng, stdin: r.stdin, populate: true}
	room, why := segmentRoom(kind)
	size := o.measure(r.cfg.sources, r.cfg.opts, kind == destSysv)
	if size > room && room >= 0 {
		r.fail(r.cfg.output, &errTooLarge{size: size, limit: room, why: why})
		return
	}
	// What grows, or is spooled, takes what a growing SOURCE gains, as
	// cat does; a segment made at the measured size takes what was
	// measured.
	o.follow = size < 0 || kind == destShm && segmentsGrow
	if kind == destSysv && size < 0 || !segmentsGrow && size < 0 {
		r.spoolToSegment(kind, name, o, mode, room, why, sig)
		return
	}
	var d dest
	err := sig.making(func() (func(), error) {
		var err error
		if kind == destShm && segmentsGrow {
			d, err = createGrowingShm(name, max(size, 0), room, why, mode, r.cfg.force)
		} else {
			d, err = r.createSegment(kind, name, size, mode)
		}
		if err != nil {
			return nil, err
		}
		return d.abort, nil
	})
	if err != nil {
		r.fail(r.cfg.output, err)
		return
	}
	if !r.copyAll(d, o, size) {
		sig.discard()
		return
	}
	if err := sig.publish(d.commit); err != nil {
		r.fail(r.cfg.output, err)
	}
}

// spoolToSegment writes the output into a spool, then makes a System V
// segment (or, where segments cannot grow, a POSIX one) of its exact size
// and copies the spool into it. The spool and then the segment both hold
// the output, so the output may take half the room at most.
func (r *runner) spoolToSegment(kind destKind, name string, o *opener, mode fs.FileMode, room int64, why string, sig *signalCleanup) {
	limit := room
	if limit >= 0 && spoolInMemory {
		limit /= 2
		why = "half of " + why + " (output of unknown size is held in memory until it is complete: the segment is made at its final size)"
	}
	sp, err := newSpool(limit, why)
	if err != nil {
		r.fail(r.cfg.output, fmt.Errorf("spooling the output: %w", err))
		return
	}
	defer sp.close()
	if !r.copyAll(sp, o, -1) {
		return
	}
	var d dest
	err = sig.making(func() (func(), error) {
		var err error
		if d, err = r.createSegment(kind, name, sp.n, mode); err != nil {
			return nil, err
		}
		return d.abort, nil
	})
	if err != nil {
		r.fail(r.cfg.output, err)
		return
	}
	if err := sp.writeTo(d); err != nil {
		sig.discard()
		r.fail(r.cfg.output, err)
		return
	}
	if err := sig.publish(d.commit); err != nil {
		r.fail(r.cfg.output, err)
	}
}

// createSegment makes a segment of exactly size bytes.
func (r *runner) createSegment(kind destKind, name string, size int64, mode fs.FileMode) (dest, error) {
	if kind == destSysv {
		return createSysv(name, size, mode, r.cfg.force)
	}
	return createShm(name, size, mode, r.cfg.force)
}

// errTooLarge says that the output does not fit where it has to go.
type errTooLarge struct {
	size  int64 // bytes of output, -1 when it is a stream still coming
	limit int64
	why   string // where the limit comes from
}

func (e *errTooLarge) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("the output is more than %d bytes, %s", e.limit, e.why)
	}
	return fmt.Sprintf("the output is %d bytes, more than %d, %s", e.size, e.limit, e.why)
}

// growingShm is a POSIX segment that grows as the output comes: the bytes
// go in with pwrite(2) through the segment's descriptor, so a full
// shared-memory file system is an ENOSPC error, not a SIGBUS, and limit
// keeps the output within the memory left to the process.
type growingShm struct {
	seg      *shm.Segment
	f        *os.File
	off      int64 // bytes written
	reserved int64 // the size the segment was created with
	limit    int64 // -1: none
	why      string
}

// createGrowingShm creates the segment name with reserve bytes, which it
// outgrows as needed.
func createGrowingShm(name string, reserve, limit int64, why string, mode fs.FileMode, force bool) (*growingShm, error) {
	seg, err := newShm(name, reserve, mode, force)
	if err != nil {
		return nil, err
	}
	f, err := seg.File()
	if err != nil {
		_ = seg.Unlink()
		_ = seg.Close()
		return nil, err
	}
	return &growingShm{seg: seg, f: f, reserved: reserve, limit: limit, why: why}, nil
}

func (d *growingShm) Write(b []byte) (int, error) {
	if d.limit >= 0 && d.off+int64(len(b)) > d.limit {
		return 0, &errTooLarge{size: -1, limit: d.limit, why: d.why}
	}
	n, err := d.f.WriteAt(b, d.off)
	d.off += int64(n)
	return n, err
}

func (d *growingShm) commit() error {
	var err error
	if d.off != d.reserved {
		err = d.f.Truncate(d.off)
	}
	if err != nil {
		d.abort()
		return err
	}
	return errors.Join(d.f.Close(), d.seg.Close())
}

func (d *growingShm) abort() {
	_ = d.seg.Unlink()
	_ = d.f.Close()
	_ = d.seg.Close()
}

// spool holds output of unknown size outside the heap, up to limit bytes
// (-1: no limit), in an unnamed file (spoolFile).
type spool struct {
	f      *os.File
	remove string // a name to remove after closing, "" if it has none
	n      int64
	limit  int64
	why    string
}

func newSpool(limit int64, why string) (*spool, error) {
	f, name, err := spoolFile()
	if err != nil {
		return nil, err
	}
	return &spool{f: f, remove: name, limit: limit, why: why}, nil
}

func (s *spool) Write(b []byte) (int, error) {
	if s.limit >= 0 && s.n+int64(len(b)) > s.limit {
		return 0, &errTooLarge{size: -1, limit: s.limit, why: s.why}
	}
	n, err := s.f.WriteAt(b, s.n)
	s.n += int64(n)
	return n, err
}

// writeTo copies the spool into w from a mapping of it: one copy.
func (s *spool) writeTo(w io.Writer) error {
	if s.n == 0 {
		return nil
	}
	m, err := mmfile.Map(s.f)
	if err != nil {
		return err
	}
	_, err = m.WriteTo(w)
	return errors.Join(err, m.Close())
}

func (s *spool) close() {
	_ = s.f.Close()
	if s.remove != "" {
		_ = os.Remove(s.remove)
	}
}

// segDest is a shared-memory segment created for the output at its final
// size; abort removes it again.
type segDest struct {
	w      io.WriteCloser
	remove func() error
	size   int64 // bytes the segment was made for
	n      int64 // bytes written
}

func (d *segDest) Write(b []byte) (int, error) {
	if d.n+int64(len(b)) > d.size {
		return 0, errChanged{d.size}
	}
	n, err := d.w.Write(b)
	d.n += int64(n)
	return n, err
}

func (d *segDest) commit() error {
	if d.n != d.size {
		d.abort()
		return errChanged{d.size}
	}
	return d.w.Close()
}

func (d *segDest) abort() {
	// Remove first: a closed shm.Segment can no longer unlink its name.
	_ = d.remove()
	_ = d.w.Close()
}

// errChanged says that the sources gave another number of bytes than they
// had when a segment was made for them.
type errChanged struct{ size int64 }

func (e errChanged) Error() string {
	return fmt.Sprintf("a SOURCE changed size while it was copied: the segment was made for the %d bytes the sources had, and was removed", e.size)
}

// errExists says that a destination segment is there already.
var errExists = errors.New("segment exists; use --force to replace it")

// createShm creates the POSIX segment name of size bytes. With force, an
// existing segment of that name is unlinked first; processes that have it
// mapped keep the old one.
func createShm(name string, size int64, mode fs.FileMode, force bool) (*segDest, error) {
	seg, err := newShm(name, size, mode, force)
	if err != nil {
		return nil, err
	}
	return &segDest{w: seg, remove: seg.Unlink, size: size}, nil
}

// newShm creates the POSIX segment, unlinking an existing one first with
// force.
func newShm(name string, size int64, mode fs.FileMode, force bool) (*shm.Segment, error) {
	seg, err := shm.Create(name, size, shm.Mode(mode))
	if errors.Is(err, fs.ErrExist) {
		if !force {
			return nil, errExists
		}
		uerr := shm.Unlink(name)
		if errors.Is(uerr, fs.ErrNotExist) {
			uerr = nil // removed meanwhile
		}
		if uerr != nil {
			return nil, uerr
		}
		seg, err = shm.Create(name, size, shm.Mode(mode))
	}
	return seg, err
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
	return &segDest{w: seg, remove: seg.Remove, size: size}, nil
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
