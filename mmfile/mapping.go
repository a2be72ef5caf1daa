package mmfile

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"sync/atomic"
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
	// grown records that the file's size changed since the last Sync, so
	// Sync must make the size durable too.
	// It is written by Sync, which runs in parallel with other calls.
	grown atomic.Bool
}

// growingMapping is a writable, whole-file, shared mapping: the only kind
// that grows. Having its own type keeps [ioadapt.Resizer] off the others.
type growingMapping struct{ *mapping }

// directMapping and directGrowingMapping add [ioadapt.DirectWriter] to the
// writable shared mappings, where the platform keeps pwrite(2) coherent
// with the mapping (directWrites).
type (
	directMapping        struct{ *mapping }
	directGrowingMapping struct{ growingMapping }
)

func (m directMapping) WriteDirect(p []byte, off int64) (int, error) {
	return m.writeDirect(p, off)
}

func (m directGrowingMapping) WriteDirect(p []byte, off int64) (int, error) {
	return m.writeDirect(p, off)
}

// writeDirect writes p at off of the Region with pwrite(2) on the file.
func (m *mapping) writeDirect(p []byte, off int64) (int, error) {
	return m.f.WriteAt(p, m.fileOff+int64(m.delta)+off)
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
			return m.err("msync", err)
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
		return m.err("msync", err)
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

// Close unmaps, leaves the file at its logical size and closes the
// descriptor. It does not sync.
func (m *mapping) Close() error {
	var errs []error
	if m.data != nil {
		if err := unmap(m.data); err != nil {
			errs = append(errs, m.err("munmap", err))
		}
		m.data = nil
	}
	if err := m.f.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Resize sets the file's size, as os.File.Truncate does, and keeps the
// mapping able to hold it. Growth reserves the file's blocks first, so a
// full disk is an error here rather than a SIGBUS at the first touch. The
// mapping's capacity doubles up to 1 GiB, then grows in 1 GiB steps, so
// that appends remap rarely.
func (m growingMapping) Resize(size int64) error {
	if size < 0 {
		return m.err("truncate", errors.New("negative size"))
	}
	if uint64(size) > math.MaxInt {
		return m.err("truncate", ErrTooLarge)
	}
	old := m.size
	if !mapPastEOF && m.data != nil {
		// Windows refuses to change the size of a file while a view of it
		// is mapped: unmap first, map the new size after.
		if err := unmap(m.data); err != nil {
			return m.err("munmap", err)
		}
		m.data = nil
	}
	err := m.resizeFile(old, size)
	if err == nil {
		err = m.fit(size)
	}
	if err != nil {
		_ = m.f.Truncate(old) // undo a partial reservation; the data below old is intact
		_ = m.fit(old)
		return err
	}
	m.size = size
	return nil
}

func (m growingMapping) resizeFile(old, size int64) error {
	var err error
	switch {
	case size > old:
		if err = reserve(m.f, old, size-old); err != nil {
			err = m.err("fallocate", err)
		}
	case size < old:
		err = m.f.Truncate(size)
	}
	if err == nil && size != old {
		m.grown.Store(true)
	}
	return err
}

// fit makes the mapping's capacity hold size bytes.
func (m growingMapping) fit(size int64) error {
	if size == 0 || size <= int64(len(m.data)) {
		return nil
	}
	want := size
	if mapPastEOF {
		want = nextCapacity(int64(len(m.data)), size)
	}
	var b []byte
	var err error
	if m.data == nil {
		b, err = mapFile(m.f, 0, int(want), true, false, false)
	} else {
		b, err = remap(m.f, m.data, int(want))
	}
	if err != nil {
		return m.err("mmap", err)
	}
	m.data = b
	return nil
}

// nextCapacity returns a capacity of at least size: double the current
// one up to 1 GiB, then 1 GiB steps, rounded to pages and capped by the
// address space.
func nextCapacity(capacity, size int64) int64 {
	const step = 1 << 30
	c := max(capacity, granularity())
	for c < size {
		if c < step {
			c *= 2
		} else {
			c += step
		}
	}
	g := granularity()
	c = (c + g - 1) / g * g
	if uint64(c) > math.MaxInt || c < size {
		return size
	}
	return c
}

func (m *mapping) err(op string, err error) error {
	return &fs.PathError{Op: op, Path: m.name, Err: err}
}
