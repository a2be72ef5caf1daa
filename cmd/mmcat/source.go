package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// source is one opened SOURCE operand: mapped memory (mem) or a stream (r).
type source struct {
	arg  string      // the operand, for messages
	mem  *ioadapt.IO // the selected bytes of a mapped source, or nil
	base int64       // the offset in its file or segment of mem's first byte
	// rest, for a mapped file, reads what the file holds past the mapped
	// part, to copy after it: the file may have grown since it was
	// mapped, and cat copies what a file holds when it reaches the end.
	// nil when the range ends within the mapping or growth is not wanted.
	rest io.Reader
	// file is the open file of a mapped file source, nil for shared
	// memory; after a fault, its size says where the file now ends.
	file *os.File
	// ranged marks a regular file left unmapped: the copier copies it
	// from file with copy_file_range(2) (copier.copyRange), want bytes
	// from base as measured at open and what it gains past them, and
	// maps what is left only if that call cannot serve it.
	ranged bool
	want   int64
	opened int64     // the size of a ranged source's file at open
	from   *opener   // the opener of a ranged source, to map what is left
	r      io.Reader // a streamed source, already past --offset
	skip   int64     // for streams: bytes to skip before r's data
	closer io.Closer // releases the mapping and the descriptor; may be nil
}

// size returns the number of bytes the source will deliver, or -1 when it
// is a stream.
func (s *source) size() int64 {
	switch {
	case s.mem != nil:
		return s.mem.Size()
	case s.ranged:
		return s.want
	}
	return -1
}

func (s *source) close() {
	if s.closer != nil {
		_ = s.closer.Close()
	}
}

// Errors of sources that GNU cat words the same way.
var (
	//lint:ignore ST1005 GNU cat's message, byte for byte
	errIsDirectory = errors.New("Is a directory")
	errSameFile    = errors.New("input file is output file")
)

// maxPopulate is the largest mapping that is prefaulted: MAP_POPULATE
// reads all of it before the first byte goes out, which for a file larger
// than memory would thrash instead of stream.
const maxPopulate = 1 << 30

// opener opens sources for one invocation.
type opener struct {
	rng   byteRange
	stdin *os.File
	// follow has a mapped file copied up to its end as it is when the
	// mapping has been copied (source.rest), as cat copies a growing
	// file; not for a destination made with the size measured at open.
	follow bool
	// outInfo describes standard output when it is a regular file, for
	// the "input file is output file" check; nil otherwise.
	outInfo fs.FileInfo
	// populate asks file mappings to be prefaulted: worth it when the
	// whole mapping is about to be read by write(2) or a copy.
	populate bool
	// ranged leaves regular files unmapped, for the copier to copy with
	// copy_file_range(2): set when the output is a regular file and no
	// option formats, and only with follow.
	ranged bool
}

// open opens the SOURCE operand arg.
func (o *opener) open(arg string) (*source, error) {
	switch {
	case arg == "-":
		return o.openStdin()
	case strings.HasPrefix(arg, "shm:"):
		seg, err := shm.Open(strings.TrimPrefix(arg, "shm:"), shm.ReadOnly())
		if err != nil {
			return nil, err
		}
		if f := sparseSegmentFile(seg); f != nil {
			return o.readSegment(arg, seg, f)
		}
		return o.mapped(arg, seg.IO)
	case strings.HasPrefix(arg, "sysv:"):
		key, err := sysv.ParseKey(strings.TrimPrefix(arg, "sysv:"))
		if err != nil {
			return nil, err
		}
		seg, err := sysv.Open(key, sysv.ReadOnly())
		if err != nil {
			// Name the key as ipcs prints it, whatever the spelling:
			// reason drops the path that holds it.
			return nil, fmt.Errorf("key %v: %s", key, reason(err))
		}
		return o.mapped(arg, seg.IO)
	case strings.HasPrefix(arg, "sysv-id:"):
		id, err := strconv.Atoi(strings.TrimPrefix(arg, "sysv-id:"))
		if err != nil || id < 0 {
			return nil, fmt.Errorf("invalid segment id %q: want a number as ipcs -m prints it", strings.TrimPrefix(arg, "sysv-id:"))
		}
		seg, err := sysv.AttachID(id, sysv.ReadOnly())
		if err != nil {
			return nil, err
		}
		return o.mapped(arg, seg.IO)
	}
	return o.openFile(arg)
}

// mapped cuts the range out of a whole mapped region.
func (o *opener) mapped(arg string, m *ioadapt.IO) (*source, error) {
	off, n, err := o.rng.clip(m.Size())
	if err != nil {
		_ = m.Close()
		return nil, err
	}
	s := &source{arg: arg, mem: m, base: off, closer: m}
	if off != 0 || n != m.Size() {
		if s.mem, err = m.Section(off, n); err != nil {
			_ = m.Close()
			return nil, err
		}
	}
	return s, nil
}

// sparseSegmentFile returns a descriptor of the POSIX segment seg when its
// pages must be read with read(2), not through its mapping: a segment is a
// tmpfs file, whose holes a mapping's reads would allocate
// (holesFillWhenMapped). It returns nil for a segment to read mapped.
func sparseSegmentFile(seg *shm.Segment) *os.File {
	f, err := seg.File()
	if err != nil {
		return nil // Windows, say: the mapping serves
	}
	if !holesFillWhenMapped(f) {
		_ = f.Close()
		return nil
	}
	return f
}

// readSegment makes a streamed source of the range of the segment seg,
// read with pread(2) from f, its descriptor; the source closes both.
func (o *opener) readSegment(arg string, seg *shm.Segment, f *os.File) (*source, error) {
	off, n, err := o.rng.clip(seg.Size())
	if err != nil {
		_ = f.Close()
		_ = seg.Close()
		return nil, err
	}
	return &source{arg: arg, r: io.NewSectionReader(f, off, n), closer: closers{f, seg}}, nil
}

// errHolesFill says that a file is not mapped because its holes would be
// allocated by the mapping's reads (holesFillWhenMapped); the caller reads
// it instead, and the error is never shown.
var errHolesFill = errors.New("a sparse file of tmpfs or hugetlbfs, whose holes a mapping would allocate")

// openFile maps a file, or reads it as a stream where mapping cannot give
// what read(2) gives: a FIFO, a device, a socket, a regular file of size 0
// (how the kernel shows the files of /proc that do have content), any file
// of the kernel's own filesystems (which mmfile refuses with
// ErrNotMappable: a sysfs attribute reports a size of 4096 and mmap fails
// with ENODEV; a PCI device's resource file would map its registers), and
// any file whose mapping fails. The file is opened first and everything is decided
// on the open descriptor, as cat does, so that a file replaced or
// truncated meanwhile is still read as it is.
func (o *opener) openFile(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s, err := o.fromFile(path, f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, nil
}

// beforeMap, when set, is called between the size check of a file and its
// mapping: a seam for tests to change the file there.
var beforeMap func(path string)

// fromFile makes the source of the open file f; the source closes f.
func (o *opener) fromFile(path string, f *os.File) (*source, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, errIsDirectory
	}
	if o.sameAsOutput(fi, 0) {
		return nil, errSameFile
	}
	streamed := &source{arg: path, r: f, closer: f, skip: o.rng.offset}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return o.limit(streamed), nil
	}
	off, n, cerr := o.rng.clip(fi.Size())
	if cerr != nil {
		// Past the end of the size the file reports, but that says
		// nothing of a file that the kernel makes up when it is read:
		// map nothing, to learn which it is.
		m, err := mmfile.Map(f, mmfile.Range(0, 0))
		if err != nil {
			return o.limit(streamed), nil
		}
		_ = m.Close()
		return nil, cerr
	}
	if o.ranged && n > 0 {
		// Not even mapped: the page cache copies itself into the output,
		// and a mapping would only be read through on its first touch.
		return &source{arg: path, file: f, base: off, want: n, opened: fi.Size(), ranged: true, from: o, closer: f}, nil
	}
	if n > 0 && beforeMap != nil {
		beforeMap(path)
	}
	s, err := o.mapAt(path, f, off, n, o.rng.length)
	if err != nil {
		// A file of procfs, sysfs and the like (ErrNotMappable), one
		// that shrank since the Stat, one that cannot be mapped
		// (ENODEV, say, from a filesystem without mmap), or a sparse
		// one of tmpfs (errHolesFill): read(2) gives what cat gives.
		return o.limit(streamed), nil
	}
	s.closer = closers{s.closer, f}
	return s, nil
}

// mapAt makes the source of n bytes of the open file f from off, mapped,
// and with o.follow what the file holds past them, up to limit bytes from
// off in all (-1: up to its end). The source's closer unmaps; f stays
// open. A sparse file of tmpfs or hugetlbfs is not mapped
// (errHolesFill): the callers read it.
func (o *opener) mapAt(path string, f *os.File, off, n, limit int64) (*source, error) {
	if n > 0 && holesFillWhenMapped(f) {
		return nil, errHolesFill
	}
	opts := []mmfile.Option{mmfile.Range(off, n)}
	if n > 0 {
		opts = append(mapOptions(o.populate && n <= maxPopulate), opts...)
	}
	m, err := mmfile.Map(f, opts...)
	if err != nil {
		return nil, err
	}
	s := &source{arg: path, mem: m.IO, base: off, file: f, closer: m}
	if rest := limit - n; o.follow && (limit < 0 || rest > 0) {
		if limit < 0 {
			rest = math.MaxInt64 - (off + n)
		}
		s.rest = io.NewSectionReader(f, off+n, rest)
	}
	return s, nil
}

// closers closes each in turn and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// openStdin streams standard input from its current position. When it is
// a regular file, --offset is skipped by seeking, not by reading.
func (o *opener) openStdin() (*source, error) {
	s := &source{arg: "-", r: o.stdin, skip: o.rng.offset}
	fi, err := o.stdin.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return o.limit(s), nil
	}
	pos, err := o.stdin.Seek(0, io.SeekCurrent)
	if err != nil {
		return o.limit(s), nil
	}
	if o.sameAsOutput(fi, pos) {
		return nil, errSameFile
	}
	if s.skip > 0 {
		if left := max(fi.Size()-pos, 0); s.skip > left {
			return nil, &errOffset{offset: s.skip, size: left}
		}
		if _, err := o.stdin.Seek(s.skip, io.SeekCurrent); err != nil {
			return nil, err
		}
		s.skip = 0
	}
	return o.limit(s), nil
}

// limit applies --length to a stream.
func (o *opener) limit(s *source) *source {
	if o.rng.length >= 0 {
		s.r = io.LimitReader(s.r, o.rng.length)
	}
	return s
}

// sameAsOutput reports the case GNU cat refuses: standard output is a
// regular file, the input is the same file, and reading from pos would read
// what is being written, so the copy could grow the file without end.
func (o *opener) sameAsOutput(in fs.FileInfo, pos int64) bool {
	return o.outInfo != nil && in.Mode().IsRegular() && os.SameFile(in, o.outInfo) && pos < in.Size()
}

// skipStream discards the first s.skip bytes of a stream, and fails like
// a mapped source when the stream ends first.
func (s *source) skipStream() error {
	if s.skip == 0 {
		return nil
	}
	// The limit of --length applies after the offset, so skip on the
	// underlying reader.
	r := s.r
	if l, ok := r.(*io.LimitedReader); ok {
		r = l.R
	}
	n, err := io.CopyN(io.Discard, r, s.skip)
	if err == io.EOF {
		return &errOffset{offset: s.skip, size: n}
	}
	return err
}
