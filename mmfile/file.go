package mmfile

import (
	"fmt"
	"io/fs"
	"math"
	"os"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// File is a file mapped into memory and read and written through Go's io
// interfaces. Its io methods are those of the io core, [ioadapt.IO], with
// the rules the package documentation gives for files; the others
// (SyncRange, SyncAsync, Advise, LockMemory, UnlockMemory, Stat) are its
// own. Every method, after Close, returns an error matching
// [fs.ErrClosed], and on a nil *File one matching [os.ErrInvalid].
//
// A File that becomes unreachable without Close is synced and closed by a
// cleanup, which unmaps it: see [File.Bytes] for what that means for the
// slice it returned.
type File struct {
	*ioadapt.IO
	m *mapping
}

// Open maps the named file read-only. Close the File when done: one that
// is dropped is closed by a cleanup at some later collection, which also
// unmaps the slice from [File.Bytes] if it is still in use (keep the File
// reachable, with [runtime.KeepAlive], until the slice's last use).
func Open(path string, opts ...Option) (*File, error) {
	return OpenFile(path, os.O_RDONLY, 0, opts...)
}

// Create creates the named file with mode 0666 (before umask), truncating
// it if it exists, and maps it for reading and writing at the given size,
// with the blocks reserved. The file reads as zeros. A negative size is an
// error wrapping [ioadapt.ErrInvalidSize], and no file is made.
func Create(path string, size int64, opts ...Option) (*File, error) {
	if size < 0 {
		return nil, &fs.PathError{Op: "create", Path: path, Err: errs.Detail(ioadapt.ErrInvalidSize, "negative size %d", size)}
	}
	f, err := OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666, opts...)
	if err != nil || size == 0 {
		// O_TRUNC made the file empty. A truncate to 0 on top would also
		// tell ext4 that the file is being replaced (auto_da_alloc), and
		// Close would then wait for all of its blocks to be allocated and
		// written, as os.Create of a new file never does.
		return f, err
	}
	if err := f.Truncate(size); err != nil {
		return nil, errs.Rollback(err, f.Close())
	}
	return f, nil
}

// allowedFlags are the open flags that a mapping can honour.
const allowedFlags = os.O_RDONLY | os.O_RDWR | os.O_CREATE | os.O_EXCL | os.O_TRUNC | os.O_SYNC

// OpenFile opens the named file with the given flags, as [os.OpenFile]
// does, and maps it: read-only for O_RDONLY, for reading and writing for
// O_RDWR. perm is used only when O_CREATE creates the file. O_WRONLY and
// O_APPEND return an error wrapping [ErrBadFlag]: a mapping needs read
// access, and appending is what Write at the end does.
//
// The path must name a regular file; anything else returns an error
// wrapping [ErrNotRegular] without blocking (a FIFO is not waited on). A
// file that the kernel makes up when read (procfs, sysfs) returns an error
// wrapping [ErrNotMappable].
func OpenFile(path string, flag int, perm fs.FileMode, opts ...Option) (*File, error) {
	const op = "open"
	c, err := newConfig(opts)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	}
	if flag&os.O_WRONLY != 0 || flag&os.O_APPEND != 0 || flag&^allowedFlags != 0 {
		return nil, &fs.PathError{Op: op, Path: path, Err: errs.Detail(ErrBadFlag, "flag not supported for a mapped file: %#x", flag)}
	}
	if c.readWrite {
		return nil, &fs.PathError{Op: op, Path: path, Err: errs.Detail(ErrBadFlag, "ReadWrite is for Map; use O_RDWR")}
	}
	// The regular-file check follows the open, on its descriptor (openFlags
	// keep a FIFO from blocking it): a stat before would cost a system call
	// on every open and still race with a rename. Only an open that fails
	// asks the path, so that a directory is refused for what it is, not
	// for EISDIR.
	f, err := os.OpenFile(path, flag|openFlags, perm)
	if err != nil {
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, &fs.PathError{Op: op, Path: path, Err: notRegular(fi.Mode())}
		}
		return nil, err
	}
	m, err := newMapping(op, f, path, flag&os.O_RDWR != 0, c)
	if err != nil {
		return nil, errs.Rollback(err, f.Close())
	}
	return wrap(m, c), nil
}

// Map maps an open file. It maps read-only unless the [ReadWrite] option
// is given (then f must have been opened with O_RDWR, and not O_APPEND:
// an error wrapping [ErrBadFlag]). The File works on its own duplicate of
// the descriptor, so f stays the caller's to close, before or after the
// File. The duplicate shares f's status flags: if the caller puts f in
// append mode later (fcntl F_SETFL O_APPEND), the File's writes still
// land at their offsets on Linux 6.9 and later (pwritev2 RWF_NOAPPEND);
// on older kernels those that go by pwrite(2) (large and growing writes,
// WriteAtSync) fail with an error wrapping ErrBadFlag instead of
// appending. Other systems write through the mapping, which append mode
// does not affect.
func Map(f *os.File, opts ...Option) (*File, error) {
	const op = "mmap"
	c, err := newConfig(opts)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: f.Name(), Err: err}
	}
	if c.readWrite {
		// Writes past the end and large ones go to the file by pwrite,
		// which O_APPEND would turn into appends at the end.
		if appending, err := appendMode(f); err != nil {
			return nil, &fs.PathError{Op: op, Path: f.Name(), Err: err}
		} else if appending {
			return nil, &fs.PathError{Op: op, Path: f.Name(), Err: errs.Detail(ErrBadFlag, "the file is open with O_APPEND")}
		}
	}
	dup, err := sys.DupFile(f)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: f.Name(), Err: err}
	}
	m, err := newMapping(op, dup, f.Name(), c.readWrite, c)
	if err != nil {
		return nil, errs.Rollback(err, dup.Close())
	}
	m.shared = true
	return wrap(m, c), nil
}

// notRegular is the error for a file of the given mode that is not a
// regular file.
func notRegular(mode fs.FileMode) error {
	return errs.Detail(ErrNotRegular, "not a regular file: %s", kind(mode))
}

// newMapping checks the file and maps it as c asks; op is the caller's,
// for its errors. On error the caller closes f.
func newMapping(op string, f *os.File, name string, writable bool, c config) (*mapping, error) {
	fail := func(err error) (*mapping, error) {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return fail(notRegular(fi.Mode()))
	}
	if err := checkMappable(f, fi); err != nil {
		return fail(err)
	}
	off, n, fileSize := int64(0), fi.Size(), fi.Size()
	if c.ranged {
		off, n = c.off, c.n
		if off < 0 || n < 0 || off > fileSize || n > fileSize-off {
			return fail(errs.Detail(ErrRange, "range [%d, %d+%d) is outside the file of %d bytes", off, off, n, fileSize))
		}
	}
	if uint64(n) > math.MaxInt {
		return fail(errs.Detail(ioadapt.ErrTooLarge, "%d bytes to map is above the largest int, %d", n, math.MaxInt))
	}
	g := granularity()
	aligned := off / g * g
	m := &mapping{
		f:        f,
		name:     name,
		delta:    int(off - aligned),
		size:     n,
		writable: writable || c.private,
		private:  c.private,
		fileOff:  aligned,
	}
	if n > 0 {
		length := m.delta + int(n)
		m.data, err = mapFile(f, aligned, length, m.writable, c.private, c.populate)
		if err != nil {
			return fail(err)
		}
	}
	if c.lock {
		if err := lockMem(m.data); err != nil {
			return nil, errs.Rollback(&fs.PathError{Op: op, Path: name, Err: fmt.Errorf("LockMemory: %w", err)}, m.unmap())
		}
		m.locked.Store(int64(len(m.data)))
	}
	for _, a := range c.advice {
		if err := m.advise(a); err != nil {
			return nil, errs.Rollback(&fs.PathError{Op: op, Path: name, Err: err}, m.unmap())
		}
	}
	return m, nil
}

// unmap unmaps the mapping, for the rollback of an open that failed.
func (m *mapping) unmap() error {
	if m.data == nil {
		return nil
	}
	if err := unmap(m.data); err != nil {
		return &fs.PathError{Op: "munmap", Path: m.name, Err: err}
	}
	m.data = nil
	return nil
}

// wrap gives the mapping the io core, with the optional powers its kind
// has: growth for whole-file shared writable mappings, direct writes for
// shared writable ones where the platform keeps them coherent.
func wrap(m *mapping, c config) *File {
	var r ioadapt.Region = m
	switch {
	case m.private:
	case c.ranged && m.writable && directWrites:
		r = directMapping{m}
	case c.ranged:
	case !m.writable:
		r = wholeMapping{m}
	case directWrites:
		r = directGrowingMapping{growingMapping{wholeMapping{m}}}
	default:
		r = growingMapping{wholeMapping{m}}
	}
	return &File{IO: ioadapt.New(r), m: m}
}

// kind names a file mode for errors.
func kind(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "is a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "is a named pipe"
	case mode&fs.ModeSocket != 0:
		return "is a socket"
	case mode&fs.ModeCharDevice != 0:
		return "is a character device"
	case mode&fs.ModeDevice != 0:
		return "is a block device"
	}
	return "is not a regular file (" + mode.Type().String() + ")"
}

// SyncRange makes the bytes [off, off+n) durable: it writes back the pages
// that hold them and waits (msync MS_SYNC of the range). It does not make
// a changed size durable; [File.Sync] does. The range is clipped to the
// size; a negative off or n is an error wrapping [ioadapt.ErrInvalidOffset].
func (f *File) SyncRange(off, n int64) error {
	if f == nil {
		return errNil("sync")
	}
	return f.access("sync", func([]byte) error {
		if off < 0 || n < 0 {
			return &fs.PathError{Op: "sync", Path: f.Name(), Err: errs.Detail(ioadapt.ErrInvalidOffset, "negative offset or length in range [%d, %d+%d)", off, off, n)}
		}
		return f.m.SyncRange(off, n)
	})
}

// WriteAtSync writes p at off, as [File.WriteAt] does (growing the file
// past its end), and makes those bytes durable before it returns, as a
// WriteAt of an [os.File] opened with O_DSYNC would: the same as WriteAt
// then [File.SyncRange], and [File.Sync] where the file grew, but faster
// where the platform writes a mapped file coherently through pwrite(2)
// (Linux). There a store into the mapping dirties the whole folio that
// the page cache keeps the page in (up to 2 MiB for a file written in
// large chunks), and the sync writes all of it; a pwrite dirties only the
// blocks it writes. It returns n < len(p) only with an error; it runs in
// parallel with other calls, never moves the position, and after Close
// returns an error matching [fs.ErrClosed].
func (f *File) WriteAtSync(p []byte, off int64) (int, error) {
	if f == nil {
		return 0, errNil("write")
	}
	n, done, err := f.writeDirectSync(p, off)
	if done {
		return n, err
	}
	n, err = f.WriteAt(p, off)
	if n == 0 {
		return n, err
	}
	serr := f.SyncRange(off, int64(n))
	if serr == nil && f.m.grown.Load() {
		serr = f.Sync()
	}
	if err == nil {
		err = serr
	}
	return n, err
}

// writeDirectSync is WriteAtSync's fast path: a write within the size of
// a mapping that takes direct writes goes by pwrite, then the pages that
// hold it are synced, all under the shared lock, so that Close cannot
// take the descriptor meanwhile. done is false where it does not apply
// (growth, a private or read-only mapping, an offset WriteAt refuses):
// WriteAt then says what it does with the write.
func (f *File) writeDirectSync(p []byte, off int64) (n int, done bool, err error) {
	err = f.access("write", func([]byte) error {
		m := f.m
		if !directWrites || m.private || !m.writable || len(p) == 0 || off < 0 || int64(len(p)) > m.size-off {
			return nil
		}
		done = true
		if n, err = m.writeDirect(p, off); err != nil {
			return err
		}
		return m.SyncRange(off, int64(n))
	})
	if !done && err == nil {
		return 0, false, nil
	}
	return n, true, err
}

// SyncAsync starts writing the dirty pages back without waiting for them
// (sync_file_range on Linux, MS_ASYNC elsewhere, FlushViewOfFile without
// FlushFileBuffers on Windows). It promises nothing about durability; use
// it to spread write-back over time before a final [File.Sync].
func (f *File) SyncAsync() error {
	if f == nil {
		return errNil("sync")
	}
	return f.access("sync", func(b []byte) error {
		if f.m.private || !f.m.writable || len(b) == 0 {
			return nil
		}
		lo, hi := f.m.pageSpan(0, f.m.size)
		if err := flushAsync(f.m.f, f.m.data[lo:hi], f.m.fileOff+int64(lo), int64(hi-lo)); err != nil {
			return &fs.PathError{Op: "sync", Path: f.Name(), Err: err}
		}
		return nil
	})
}

// Advise tells the kernel how the mapping will be used (madvise). An
// advice that the platform lacks returns an error wrapping
// [ioadapt.ErrUnsupported], and so does [DontNeed] on a [Private] mapping: there it
// would drop the private copies of the pages, and with them every write
// made through the mapping, which would read as the file again.
func (f *File) Advise(a Advice) error {
	if f == nil {
		return errNil("madvise")
	}
	return f.access("madvise", func([]byte) error {
		if err := f.m.advise(a); err != nil {
			return &fs.PathError{Op: "madvise", Path: f.Name(), Err: err}
		}
		return nil
	})
}

// advise gives the mapping the advice a, refusing what would lose data.
// Its errors name the advice.
func (m *mapping) advise(a Advice) error {
	if a == DontNeed && m.private {
		return errs.Detail(ioadapt.ErrUnsupported, "advice %s on a Private mapping: it would discard the writes made through the mapping", a)
	}
	if err := advise(m.data, a); err != nil {
		return fmt.Errorf("advice %s: %w", a, err)
	}
	return nil
}

// LockMemory locks the mapped pages in RAM (mlock), so that they are never
// paged out; it may fail for the RLIMIT_MEMLOCK limit (on Windows, the
// process's minimum working set). A mapping that
// grows is not locked beyond what it held at the call.
func (f *File) LockMemory() error {
	if f == nil {
		return errNil("mlock")
	}
	return f.access("mlock", func([]byte) error {
		held := f.m.held()
		if err := lockMem(held); err != nil {
			return &fs.PathError{Op: "mlock", Path: f.Name(), Err: err}
		}
		f.m.locked.Store(int64(len(held)))
		return nil
	})
}

// UnlockMemory undoes [File.LockMemory].
func (f *File) UnlockMemory() error {
	if f == nil {
		return errNil("munlock")
	}
	return f.access("munlock", func([]byte) error {
		if err := unlockMem(f.m.held()); err != nil {
			return &fs.PathError{Op: "munlock", Path: f.Name(), Err: err}
		}
		f.m.locked.Store(0)
		return nil
	})
}

// Stat returns the [fs.FileInfo] of the file.
func (f *File) Stat() (fs.FileInfo, error) {
	if f == nil {
		return nil, errNil("stat")
	}
	var fi fs.FileInfo
	err := f.access("stat", func([]byte) error {
		var err error
		fi, err = f.m.f.Stat()
		return err
	})
	return fi, err
}
