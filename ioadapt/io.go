package ioadapt

import (
	"io"
	"io/fs"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// IO implements Go's io interfaces over a [Region], with the semantics of
// [bytes.Reader] for reads and of [os.File] for writes. It is the one place
// where mapped memory is read and written: packages mmfile, shm and sysv
// embed it. An IO is itself a Region.
//
// See the package documentation for the rules on concurrency, Close and
// faults, which every method follows.
type IO struct {
	s    *shared
	root bool  // this view owns the Region; a section does not
	off  int64 // a section's start within the Region
	n    int64 // a section's length

	// closed marks a closed section. It is written with s.mu held
	// exclusively and read with it held shared.
	closed bool

	pmu sync.Mutex // serialises the methods that use pos
	pos int64
}

// shared is the state of one Region, common to its root IO and all its
// sections.
type shared struct {
	// mu is held shared by every call that touches the memory and
	// exclusively by Close and resizes, so the memory is never unmapped or
	// moved under a reader.
	mu       sync.RWMutex
	region   Region
	resizer  Resizer      // nil for a fixed-size Region
	direct   DirectWriter // nil where writes go into the memory
	buf      []byte       // region.Bytes(), refreshed after every resize
	closed   bool
	name     string
	writable bool
	faults   bool // the memory may fault: see fault.go
	cleanup  runtime.Cleanup

	// growers counts the ReadFrom calls that hold room grown ahead of the
	// data (written with mu held exclusively). While there are any, writes
	// record in writtenTo how far they reached, so that no ReadFrom trims
	// away bytes that another call wrote into its room.
	growers   int
	writtenTo atomic.Int64
}

// wroteTo records that a write reached end, while a ReadFrom holds grown
// room. The caller holds mu, shared or exclusive. It is small enough to be
// inlined, so that writes pay a comparison, not a call, when no ReadFrom
// is growing.
func (s *shared) wroteTo(end int64) {
	if s.growers > 0 {
		s.raiseWrittenTo(end)
	}
}

func (s *shared) raiseWrittenTo(end int64) {
	for {
		old := s.writtenTo.Load()
		if end <= old || s.writtenTo.CompareAndSwap(old, end) {
			return
		}
	}
}

// regionOwner is implemented by IO, and by every type that embeds one, so
// that WriteTo and ReadFrom can tell when their peer is the same Region.
type regionOwner interface{ sharedState() *shared }

func (c *IO) sharedState() *shared { return c.s }

// sameRegion reports whether x reads or writes the memory of c's Region.
func (c *IO) sameRegion(x any) bool {
	o, ok := x.(regionOwner)
	return ok && o.sharedState() == c.s
}

// New returns an IO over r, positioned at offset 0. The IO owns r: its
// Close closes r, and if the IO becomes unreachable without Close, a
// cleanup syncs and closes r. r must not be an IO: New would keep its
// memory at the address it had, which a resize of that IO moves; take a
// [IO.Section] instead.
func New(r Region) *IO {
	s := &shared{
		region:   r,
		buf:      r.Bytes(),
		name:     r.Name(),
		writable: r.Writable(),
	}
	s.resizer, _ = r.(Resizer)
	s.direct, _ = r.(DirectWriter)
	_, faultFree := r.(FaultFree)
	s.faults = !faultFree
	s.cleanup = runtime.AddCleanup(s, func(r Region) {
		_ = r.Sync()
		_ = r.Close()
	}, r)
	return &IO{s: s, root: true}
}

// view returns the bytes this IO sees. The caller holds s.mu.
func (c *IO) view() []byte {
	b := c.s.buf
	if c.root {
		return b
	}
	if c.off >= int64(len(b)) {
		return nil
	}
	end := int64(len(b))
	if c.n < end-c.off {
		end = c.off + c.n
	}
	return b[c.off:end:end]
}

// pin takes s.mu shared and checks that the view is open. When it returns
// nil, the caller must release s.mu with RUnlock.
func (c *IO) pin(op string) error {
	c.s.mu.RLock()
	if c.closed || c.s.closed {
		c.s.mu.RUnlock()
		return c.pathErr(op, ErrClosed)
	}
	return nil
}

func (c *IO) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: c.s.name, Err: err}
}

func (c *IO) negativeErr(op, what string, v int64) error {
	return c.pathErr(op, detail(ErrInvalidOffset, "negative %s %d", what, v))
}

// ReadAt implements [io.ReaderAt]. It reads len(p) bytes at offset off, or
// fewer with [io.EOF] when the data ends first; at or past the end it
// returns 0, io.EOF. A negative off is an error wrapping [ErrInvalidOffset].
// It does not use or move the seek position and runs in parallel with other
// reads and writes.
func (c *IO) ReadAt(p []byte, off int64) (n int, err error) {
	s := c.s
	s.mu.RLock()
	if c.closed || s.closed || off < 0 {
		s.mu.RUnlock()
		if off < 0 && !c.closed && !s.closed {
			return 0, c.negativeErr("read", "offset", off)
		}
		return 0, c.pathErr("read", ErrClosed)
	}
	b := c.view()
	if off >= int64(len(b)) {
		s.mu.RUnlock()
		return 0, io.EOF
	}
	if s.faults {
		n, err = c.copyOutGuarded(p, b[off:])
	} else {
		n = copy(p, b[off:])
		s.mu.RUnlock()
	}
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// copyOutGuarded copies src, inside the Region, to p with faults turned
// into errors, and releases the shared lock that the caller took. It is
// ReadAt's path for memory that can fault; heap memory skips the cost of
// the deferred recovery.
func (c *IO) copyOutGuarded(p, src []byte) (n int, err error) {
	defer c.unpinGuarded(c.guard(), "read", &err)
	return copy(p, src), nil
}

// Read implements [io.Reader]: it reads from the seek position and advances
// it. At or past the end it returns 0, [io.EOF].
func (c *IO) Read(p []byte) (n int, err error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.pin("read"); err != nil {
		return 0, err
	}
	b := c.view()
	if c.pos >= int64(len(b)) {
		c.s.mu.RUnlock()
		return 0, io.EOF
	}
	defer c.unpinGuarded(c.guard(), "read", &err)
	n = copy(p, b[c.pos:])
	c.pos += int64(n)
	return n, nil
}

// ReadByte implements [io.ByteReader]. At or past the end it returns 0,
// [io.EOF].
func (c *IO) ReadByte() (v byte, err error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.pin("read"); err != nil {
		return 0, err
	}
	b := c.view()
	if c.pos >= int64(len(b)) {
		c.s.mu.RUnlock()
		return 0, io.EOF
	}
	defer c.unpinGuarded(c.guard(), "read", &err)
	v = b[c.pos]
	c.pos++
	return v, nil
}

// UnreadByte implements [io.ByteScanner]: it moves the seek position back
// by one byte, as [bytes.Reader.UnreadByte] does, and fails at position 0.
func (c *IO) UnreadByte() error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.pin("unreadbyte"); err != nil {
		return err
	}
	defer c.s.mu.RUnlock()
	if c.pos <= 0 {
		return c.pathErr("unreadbyte", detail(ErrInvalidOffset, "at beginning of region"))
	}
	c.pos--
	return nil
}

// WriteTo implements [io.WriterTo]: it hands w everything from the seek
// position to the end in a single Write, straight from the Region's
// memory, so [io.Copy] from an IO copies once. The seek position advances
// by what w accepted. It holds the Region open (and delays Close) while w
// runs, so w must not call back into this Region by any other way than
// being it: when w is this IO, a section of it, or a type that embeds
// one, WriteTo copies through a buffer instead.
func (c *IO) WriteTo(w io.Writer) (n int64, err error) {
	if c.sameRegion(w) {
		return io.CopyBuffer(w, onlyReader{c}, make([]byte, 64<<10))
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.pin("writeto"); err != nil {
		return 0, err
	}
	b := c.view()
	if c.pos >= int64(len(b)) {
		c.s.mu.RUnlock()
		return 0, nil
	}
	defer c.unpinGuarded(c.guard(), "writeto", &err)
	rest := b[c.pos:]
	m, err := w.Write(rest)
	if m < 0 || m > len(rest) {
		panic("ioadapt: WriteTo: invalid Write count")
	}
	c.pos += int64(m)
	if m < len(rest) && err == nil {
		err = io.ErrShortWrite
	}
	return int64(m), err
}

// WriteAt implements [io.WriterAt]: it writes p at offset off without using
// or moving the seek position, in parallel with other calls. A write that
// runs past the end grows a Region that implements [Resizer] (the gap, if
// any, reads as zeros); on a fixed-size Region it writes what fits and
// returns an error wrapping [ErrFixedSize]. A negative or overflowing
// offset is an error wrapping [ErrInvalidOffset]; a read-only Region
// returns [ErrReadOnly].
func (c *IO) WriteAt(p []byte, off int64) (int, error) {
	return c.writeAt("write", p, off)
}

// Write implements [io.Writer]: it writes at the seek position and advances
// it by the count written, growing or stopping at the end as WriteAt does.
func (c *IO) Write(p []byte) (int, error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	n, err := c.writeAt("write", p, c.pos)
	c.pos += int64(n)
	return n, err
}

// WriteString implements [io.StringWriter], as Write without copying s.
func (c *IO) WriteString(s string) (int, error) {
	return c.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// WriteByte implements [io.ByteWriter], as Write of one byte.
func (c *IO) WriteByte(v byte) error {
	one := [1]byte{v}
	_, err := c.Write(one[:])
	return err
}

func (c *IO) writeAt(op string, p []byte, off int64) (int, error) {
	n, grow, err := c.writeInPlace(op, p, off)
	if grow {
		return c.writeGrowing(op, p, off)
	}
	return n, err
}

// writeInPlace writes p at off under the shared lock. It reports grow when
// the write needs a larger Region and the Region can grow.
func (c *IO) writeInPlace(op string, p []byte, off int64) (n int, grow bool, err error) {
	if err := c.pin(op); err != nil {
		return 0, false, err
	}
	defer c.s.mu.RUnlock()
	if !c.s.writable {
		return 0, false, c.pathErr(op, ErrReadOnly)
	}
	if off < 0 {
		return 0, false, c.negativeErr(op, "offset", off)
	}
	if int64(len(p)) > math.MaxInt64-off {
		return 0, false, c.pathErr(op, detail(ErrInvalidOffset,
			"offset %d plus length %d overflows int64", off, len(p)))
	}
	if len(p) == 0 {
		return 0, false, nil // as os.File: an empty write never extends
	}
	b := c.view()
	size := int64(len(b))
	end := off + int64(len(p))
	if end <= size {
		if c.s.direct != nil && len(p) >= DirectWriteMin {
			n, err = c.s.direct.WriteDirect(p, c.off+off)
		} else {
			n, err = c.copyIn(op, b[off:end], p)
		}
		c.s.wroteTo(c.off + off + int64(n))
		return n, false, err
	}
	if c.root && c.s.resizer != nil {
		return 0, true, nil
	}
	if off < size {
		n, err = c.copyIn(op, b[off:], p)
	}
	if err == nil {
		err = c.pathErr(op, detail(ErrFixedSize,
			"write of %d bytes at offset %d runs past the end of the fixed-size region (size %d)",
			len(p), off, size))
	}
	return n, false, err
}

// writeGrowing resizes the Region to hold p at off, then writes it, all
// under the exclusive lock.
func (c *IO) writeGrowing(op string, p []byte, off int64) (int, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed || c.s.closed {
		return 0, c.pathErr(op, ErrClosed)
	}
	end := off + int64(len(p))
	old := int64(len(c.s.buf))
	if end > old {
		if err := c.resize(end); err != nil {
			return 0, err
		}
	}
	var n int
	var err error
	if c.s.direct != nil {
		// The grown pages are new: a store would fault on every one.
		n, err = c.s.direct.WriteDirect(p, off)
	} else {
		n, err = c.copyIn(op, c.s.buf[off:end], p)
	}
	if err != nil && end > old {
		// Give back the growth that the failed write did not fill.
		_ = c.resize(max(old, off+int64(n)))
	}
	c.s.wroteTo(off + int64(n))
	return n, err
}

// resize changes the Region's size. The caller holds s.mu exclusively.
func (c *IO) resize(size int64) error {
	err := c.s.resizer.Resize(size)
	c.s.buf = c.s.region.Bytes()
	return err
}

func (c *IO) copyIn(op string, dst, src []byte) (n int, err error) {
	defer c.recoverFault(c.guard(), op, &err)
	return copy(dst, src), nil
}

// ReadFrom implements [io.ReaderFrom]: it reads from r until [io.EOF]
// straight into the Region's memory at the seek position, advancing it.
// A Region that implements [Resizer] grows as needed and ends at the last
// byte read. A fixed-size Region stops when full: if r still has data,
// ReadFrom returns an error wrapping [ErrFixedSize], and the one byte read
// to learn that is lost unless r is an [io.Seeker]. It holds the Region
// open (and delays Close) while r.Read runs, so r must not call back into
// this Region by any other way than being it: when r is this IO, a
// section of it, or a type that embeds one, ReadFrom copies through a
// buffer instead.
func (c *IO) ReadFrom(r io.Reader) (n int64, err error) {
	if c.sameRegion(r) {
		return io.CopyBuffer(onlyWriter{c}, r, make([]byte, 64<<10))
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	growable := c.root && c.s.resizer != nil
	grown := false // whether this call grew the Region, to trim at the end
	var grownTo, end int64
	for {
		m, room, err := c.readInto(r)
		c.pos += int64(m)
		n += int64(m)
		if grown && m > 0 {
			end = max(end, c.pos)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, c.trim(grown, grownTo, end, err)
		}
		if room {
			continue
		}
		if !growable {
			return n, c.checkFull(r)
		}
		before, after, err := c.growForRead(grown)
		if err != nil {
			return n, c.trim(grown, grownTo, end, err)
		}
		if after > before {
			if !grown {
				grown, end = true, before
			}
			grownTo = after
		}
	}
	return n, c.trim(grown, grownTo, end, nil)
}

// readInto does one r.Read into the Region at the seek position. room is
// false when the Region has no space left there.
func (c *IO) readInto(r io.Reader) (n int, room bool, err error) {
	if err := c.pin("readfrom"); err != nil {
		return 0, true, err
	}
	if !c.s.writable {
		c.s.mu.RUnlock()
		return 0, true, c.pathErr("readfrom", ErrReadOnly)
	}
	b := c.view()
	if c.pos >= int64(len(b)) {
		c.s.mu.RUnlock()
		return 0, false, nil
	}
	defer c.unpinGuarded(c.guard(), "readfrom", &err)
	rest := b[c.pos:]
	n, err = r.Read(rest)
	if n < 0 || n > len(rest) {
		panic("ioadapt: ReadFrom: invalid Read count")
	}
	return n, true, err
}

// growForRead makes room after the seek position for ReadFrom: as much as
// the Region already holds, between 64 KiB and 64 MiB, so that growth is
// amortised. It returns the sizes before and after; they are equal when
// another call made room first. The first growth of a call (registered is
// false) counts the call among the growers, until its trim.
func (c *IO) growForRead(registered bool) (before, after int64, err error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed || c.s.closed {
		return 0, 0, c.pathErr("readfrom", ErrClosed)
	}
	before = int64(len(c.s.buf))
	if c.pos < before {
		return before, before, nil
	}
	step := min(max(before, 64<<10), 64<<20)
	if c.pos > math.MaxInt64-step {
		return 0, 0, c.pathErr("readfrom", detail(ErrInvalidOffset,
			"position %d too large to grow the region", c.pos))
	}
	if err := c.resize(c.pos + step); err != nil {
		return 0, 0, err
	}
	if !registered {
		if c.s.growers == 0 {
			c.s.writtenTo.Store(0)
		}
		c.s.growers++
	}
	return before, c.pos + step, nil
}

// trim gives back the room that ReadFrom grew but did not fill, leaving the
// Region's size at end, unless another call has resized it since. It
// returns err, or the trim's own error when err is nil.
func (c *IO) trim(grown bool, grownTo, end int64, err error) error {
	if !grown {
		return err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.growers--
	if c.s.closed || int64(len(c.s.buf)) != grownTo {
		return err
	}
	// Bytes that other calls wrote into the room stay.
	if terr := c.resize(max(end, c.s.writtenTo.Load())); err == nil {
		err = terr
	}
	return err
}

// checkFull tells whether r is exhausted once a fixed-size Region is full.
func (c *IO) checkFull(r io.Reader) error {
	var probe [1]byte
	m, err := r.Read(probe[:])
	if m == 0 {
		if err == io.EOF {
			return nil
		}
		return err
	}
	if s, ok := r.(io.Seeker); ok {
		_, _ = s.Seek(-1, io.SeekCurrent)
	}
	return c.pathErr("readfrom", detail(ErrFixedSize,
		"reader has more data than fits in the fixed-size region (size %d)", c.Size()))
}

// Seek implements [io.Seeker]. Any position at or past 0 is allowed,
// including past the end; a negative or overflowing result is an error
// wrapping [ErrInvalidOffset], a bad whence one wrapping
// [ErrInvalidWhence], and after an error the position is unchanged.
func (c *IO) Seek(offset int64, whence int) (int64, error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.pin("seek"); err != nil {
		return 0, err
	}
	defer c.s.mu.RUnlock()
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = c.pos
	case io.SeekEnd:
		base = int64(len(c.view()))
	default:
		return 0, c.pathErr("seek", detail(ErrInvalidWhence, "invalid whence %d", whence))
	}
	abs := base + offset
	if offset > 0 && abs < 0 {
		return 0, c.pathErr("seek", detail(ErrInvalidOffset,
			"position %d%+d overflows int64", base, offset))
	}
	if abs < 0 {
		return 0, c.negativeErr("seek", "position", abs)
	}
	c.pos = abs
	return abs, nil
}

// Truncate changes the Region's size, as [os.File.Truncate] does: growing
// adds zeros, shrinking drops the tail. The seek position is unchanged. It
// works only on a whole Region that implements [Resizer]; on any other it
// returns an error wrapping [ErrFixedSize]. It waits for calls in flight.
func (c *IO) Truncate(size int64) error {
	if size < 0 {
		return c.negativeErr("truncate", "size", size)
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	switch {
	case c.closed || c.s.closed:
		return c.pathErr("truncate", ErrClosed)
	case !c.s.writable:
		return c.pathErr("truncate", ErrReadOnly)
	case !c.root || c.s.resizer == nil:
		return c.pathErr("truncate", detail(ErrFixedSize, "cannot resize a fixed-size region"))
	}
	return c.resize(size)
}

// Section returns a view of n bytes at offset off of this IO: the seed's
// "alias for a chunk of a parent buffer". The section reads and writes the
// same memory, has its own seek position (starting at 0) and its own Close,
// which closes that view only; closing the IO returned by [New] closes
// every section cut from it, directly or not. A section never grows. The
// range must lie within the current size.
func (c *IO) Section(off, n int64) (*IO, error) {
	if err := c.pin("section"); err != nil {
		return nil, err
	}
	defer c.s.mu.RUnlock()
	size := int64(len(c.view()))
	if off < 0 || n < 0 || off > size || n > size-off {
		return nil, c.pathErr("section", detail(ErrInvalidOffset,
			"range [%d, %d+%d) is outside the region (size %d)", off, off, n, size))
	}
	return &IO{s: c.s, off: c.off + off, n: n}, nil
}

// Access calls fn with the Region's memory held open: Close and resizes
// wait until fn returns, and a fault in the memory ends fn with an error
// wrapping [ErrFault] instead of a crash. fn must not keep the slice, and
// must not call methods of this IO or its sections (that could deadlock
// with a pending Close). Access returns fn's error.
func (c *IO) Access(fn func(b []byte) error) (err error) {
	if err := c.pin("access"); err != nil {
		return err
	}
	defer c.unpinGuarded(c.guard(), "access", &err)
	return fn(c.view())
}

// Bytes returns the Region's memory (a section's part of it), or nil after
// Close. The slice aliases the mapping: writing to it writes the Region.
// It is valid only until Close, or a resize (a growing write, Truncate);
// touching it after that may crash the process with SIGSEGV, and a fault
// in it (the file shrank) raises SIGBUS. Prefer [IO.Access].
func (c *IO) Bytes() []byte {
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	if c.closed || c.s.closed {
		return nil
	}
	return c.view()
}

// Size returns the size in bytes of the data, as the Region reports it
// (for a file, its logical size, not the mapped capacity), or 0 after
// Close.
func (c *IO) Size() int64 {
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	if c.closed || c.s.closed {
		return 0
	}
	return int64(len(c.view()))
}

// Name returns the name of the Region, as used in errors.
func (c *IO) Name() string { return c.s.name }

// Writable reports whether the Region may be written.
func (c *IO) Writable() bool { return c.s.writable }

// Sync makes the Region's contents durable, as the Region defines it (see
// its package). On a section of a Region that implements [RangeSyncer] it
// syncs only the section. It runs in parallel with reads and writes.
func (c *IO) Sync() error {
	if err := c.pin("sync"); err != nil {
		return err
	}
	defer c.s.mu.RUnlock()
	if !c.root {
		if rs, ok := c.s.region.(RangeSyncer); ok {
			return rs.SyncRange(c.off, int64(len(c.view())))
		}
	}
	return c.s.region.Sync()
}

// Close releases the IO. On the IO returned by [New] it closes the Region
// too, after waiting for the calls in flight, and every section becomes
// closed; on a section it only closes that view. It does not sync. A
// second Close returns an error wrapping [ErrClosed].
func (c *IO) Close() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed || c.s.closed {
		return c.pathErr("close", ErrClosed)
	}
	c.closed = true
	if !c.root {
		return nil
	}
	c.s.closed = true
	c.s.cleanup.Stop()
	c.s.buf = nil
	return c.s.region.Close()
}

// Interface checks.
var (
	_ Region             = (*IO)(nil)
	_ io.ReaderAt        = (*IO)(nil)
	_ io.WriterAt        = (*IO)(nil)
	_ io.ReadWriteSeeker = (*IO)(nil)
	_ io.WriterTo        = (*IO)(nil)
	_ io.ReaderFrom      = (*IO)(nil)
	_ io.ByteScanner     = (*IO)(nil)
	_ io.ByteWriter      = (*IO)(nil)
	_ io.StringWriter    = (*IO)(nil)
	_ io.Closer          = (*IO)(nil)
)

// onlyReader and onlyWriter hide every method but Read or Write, so that
// io.CopyBuffer moves the bytes through its buffer rather than back into
// WriteTo or ReadFrom.
type (
	onlyReader struct{ io.Reader }
	onlyWriter struct{ io.Writer }
)
