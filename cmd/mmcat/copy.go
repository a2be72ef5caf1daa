package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"syscall"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// streamBufferSize is the read size for streamed sources when the output
// sets no larger chunk: GNU cat's 128 KiB.
const streamBufferSize = 128 << 10

// writeError is a failure to write the output: it ends the run, unlike
// a failing source.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// copier moves the sources of one invocation to the output, through the
// formatter when an option needs it. One copier serves all sources, so
// the formatter's state carries from one to the next as in GNU cat.
type copier struct {
	w     io.Writer     // the output
	f     *catFormatter // nil: bytes go to w unchanged
	chunk int           // largest write of mapped bytes
	// toPipe says that w is a pipe, which a file whose pages cannot
	// change may be spliced into (copySpliced).
	toPipe bool
	buf    []byte    // read buffer for streams, made on first use
	bar    *progress // nil: none drawn
}

func newCopier(w io.Writer, opts catOptions, chunk int, bar *progress) *copier {
	c := &copier{w: w, chunk: chunk, bar: bar}
	if opts.needsFormatting() {
		c.f = newCatFormatter(w, opts)
	}
	return c
}

// copy writes the source out: its mapping, then what its file holds past
// the mapping, or its stream. A failure to read the source is returned as
// is; a failure to write, as a *writeError. A mapped source that faults
// (its file shrank under the mapping, or its storage failed) has all its
// bytes before the fault written out first.
//
// Formatted output is flushed at the end of each source, as GNU cat
// flushes before any read that finds no input pending (FIONREAD): what
// comes next may be a pipe, a FIFO or a terminal that keeps mmcat waiting
// (or a FIFO's open(2), which waits for a writer), and the output so far
// must not wait with it. Within a source, stream flushes after each read.
func (c *copier) copy(s *source) error {
	err := c.copySource(s)
	if c.f != nil {
		if ferr := c.f.Flush(); ferr != nil {
			return &writeError{ferr}
		}
	}
	return err
}

// copySource is copy without the final flush.
func (c *copier) copySource(s *source) error {
	if s.ranged {
		if w, ok := c.w.(rangeWriter); ok && c.f == nil {
			return c.copyRange(s, w)
		}
		return c.copyRest(s, s.base)
	}
	if s.mem != nil {
		var err error
		switch w, ok := c.w.(pipeWriter); {
		case c.f != nil:
			err = c.copyFormatted(s)
		case ok && c.toPipe && s.file != nil && spliceSafe(s.file):
			err = c.copySpliced(s, w)
		default:
			err = c.copyMapped(s.mem)
		}
		if err != nil || s.rest == nil {
			return err
		}
		return c.stream(s.rest)
	}
	if err := s.skipStream(); err != nil {
		return err
	}
	return c.stream(s.r)
}

// rangeWriter is an output that copy_file_range(2) can fill: a regular
// file.
type rangeWriter interface {
	// copyRange copies up to n bytes of src from offset off to the
	// output, after what it holds, and returns the count copied: 0 at
	// the end of src.
	copyRange(src *os.File, off, n int64) (int64, error)
}

// rangeChunk is the most one copy_file_range(2) call is asked to copy: a
// call copies inside the kernel, from page cache to page cache, and this
// only keeps a progress bar moving; GNU cat asks for everything at once.
const rangeChunk = 64 << 20

// betweenRanges, when set, is called after each copy_file_range(2) call
// that copied bytes: a seam for tests to change the file there.
var betweenRanges func(path string)

// copyRange copies a ranged source with copy_file_range(2), as GNU cat 9
// copies a file into a regular file: to the end of its range, or with
// follow to the end of the file as it is when the copy gets there, so
// that growth is copied. The bytes never reach user memory: for a file in
// the page cache this is what costs least, and what cat does.
//
// Where the call cannot serve (another file system before Linux 5.3 or
// since 5.19: EXDEV; an output opened with O_APPEND: EBADF; a file system
// without it; any error, after a partial copy too), what is left goes the
// mapped way (copyRest), which says whose fault an error is. A file that
// ends before the size it had at open shrank while it was copied: that
// is an error for the source, after all its bytes before the cut.
func (c *copier) copyRange(s *source, w rangeWriter) error {
	pos, want := s.base, s.base+s.want
	end := want
	if s.from.follow {
		end = math.MaxInt64
		if l := s.from.rng.length; l >= 0 {
			end = s.base + l
		}
	}
	for pos < end {
		n, err := w.copyRange(s.file, pos, min(end-pos, rangeChunk))
		pos += n
		c.bar.add(n)
		if err != nil {
			return c.copyRest(s, pos)
		}
		if n == 0 {
			break
		}
		if betweenRanges != nil {
			betweenRanges(s.arg)
		}
	}
	if pos >= want {
		return nil
	}
	fi, err := s.file.Stat()
	if err != nil {
		return err
	}
	if fi.Size() <= pos {
		return &errShrank{was: s.opened, now: fi.Size()}
	}
	// The file goes on, but the call says it ended: procfs did that
	// before Linux 5.7 (GNU cat then reads).
	return c.copyRest(s, pos)
}

// copyRest copies a ranged source from offset pos of its file the way a
// mapped one is copied: what is left of its range from a mapping, and with
// follow its growth, or by read(2) where it cannot be mapped.
func (c *copier) copyRest(s *source, pos int64) error {
	o := s.from
	limit := o.rng.length // bytes the range still takes from pos, -1: all
	if limit >= 0 {
		limit = max(0, limit-(pos-s.base))
	}
	n := max(0, s.base+s.want-pos)
	if limit >= 0 {
		n = min(n, limit)
	}
	if !o.follow {
		limit = n
	}
	t, err := o.mapAt(s.arg, s.file, pos, n, limit)
	if err != nil {
		if limit < 0 {
			limit = math.MaxInt64 - pos
		}
		return c.stream(io.NewSectionReader(s.file, pos, limit))
	}
	defer t.close()
	return c.copy(t)
}

// errShrank says that a file ended, while it was copied, before the size
// it had when it was opened.
type errShrank struct{ was, now int64 }

func (e *errShrank) Error() string {
	return fmt.Sprintf("the file shrank from %d to %d bytes while it was being copied", e.was, e.now)
}

// pipeWriter is an output that splice(2) can fill: a pipe.
type pipeWriter interface {
	// splice moves up to n bytes of src from offset off into the pipe
	// by reference, and returns the count moved.
	splice(src *os.File, off, n int64) (int64, error)
}

// copySpliced moves a mapped file whose pages can never change
// (spliceSafe: a sealed memfd) into the pipe with splice(2): the pipe
// holds references to its pages, not copies, which only such a file
// allows (doc.go). After an error, what is left goes the mapped way, which
// reports it as such.
func (c *copier) copySpliced(s *source, w pipeWriter) error {
	size := s.mem.Size()
	for done := int64(0); done < size; {
		n, err := w.splice(s.file, s.base+done, min(size-done, int64(c.chunk)))
		c.bar.add(n)
		done += n
		if err != nil || n == 0 {
			rest, serr := s.mem.Section(done, size-done)
			if serr != nil {
				return serr
			}
			return c.copyMapped(rest)
		}
	}
	return nil
}

// copyMapped writes the mapping to the output as it is, in chunks: one
// copy, by write(2) or into the destination's mapping.
func (c *copier) copyMapped(m *ioadapt.IO) error {
	var werr error
	err := m.Access(func(b []byte) error {
		for len(b) > 0 {
			n := min(len(b), c.chunk)
			if err := c.put(b[:n]); err != nil {
				// write(2) says EFAULT when the source's pages
				// are gone (the file shrank under the mapping),
				// after writing those before them: that is the
				// source's fault, not the output's.
				if !errors.Is(err, syscall.EFAULT) {
					werr = err
				}
				return err
			}
			b = b[n:]
		}
		return nil
	})
	if werr != nil {
		return &writeError{werr}
	}
	return err
}

// copyFormatted feeds a mapped source to the formatter through the read
// buffer, copied out of the mapping with faults caught. The formatter thus
// never touches the mapping: a fault cannot stop it halfway through its
// state, and everything before the page that faulted is formatted, so the
// next source continues the numbering where cat would.
//
// A file cut in the middle of a page reads as zeros from the cut to the
// end of that page, which were never the file's bytes, and only the page
// after it faults. So the last page of each chunk is held back and read
// again at the start of the next one, and after a fault what was read is
// cut where the file now ends.
func (c *copier) copyFormatted(s *source) error {
	buf := c.buffer()
	buf = buf[:min(len(buf), streamBufferSize)]
	page := int64(os.Getpagesize())
	for off := int64(0); ; {
		n, err := s.mem.ReadAt(buf, off)
		switch {
		case errors.Is(err, ioadapt.ErrFault):
			n = readablePrefix(s.mem, buf, off, s.base)
			if fi, serr := statFile(s.file); serr == nil {
				n = int(max(0, min(int64(n), fi.Size()-(s.base+off))))
			}
		case err == nil:
			if held := (s.base + off + int64(n)) - (s.base+off+int64(n)-1)/page*page; held < int64(n) {
				n -= int(held)
			}
		}
		if n > 0 {
			if werr := c.put(buf[:n]); werr != nil {
				return &writeError{werr}
			}
		}
		off += int64(n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// statFile is f.Stat, or an error for no file.
func statFile(f *os.File) (os.FileInfo, error) {
	if f == nil {
		return nil, os.ErrInvalid
	}
	return f.Stat()
}

// readablePrefix reads into buf, from offset off of m, the bytes before the
// first page that faults, one page at a time, and returns their count.
// base is the offset of m's first byte in its file, where the pages are
// aligned.
func readablePrefix(m *ioadapt.IO, buf []byte, off, base int64) int {
	page := int64(os.Getpagesize())
	n := 0
	for n < len(buf) {
		at := off + int64(n)
		next := ((base+at)/page+1)*page - base // where the next page starts
		k, err := m.ReadAt(buf[n:min(len(buf), n+int(next-at))], at)
		n += k
		if err != nil {
			break
		}
	}
	return n
}

// stream copies r to the output until it ends.
func (c *copier) stream(r io.Reader) error {
	buf := c.buffer()
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if werr := c.put(buf[:n]); werr != nil {
				return &writeError{werr}
			}
			// A stream may be a terminal or a slow pipe: show what was
			// read before waiting for more, as GNU cat does.
			if c.f != nil {
				if werr := c.f.Flush(); werr != nil {
					return &writeError{werr}
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// buffer returns the read buffer, made on first use: GNU cat's size, or
// the output's chunk up to 1 MiB when that is larger.
func (c *copier) buffer() []byte {
	if c.buf == nil {
		c.buf = make([]byte, max(streamBufferSize, min(c.chunk, 1<<20)))
	}
	return c.buf
}

// put writes p to the output, formatted if need be, and counts it on the
// progress bar.
func (c *copier) put(p []byte) error {
	var err error
	if c.f != nil {
		_, err = c.f.Write(p)
	} else {
		_, err = c.w.Write(p)
	}
	c.bar.add(int64(len(p)))
	return err
}

// close ends the output: it flushes the formatter, including a '\r' it was
// holding back, and finishes the progress bar.
func (c *copier) close() error {
	var err error
	if c.f != nil {
		err = c.f.Close()
	}
	c.bar.finish()
	if err != nil {
		return &writeError{err}
	}
	return nil
}
