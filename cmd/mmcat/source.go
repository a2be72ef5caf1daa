package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	arg    string      // the operand, for messages
	mem    *ioadapt.IO // the selected bytes of a mapped source, or nil
	r      io.Reader   // a streamed source, already past --offset
	skip   int64       // for streams: bytes to skip before r's data
	closer io.Closer   // releases the mapping or the descriptor; may be nil
}

// size returns the number of bytes the source will deliver, or -1 when it
// is a stream.
func (s *source) size() int64 {
	if s.mem != nil {
		return s.mem.Size()
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
	// outInfo describes standard output when it is a regular file, for
	// the "input file is output file" check; nil otherwise.
	outInfo fs.FileInfo
	// populate asks file mappings to be prefaulted: worth it when the
	// whole mapping is about to be read by write(2) or a copy.
	populate bool
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
	s := &source{arg: arg, mem: m, closer: m}
	if off != 0 || n != m.Size() {
		if s.mem, err = m.Section(off, n); err != nil {
			_ = m.Close()
			return nil, err
		}
	}
	return s, nil
}

// openFile maps a file, or opens it for streaming when it cannot be mapped
// usefully: a FIFO, a device, a socket, or a regular file of size 0, which
// is how the kernel shows the files of /proc and /sys that do have content.
func (o *opener) openFile(path string) (*source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, errIsDirectory
	}
	if o.sameAsOutput(fi, 0) {
		return nil, errSameFile
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return o.stream(path)
	}
	off, n, err := o.rng.clip(fi.Size())
	if err != nil {
		return nil, err
	}
	if n == 0 {
		m := ioadapt.New(ioadapt.NewMemory(nil))
		return &source{arg: path, mem: m, closer: m}, nil
	}
	f, err := mmfile.Open(path, append(mapOptions(o.populate && n <= maxPopulate), mmfile.Range(off, n))...)
	if errors.Is(err, mmfile.ErrNotRegular) {
		// Replaced by something else since the Stat.
		return o.stream(path)
	}
	if err != nil {
		return nil, err
	}
	return &source{arg: path, mem: f.IO, closer: f}, nil
}

// stream opens a file to be read rather than mapped.
func (o *opener) stream(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		_ = f.Close()
		return nil, errIsDirectory
	}
	return o.limit(&source{arg: path, r: f, closer: f, skip: o.rng.offset}), nil
}

// openStdin streams standard input from its current position.
func (o *opener) openStdin() (*source, error) {
	if fi, err := o.stdin.Stat(); err == nil && fi.Mode().IsRegular() {
		if pos, err := o.stdin.Seek(0, io.SeekCurrent); err == nil && o.sameAsOutput(fi, pos) {
			return nil, errSameFile
		}
	}
	return o.limit(&source{arg: "-", r: o.stdin, skip: o.rng.offset}), nil
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
