package main

import (
	"errors"
	"io"
	"os"
	"syscall"

	"github.com/schollz/progressbar/v3"

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
	buf   []byte        // read buffer for streams, made on first use
	bar   *progressbar.ProgressBar
}

func newCopier(w io.Writer, opts catOptions, chunk int, bar *progressbar.ProgressBar) *copier {
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
func (c *copier) copy(s *source) error {
	if s.mem != nil {
		var err error
		if c.f != nil {
			err = c.copyFormatted(s)
		} else {
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
	if c.bar != nil {
		_ = c.bar.Add64(int64(len(p)))
	}
	return err
}

// close ends the output: it flushes the formatter, including a '\r' it was
// holding back, and finishes the progress bar.
func (c *copier) close() error {
	var err error
	if c.f != nil {
		err = c.f.Close()
	}
	if c.bar != nil {
		_ = c.bar.Finish()
	}
	if err != nil {
		return &writeError{err}
	}
	return nil
}
