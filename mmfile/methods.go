package mmfile

import (
	"io"
	"os"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// The io methods of File are the io core's ([ioadapt.IO]), each behind a
// check for a nil *File, which returns an error matching [os.ErrInvalid]
// as the methods of a nil [*os.File] do, instead of a nil dereference.
// Defining them here also puts them in the File's documentation.

// errNil is the error of every method called on a nil *File.
func errNil(op string) error {
	return errs.Detail(os.ErrInvalid, "mmfile: %s on a nil *File", op)
}

// access runs fn over the mapped bytes as [File.Access] does; after Close
// it returns the closed error under op, the name of the caller's method.
func (f *File) access(op string, fn func(b []byte) error) error {
	return region.Access(f.IO, op, fn)
}

// ReadAt implements [io.ReaderAt]: it reads len(p) bytes at off, or fewer
// with [io.EOF] when the file ends first; at or past the end it returns 0,
// io.EOF. A negative off is an error wrapping [ioadapt.ErrInvalidOffset].
// It runs in parallel with every other call and never moves the position.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f == nil {
		return 0, errNil("read")
	}
	return f.IO.ReadAt(p, off)
}

// Read implements [io.Reader]: it reads from the seek position and
// advances it; at or past the end it returns 0, [io.EOF].
func (f *File) Read(p []byte) (int, error) {
	if f == nil {
		return 0, errNil("read")
	}
	return f.IO.Read(p)
}

// ReadByte implements [io.ByteReader]; at or past the end it returns 0,
// [io.EOF].
func (f *File) ReadByte() (byte, error) {
	if f == nil {
		return 0, errNil("read")
	}
	return f.IO.ReadByte()
}

// UnreadByte implements [io.ByteScanner]: it moves the seek position back
// one byte, and fails at position 0.
func (f *File) UnreadByte() error {
	if f == nil {
		return errNil("unreadbyte")
	}
	return f.IO.UnreadByte()
}

// WriteAt implements [io.WriterAt]: it writes p at off, without using or
// moving the seek position, in parallel with other calls. Past the end a
// growable File grows (a gap reads as zeros); a read-only one returns an
// error wrapping [ioadapt.ErrReadOnly], a [Range] or [Private] one writes
// what fits and returns one wrapping [ioadapt.ErrFixedSize]. Close does
// not wait for it: a WriteAt that returns an error wrapping [fs.ErrClosed]
// because Close ran during it may have written part of p to the file (its
// message says that it raced Close); one that starts after Close writes
// nothing.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if f == nil {
		return 0, errNil("write")
	}
	return f.IO.WriteAt(p, off)
}

// Write implements [io.Writer]: WriteAt at the seek position, which
// advances by the count written. A Write that returns an error wrapping
// [fs.ErrClosed] because Close ran during it may have written part of p;
// one that starts after Close writes nothing.
func (f *File) Write(p []byte) (int, error) {
	if f == nil {
		return 0, errNil("write")
	}
	return f.IO.Write(p)
}

// WriteString implements [io.StringWriter], as Write without copying s.
func (f *File) WriteString(s string) (int, error) {
	if f == nil {
		return 0, errNil("write")
	}
	return f.IO.WriteString(s)
}

// WriteByte implements [io.ByteWriter], as Write of one byte.
func (f *File) WriteByte(c byte) error {
	if f == nil {
		return errNil("write")
	}
	return f.IO.WriteByte(c)
}

// Seek implements [io.Seeker]. Any position from 0 up is allowed, also
// past the end; a negative or overflowing one, or a bad whence, is an
// error that leaves the position unchanged.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if f == nil {
		return 0, errNil("seek")
	}
	return f.IO.Seek(offset, whence)
}

// WriteTo implements [io.WriterTo], so that [io.Copy] from a File copies
// straight from the mapping: it writes to w what lies from the seek
// position to the end, and advances the position by what w accepted.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	if f == nil {
		return 0, errNil("writeto")
	}
	return f.IO.WriteTo(w)
}

// ReadFrom implements [io.ReaderFrom], so that [io.Copy] into a File
// copies straight into the mapping: it reads r until [io.EOF] into the
// file at the seek position, advancing it, and grows a growable File.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f == nil {
		return 0, errNil("readfrom")
	}
	return f.IO.ReadFrom(r)
}

// Section returns a view of the n bytes at off, with its own seek
// position; it never grows, and is closed with the File. The range must
// lie within the current size.
func (f *File) Section(off, n int64) (*ioadapt.IO, error) {
	if f == nil {
		return nil, errNil("section")
	}
	return f.IO.Section(off, n)
}

// Access calls fn with the mapped bytes held open: Close and resizes wait
// for fn, and a fault in the memory (the file shrank, a store into a
// read-only mapping) ends fn with an error wrapping [ioadapt.ErrFault]
// instead of a crash. fn must not keep the slice, nor call methods of this
// File. Access returns fn's error.
func (f *File) Access(fn func(b []byte) error) error {
	if f == nil {
		return errNil("access")
	}
	return f.IO.Access(fn)
}

// Bytes returns the mapped bytes, len(Bytes()) == Size(), or nil after
// Close. Writing to the slice writes the file. The slice is valid only
// while the File is open and reachable, and until a call that resizes it
// (a write past the end, Truncate): touching it after Close or a resize
// may crash the process (SIGSEGV), or read or write whatever memory was
// mapped there since; touching a page that another process truncated away
// raises SIGBUS. A File that becomes unreachable is closed by a cleanup
// even while its slice is in use, so keep the File reachable until the
// last use of the slice:
//
//	b := f.Bytes()
//	use(b)
//	runtime.KeepAlive(f) // f, and so b, stays mapped until here
//
// [File.Access] is the safe way to work on the bytes.
func (f *File) Bytes() []byte {
	if f == nil {
		return nil
	}
	return f.IO.Bytes()
}

// Size returns the file's logical size in bytes (not the mapping's
// capacity); 0 after Close and for a nil *File.
func (f *File) Size() int64 {
	if f == nil {
		return 0
	}
	return f.IO.Size()
}

// Name returns the path given to the open (for [Map], the *os.File's
// name), as errors show it; "" for a nil *File.
func (f *File) Name() string {
	if f == nil {
		return ""
	}
	return f.IO.Name()
}

// Writable reports whether the mapping may be written: opened with
// O_RDWR, mapped with [ReadWrite], or [Private].
func (f *File) Writable() bool {
	if f == nil {
		return false
	}
	return f.IO.Writable()
}

// Truncate changes the file's size, as [os.File.Truncate] does: growing
// adds zeros, shrinking drops the tail; the seek position is unchanged. It
// waits for the calls that hold the mapping (Access, Sync, WriteTo), not
// for ReadAt, WriteAt, Read and Write, which a remap never blocks (see
// the package documentation). A read-only File returns an error wrapping
// [ioadapt.ErrReadOnly], a [Range] or [Private] one an error wrapping
// [ioadapt.ErrFixedSize].
func (f *File) Truncate(size int64) error {
	if f == nil {
		return errNil("truncate")
	}
	return f.IO.Truncate(size)
}

// Sync writes the dirty pages back and waits (msync MS_SYNC), and fsyncs
// the file when its size changed, so that data and size survive a crash.
// It does nothing for a read-only or [Private] mapping.
func (f *File) Sync() error {
	if f == nil {
		return errNil("sync")
	}
	return f.IO.Sync()
}

// Close waits for the calls that hold the mapping (Access, Sync,
// WriteTo), unmaps the file and closes its descriptor, leaving the file at
// its logical size. It does not sync. A ReadAt, WriteAt, Read or Write in
// flight is not waited for: it completes, or returns an error wrapping
// [fs.ErrClosed]. A write that returns such an error because Close ran
// during it may have written part of its bytes to the file (its message
// says that it raced Close), and Close does not undo them; a write that
// starts after Close writes nothing. A second Close returns an error
// wrapping [fs.ErrClosed].
func (f *File) Close() error {
	if f == nil {
		return errNil("close")
	}
	return f.IO.Close()
}

// Interface checks.
var (
	_ io.ReaderAt        = (*File)(nil)
	_ io.WriterAt        = (*File)(nil)
	_ io.ReadWriteSeeker = (*File)(nil)
	_ io.WriterTo        = (*File)(nil)
	_ io.ReaderFrom      = (*File)(nil)
	_ io.ByteScanner     = (*File)(nil)
	_ io.ByteWriter      = (*File)(nil)
	_ io.StringWriter    = (*File)(nil)
	_ io.Closer          = (*File)(nil)
)
