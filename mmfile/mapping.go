package mmfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// mapping is the [ioadapt.Region] of a mapped file. The io core serialises
// Resize and Close against every other call, so mapping has no lock of
// its own.
type mapping struct {
	f        *os.File
	name     string
	data     []byte // the whole mapping, from an aligned offset; its length is the capacity
	delta    int    // where the asked-for bytes start within data (Range alignment)
	fileOff  int64  // the file offset that data starts at
	size     int64  // the logical size: what Bytes exposes
	writable bool
	private  bool
	// shared: f is Map's duplicate of the caller's descriptor, so the two
	// share one open file description and its status flags, O_APPEND
	// among them, which the caller may change (see pwrite).
	shared bool
	// locked is how many bytes from the start of data are locked in
	// memory: growth must not move or extend the lock (see mapCapacity).
	// LockMemory sets it under the io core's shared lock.
	locked atomic.Int64
	// grown records that the file's size changed since the last Sync, so
	// Sync must make the size durable too.
	// It is written by Sync, which runs in parallel with other calls.
	grown atomic.Bool
	// retired is the memory that Close and growth dropped (see drop).
	retired region.Retired
}

// The kinds of mapping, each a type with the optional powers it has, so
// that the io core sees only those:
//   - mapping: a Range or Private mapping, of a fixed size;
//   - wholeMapping: a shared mapping of the whole file, read-only; it
//     follows the file's size when other processes change it
//     ([ioadapt.Refresher]);
//   - growingMapping: the same, writable, so it also grows and shrinks
//     ([ioadapt.Resizer]);
//   - directMapping and directGrowingMapping: writable shared mappings
//     where the platform keeps pwrite(2) coherent with the mapping
//     (directWrites), which take large writes by pwrite
//     ([ioadapt.DirectWriter]) and, for the whole file, grow by it
//     ([ioadapt.Grower]).
type (
	wholeMapping         struct{ *mapping }
	growingMapping       struct{ wholeMapping }
	directMapping        struct{ *mapping }
	directGrowingMapping struct{ growingMapping }
)

func (m directMapping) WriteDirect(p []byte, off int64) (int, error) {
	return m.writeDirect(p, off)
}

func (m directGrowingMapping) WriteDirect(p []byte, off int64) (int, error) {
	return m.writeDirect(p, off)
}

// StoreSize returns the file's size now.
func (m wholeMapping) StoreSize() (int64, error) {
	fi, err := m.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Refresh takes the file's size now as the mapping's, mapping more of the
// file if it grew. If it shrank, the mapping keeps its capacity: only the
// size moves, and the pages past the new end are never touched. Any call
// of the io core may refresh, so its errors are those of mapping more:
// Op "mmap".
func (m wholeMapping) Refresh() error {
	size, err := m.StoreSize()
	if err != nil {
		return err
	}
	if uint64(size) > math.MaxInt {
		return m.err("mmap", errs.Detail(ioadapt.ErrTooLarge, "the file grew to %d bytes, above the largest int, %d", size, math.MaxInt))
	}
	if err := m.fit("mmap", size); err != nil {
		return err
	}
	m.size = size
	return nil
}

// Grow writes p at off, past the end, by pwrite(2): the kernel extends the
// file exactly to the last byte it wrote, so the file's size is never
// ahead of its data, whether the write succeeds, stops short on a full
// disk, or the process dies, and never cut back, so bytes that another
// process appended meanwhile are kept. An append is that one system call
// (and a remap when the capacity runs out): nothing is reserved ahead of
// the data, since blocks reserved past the end stay allocated after Close
// and after a crash (ext4 frees them only at a truncate; fallocate
// PUNCH_HOLE does nothing past the end there), and trimming them would
// race with another process's append. The mapping's capacity is made to
// cover the new end first. A gap between the end and off is reserved
// (fallocate, keeping the size) once the write has landed, when it lies
// inside the file, so that a store into it later cannot fault for want of
// space: a write that fails reserves nothing, and a gap larger than the
// free space is refused before any block is taken (see reserve). A full
// disk at that step is this write's error, with n == len(p): the bytes
// are in the file, the gap is sparse.
func (m directGrowingMapping) Grow(p []byte, off int64) (int, error) {
	const op = "write"
	end := off + int64(len(p))
	if uint64(end) > math.MaxInt {
		return 0, m.err(op, errs.Detail(ioadapt.ErrTooLarge, "a write ending at offset %d, above the largest int, %d", end, math.MaxInt))
	}
	if err := m.fit(op, end); err != nil {
		return 0, err
	}
	gap := m.size
	n, err := m.writeDirect(p, off)
	if n > 0 && off+int64(n) > m.size {
		m.size = off + int64(n)
		m.grown.Store(true)
	}
	if err == nil && off > gap {
		if rerr := reserve(m.f, gap, off-gap); rerr != nil {
			err = m.err(op, fmt.Errorf("the %d bytes were written at offset %d, but the gap [%d, %d) before them could not be reserved: %w", n, off, gap, off, rerr))
		}
	}
	return n, err
}

// writeDirect writes p at off of the Region with pwrite(2) on the file.
func (m *mapping) writeDirect(p []byte, off int64) (int, error) {
	n, err := pwrite(m.f, p, m.fileOff+int64(m.delta)+off, m.shared)
	if err != nil {
		err = m.err("write", err)
	}
	return n, err
}

func (m *mapping) Bytes() []byte {
	if m.data == nil {
		return nil
	}
	end := m.delta + int(m.size)
	return m.data[m.delta:end:end]
}

func (m *mapping) Size() int64    { return m.size }
func (m *mapping) Writable() bool { return m.writable }
func (m *mapping) Name() string   { return m.name }

// Sync writes the dirty pages back and waits for them (msync MS_SYNC), then
// makes the file's new size durable with fsync if it changed. A private
// mapping has nothing to write back.
func (m *mapping) Sync() error {
	if m.private || !m.writable {
		return nil
	}
	if m.size > 0 {
		if err := flush(m.data[:m.delta+int(m.size)]); err != nil {
			return m.err("sync", err)
		}
	}
	if m.grown.Load() || syncNeedsFsync {
		if err := m.f.Sync(); err != nil {
			return err
		}
		m.grown.Store(false)
	}
	return nil
}

// SyncRange writes back the pages that hold [off, off+n) of the Region and
// waits for them.
func (m *mapping) SyncRange(off, n int64) error {
	if m.private || !m.writable || n <= 0 {
		return nil
	}
	lo, hi := m.pageSpan(off, n)
	if lo == hi {
		return nil // an empty range; msync would refuse its address
	}
	if err := flush(m.data[lo:hi]); err != nil {
		return m.err("sync", err)
	}
	if syncNeedsFsync {
		return m.f.Sync()
	}
	return nil
}

// pageSpan returns the page-aligned span of data that holds [off, off+n)
// of the Region, clipped to the size. off and n are not negative.
func (m *mapping) pageSpan(off, n int64) (lo, hi int) {
	off = min(off, m.size)
	n = min(n, m.size-off)
	g := granularity()
	start := int64(m.delta) + off
	return int(start / g * g), int(start + n)
}

// held returns the part of the mapping that holds the data, in whole
// pages: the capacity beyond them lies past the end of the file.
func (m *mapping) held() []byte {
	if m.data == nil {
		return nil
	}
	g := granularity()
	end := min((int64(m.delta)+m.size+g-1)/g*g, int64(len(m.data)))
	return m.data[:end]
}

// Close unmaps (drops, see drop), leaves the file at its logical size and
// closes the descriptor, which it closes whether or not the unmap failed.
// It does not sync.
func (m *mapping) Close() error {
	var err error
	if m.data != nil {
		if uerr := m.drop(m.data); uerr != nil {
			err = m.err("close", uerr)
		}
		m.data = nil
	}
	if cerr := m.f.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// Resize sets the file's size, as os.File.Truncate does, and keeps the
// mapping able to hold it. Growth reserves the file's blocks first, so a
// full disk is an error here rather than a SIGBUS at the first touch.
// Each step that can fail comes before the size changes, so a failure
// leaves the file as it is.
func (m growingMapping) Resize(size int64) error {
	const op = "truncate"
	if size < 0 {
		return m.err(op, errs.Detail(ioadapt.ErrInvalidSize, "negative size %d", size))
	}
	if uint64(size) > math.MaxInt {
		return m.err(op, errs.Detail(ioadapt.ErrTooLarge, "size %d is above the largest int, %d", size, math.MaxInt))
	}
	if !mapPastEOF {
		return m.resizeUnmapped(size)
	}
	if err := m.fit(op, size); err != nil {
		return err
	}
	if size > m.size {
		if err := reserve(m.f, m.size, size-m.size); err != nil {
			return m.err(op, err)
		}
	}
	if size < m.size && !m.retired.Stopped() {
		if err := m.moveBeforeShrink(size); err != nil {
			return m.err(op, err)
		}
	}
	if err := m.f.Truncate(size); err != nil {
		return err
	}
	m.size = size
	m.grown.Store(true)
	return nil
}

// moveBeforeShrink maps the file afresh and retires the old range
// before a shrink to size cuts the file. ftruncate zeroes the tail of the
// page that holds the new end, and that page stays mapped: a call of the
// io core that loaded the old view without a lock ([ioadapt.Retirer])
// would copy those zeros as data, or store bytes there that the cut then
// loses while WriteAt reports success. With the old range retired first,
// such a call faults, waits for the shrink and runs again on the new
// view, where it sees the new end.
func (m *mapping) moveBeforeShrink(size int64) error {
	b, err := m.mapAfresh(int64(len(m.data)), size)
	if err != nil {
		return fmt.Errorf("mapping %d bytes: %w", len(m.data), err)
	}
	m.data = b
	return nil
}

// resizeUnmapped resizes where a view cannot reach past the end of the
// file and the file cannot change size under a view (Windows): unmap,
// set the size, map again. If a step fails, the mapping is made again at
// the size the file has then, not at a size remembered from before.
func (m growingMapping) resizeUnmapped(size int64) error {
	if m.data != nil {
		if err := unmap(m.data); err != nil {
			return m.err("truncate", err)
		}
		m.data = nil
	}
	err := m.f.Truncate(size)
	if err == nil {
		m.grown.Store(true)
		m.size = size
		if err = m.fit("truncate", size); err == nil {
			return nil
		}
	}
	err = errs.Rollback(err, m.Refresh())
	if m.data == nil {
		// No view could be made again: the File holds nothing, rather
		// than a size over memory it does not have.
		m.size = 0
	}
	return err
}

// reserve allocates the blocks of [off, off+n) of the file without
// changing its size ([sys.Reserve]), so that a full disk fails here, not
// as a SIGBUS at the first store into them. Where the system or the file
// system has no fallocate it reserves nothing, and a full disk shows at
// write-back; on Windows a view never reaches past the end of the file,
// and extending the file allocates its clusters.
//
// A reservation that fails for want of space keeps the blocks it got on
// ext4 (past the end of the file, where only a truncate frees them, so
// the disk stays full after the failed call), so reserve first asks the
// file system (fstatfs) and refuses, reserving nothing, what is more than
// its free space. Blocks of the range that are allocated already count
// against it too, so on a nearly full disk a range that another process
// has written meanwhile may be refused.
func reserve(f *os.File, off, n int64) error {
	if free, _, ok := freeSpace(f); ok && n > free {
		return errs.Detail(syscall.ENOSPC, "reserving %d bytes at offset %d with %d free: %v", n, off, free, syscall.ENOSPC)
	}
	err := sys.Reserve(int(f.Fd()), off, n)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// fit makes the mapping's capacity hold size bytes; op is the call that
// needs it, for its errors. Where the mapping may reach past the end of
// the file, the capacity runs ahead of the size, so that appends rarely
// remap.
func (m *mapping) fit(op string, size int64) error {
	if size == 0 || size <= int64(len(m.data)) {
		return nil
	}
	want := size
	if mapPastEOF {
		want = nextCapacity(int64(len(m.data)), size)
	}
	b, err := m.mapCapacity(want)
	if err != nil && want > size {
		// The address space (RLIMIT_AS) may hold the size but not the
		// capacity ahead of it.
		b, err = m.mapCapacity(size)
	}
	if err != nil {
		return m.err(op, fmt.Errorf("mapping %d bytes: %w", size, err))
	}
	m.data = b
	return nil
}

// mapCapacity returns a mapping of the file's first n bytes that replaces
// data. mremap (Linux) grows a mapping in place, but only a single kernel
// mapping with free addresses after it, and it would extend a memory lock
// to the whole capacity; so a locked mapping, or one that cannot grow in
// place, is mapped afresh, the old one dropped (see drop), and the lock
// taken again over the bytes it covered.
func (m *mapping) mapCapacity(n int64) ([]byte, error) {
	if m.data == nil {
		return mapFile(m.f, 0, int(n), m.writable, false, false)
	}
	locked := m.locked.Load()
	if locked == 0 {
		if b, err := remap(m.data, int(n), m.retired.Stopped()); err == nil {
			return b, nil
		}
	}
	size := int64(-1)
	if locked > 0 {
		if fi, err := m.f.Stat(); err == nil {
			size = fi.Size()
		}
	}
	return m.mapAfresh(n, size)
}

// mapAfresh returns a new mapping of the file's first n bytes that
// replaces data, which it drops, with the memory lock taken again over
// the bytes it covered, up to size, the file's size (if not negative).
func (m *mapping) mapAfresh(n, size int64) ([]byte, error) {
	b, err := mapFile(m.f, 0, int(n), m.writable, false, false)
	if err != nil {
		return nil, err
	}
	locked := m.locked.Load()
	if locked > 0 && size >= 0 {
		// The lock is taken again only over pages the file still has: a
		// page past its end (it shrank since) cannot be faulted in.
		g := granularity()
		locked = min(locked, (size+g-1)/g*g)
		m.locked.Store(locked)
	}
	if locked > 0 {
		if err := lockMem(b[:min(locked, n)]); err != nil {
			return nil, errs.Rollback(err, unmap(b))
		}
	}
	if err := m.drop(m.data); err != nil {
		return nil, errs.Rollback(err, unmap(b))
	}
	return b, nil
}

// nextCapacity returns a capacity of at least size: double the current
// one up to 1 GiB, then the next multiple of 1 GiB, rounded to pages; size
// itself where that would overflow.
func nextCapacity(capacity, size int64) int64 {
	const step = 1 << 30
	g := granularity()
	c := max(capacity, g)
	switch {
	case size > math.MaxInt64-step:
		return size
	case size > step:
		c = (size + step - 1) / step * step
	default:
		for c < size {
			c *= 2
		}
	}
	c = (c + g - 1) / g * g
	if uint64(c) > math.MaxInt || c < size {
		return size
	}
	return c
}

func (m *mapping) err(op string, err error) error {
	return &fs.PathError{Op: op, Path: m.name, Err: err}
}
