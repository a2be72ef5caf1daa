package ioadapt

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/mmapkit/mmapkit/internal/errs"
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

	// closed marks a closed section. It is set with s.mu held
	// exclusively; the lock-free paths read it too.
	closed atomic.Bool

	pmu sync.Mutex // serialises the methods that use pos
	pos int64
}

// shared is the state of one Region, common to its root IO and all its
// sections.
type shared struct {
	// mu is held shared by every call that touches the memory and
	// exclusively by Close and resizes, so the memory is never unmapped or
	// moved under a reader.
	//
	// Lock order: pmu (of one IO) before mu. No lock is held while code
	// outside this package runs (a peer's Read or Write, a function given
	// to Access excepted), so a peer may call back into the same Region.
	mu        sync.RWMutex
	region    Region
	resizer   Resizer      // nil for a fixed-size Region
	grower    Grower       // nil where growth is Resize, then a write
	refresher Refresher    // nil where nothing else changes the size
	direct    DirectWriter // nil where writes go into the memory
	retirer   Retirer      // nil where calls hold mu shared: see [Retirer]
	buf       []byte       // region.Bytes(), refreshed after every resize
	closed    bool
	locked    bool // every call holds mu: no Retirer, or it stopped retiring
	// cur is buf and closed as the lock-free paths see them: published
	// (view.go) after every change, with mu held exclusively.
	cur atomic.Pointer[view]
	// retiring counts the sets of retired memory that wait for their
	// cleanup (view.go).
	retiring *atomic.Int64
	// retiringLeft is what retiring held after remap's last collection,
	// lowered as cleanups give memory back: see remap.
	retiringLeft *atomic.Int64
	name         string
	writable     bool
	faults       bool // the memory may fault: see fault.go
	cleanup      runtime.Cleanup
}

// chunkSize is the size of the buffers through which WriteTo and ReadFrom
// pass bytes to and from peers that must not see the mapped memory itself.
const chunkSize = 256 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// New returns an IO over r, positioned at offset 0. The IO owns r: its
// Close closes r, and if the IO becomes unreachable without Close, a
// cleanup syncs and closes r.
//
// An r that is an IO already, or embeds one (an mmfile.File, an
// shm.Segment, a sysv.Segment), is not wrapped again: New returns that
// IO itself, as [bufio.NewReader] returns a large enough Reader it is
// given, with its seek position where it is. A second IO over it would
// keep the memory at the address it had, which a resize moves, and would
// close it twice; to get a view with its own position, take an
// [IO.Section].
func New(r Region) *IO {
	if c, ok := r.(interface{ core() *IO }); ok {
		return c.core()
	}
	s := &shared{
		region:   r,
		buf:      r.Bytes(),
		name:     r.Name(),
		writable: r.Writable(),
	}
	s.resizer, _ = r.(Resizer)
	s.grower, _ = r.(Grower)
	s.refresher, _ = r.(Refresher)
	s.direct, _ = r.(DirectWriter)
	s.retirer, _ = r.(Retirer)
	s.locked = s.retirer == nil
	s.retiring, s.retiringLeft = new(atomic.Int64), new(atomic.Int64)
	_, faultFree := r.(FaultFree)
	s.faults = !faultFree
	s.publish()
	s.cleanup = runtime.AddCleanup(s, func(r Region) {
		_ = r.Sync()
		_ = r.Close()
		if rt, ok := r.(Retirer); ok {
			unmapAll(rt.Retired()) // no call can hold the memory: s is gone
		}
	}, r)
	return &IO{s: s, root: true}
}

// core returns the IO itself; through embedding, it is how [New] knows a
// Region that is an IO already.
func (c *IO) core() *IO { return c }

// view returns the bytes this IO sees. The caller holds s.mu.
func (c *IO) view() []byte { return c.sub(c.s.buf) }

// pin takes s.mu shared and checks that the view is open. When it returns
// nil, the caller must release s.mu with RUnlock.
func (c *IO) pin(op string) error {
	c.s.mu.RLock()
	if c.closed.Load() || c.s.closed {
		c.s.mu.RUnlock()
		return c.pathErr(op, ErrClosed)
	}
	return nil
}

func (c *IO) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: c.s.name, Err: err}
}

func (c *IO) negativeErr(op, what string, v int64) error {
	return c.pathErr(op, errs.Detail(ErrInvalidOffset, "negative %s %d", what, v))
}

// ReadAt implements [io.ReaderAt]. It reads len(p) bytes at offset off, or
// fewer with [io.EOF] when the data ends first; at or past the end it
// returns 0, io.EOF. A negative off is an error wrapping [ErrInvalidOffset].
// It does not use or move the seek position and runs in parallel with other
// reads and writes. A read that reaches the end looks again at the size of
// a Region whose backing store can grow behind it (see [Refresher]).
func (c *IO) ReadAt(p []byte, off int64) (n int, err error) {
	// The common call, written out in one frame: a read that lies
	// wholly inside the current view of a root IO, copied in the fault
	// guard, or without it over memory that cannot fault. Few
	// instructions between one read's copy and the next let the CPU
	// overlap their cache misses. Everything else, and a fault here,
	// goes through readAt. off must lie before the end (the unsigned
	// compare also refuses a negative one): an empty read at the end is
	// io.EOF, which readAt says.
	if v := c.s.cur.Load(); v.open && c.root && uint64(off) < uint64(v.size.Load()) &&
		int64(len(p)) <= v.size.Load()-off && !c.closed.Load() && c.s.hold(v) {
		if !v.guarded {
			n := copy(p, v.bytes()[off:])
			runtime.KeepAlive(v) // its cleanup unmaps the memory just read
			return n, nil
		}
		r := guardedCopy(p, v.bytes()[off:off+int64(len(p))])
		runtime.KeepAlive(v) // its cleanup unmaps the memory just read
		if r == nil {
			return len(p), nil
		}
		if n, err, retry := c.readFault(v.seq, faultIn(r, v), p, off); !retry {
			return n, err
		}
	}
	n, err = c.readAt(p, off)
	if err == io.EOF && c.s.refresher != nil {
		if grew, rerr := c.refresh(); rerr != nil {
			return n, rerr
		} else if grew {
			return c.readAt(p, off)
		}
	}
	return n, err
}

// readAt is ReadAt within the size the Region has. On a [Retirer] it
// takes no lock: it copies from the view it loaded, and a fault there
// that a resize or Close caused sends it to the newer view, or returns
// ErrClosed.
func (c *IO) readAt(p []byte, off int64) (n int, err error) {
	s := c.s
	for {
		v := s.cur.Load()
		if v.locked {
			return c.readAtLocked(p, off)
		}
		if v.closed || c.closed.Load() {
			return 0, c.pathErr("read", ErrClosed)
		}
		if off < 0 {
			return 0, c.negativeErr("read", "offset", off)
		}
		b := c.sub(v.bytes())
		if off >= int64(len(b)) {
			return 0, io.EOF
		}
		if !s.hold(v) {
			continue
		}
		n, fault := s.copyView(v, p, b[off:])
		runtime.KeepAlive(v) // its cleanup unmaps the memory just read
		if fault < 0 {
			if n < len(p) {
				return n, io.EOF
			}
			return n, nil
		}
		if n, err, retry := c.readFault(v.seq, fault, p, off); !retry {
			return n, err
		}
	}
}

// readFault is the end of a lock-free read at off that faulted at offset
// fault of the view numbered seq: unless a newer view has taken its
// place (retry: read again), it returns ErrClosed, or the bytes before
// the hole with an error that explains the fault. The caller no longer
// holds the view: the wait for the lock must not hold it.
func (c *IO) readFault(seq uint64, fault int64, p []byte, off int64) (n int, err error, retry bool) {
	c.s.mu.RLock()
	retry, err = c.settle(seq, "read")
	closed := err != nil
	if !retry && !closed {
		err = c.faultAt("read", fault)
	}
	c.s.mu.RUnlock()
	switch {
	case retry:
		return 0, nil, true
	case closed:
		return 0, err, false
	}
	n, err = c.pastFault(p, off, err)
	return n, err, false
}

// readAtLocked is readAt for a Region that is not a [Retirer]: the
// shared lock holds Close and resizes off while it copies.
func (c *IO) readAtLocked(p []byte, off int64) (n int, err error) {
	s := c.s
	s.mu.RLock()
	if c.closed.Load() || s.closed || off < 0 {
		s.mu.RUnlock()
		if off < 0 && !c.closed.Load() && !s.closed {
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
		n, err = c.copyOutGuarded("read", p, b[off:])
		if err != nil {
			n, err = c.pastFault(p, off, err)
		}
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
func (c *IO) copyOutGuarded(op string, p, src []byte) (n int, err error) {
	defer c.unpinGuarded(c.guard(), op, &err)
	return copy(p, src), nil
}

// pastFault ends a read of p at off whose copy faulted with err: it
// returns the bytes before the hole (copyBeforeFault) with the error that
// names the first byte it could not read, or with err where it cannot
// tell; or, when they are all of p, with no error: the file grew back
// over the hole between the fault and the copy, as another process's
// truncate(1) can, and read(2) would now return those bytes with no
// error.
func (c *IO) pastFault(p []byte, off int64, err error) (int, error) {
	n, ferr := c.copyBeforeFault("read", p, off)
	if n == len(p) {
		return n, nil
	}
	if ferr != nil {
		err = ferr
	}
	return n, err
}

// copyBeforeFault copies to p, from offset off of the view, the bytes that
// lie before the first page that faults, and returns their count: after a
// copy faulted, the bytes before the hole are still good, and a reader of
// a file gets them, as read(2) would before a short count. Only a Region
// that can say how far its backing store now reaches ([Refresher]) gets
// them: past that end, the last page reads as zeros that are not data. It
// takes and releases the shared lock itself, and copies nothing once the
// Region is closed.
//
// When it learns where the good bytes stop (at a page that faults, or at
// the end of the backing store) before the end of p, it also returns the
// error of op for a fault at that first missing byte. The fault that sent
// the caller here gives no such offset: memmove may touch the end of a
// large copy first, so its faulting address can lie anywhere past the
// hole's start. Where it cannot tell, the error is nil.
func (c *IO) copyBeforeFault(op string, p []byte, off int64) (int, error) {
	if c.s.refresher == nil || c.pin(op) != nil {
		return 0, nil
	}
	defer c.s.mu.RUnlock()
	stored, err := c.s.refresher.StoreSize()
	if err != nil {
		return 0, nil
	}
	b := c.view()
	if off >= int64(len(b)) || c.off+off >= stored {
		// The Region, or its backing store, ends at or before off.
		return 0, c.readFaultAt(op, c.off+off)
	}
	src := b[off:]
	src = src[:min(int64(len(src)), int64(len(p)), stored-c.off-off)]
	page := os.Getpagesize()
	n := 0
	for n < len(src) {
		// Up to the next page boundary of the memory, which is where a
		// fault can start.
		end := min(len(src), n+page-int((uintptr(unsafe.Pointer(&src[n])))%uintptr(page)))
		if _, err := c.copyIn(op, p[n:end], src[n:end]); err != nil {
			break
		}
		n = end
	}
	if n == len(p) {
		return n, nil
	}
	return n, c.readFaultAt(op, c.off+off+int64(n))
}

// refresh adopts the backing store's size where it differs from the
// Region's, and reports whether the Region grew. The caller holds no lock.
func (c *IO) refresh() (grew bool, err error) {
	s := c.s
	if s.refresher == nil {
		return false, nil
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return false, nil // the call that follows says so
	}
	size, err := s.refresher.StoreSize()
	known := int64(len(s.buf))
	s.mu.RUnlock()
	if err != nil || size == known {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, nil
	}
	known = int64(len(s.buf))
	err = s.remap(s.refresher.Refresh)
	return int64(len(s.buf)) > known, err
}

// Read implements [io.Reader]: it reads from the seek position and advances
// it. A read that reaches the end looks again at the size of a Region that
// can grow behind it, and reads on if it grew; at or past the end it
// returns 0, [io.EOF].
func (c *IO) Read(p []byte) (n int, err error) {
	n, err = c.read(p)
	if n < len(p) && (err == nil || err == io.EOF) && c.s.refresher != nil {
		// The read reached the end the Region knew: read on to the end
		// the backing store has, as read(2) on the file would.
		grew, rerr := c.refresh()
		if !grew {
			if n == 0 && rerr != nil {
				return 0, rerr
			}
			return n, err
		}
		m, err := c.read(p[n:])
		if n += m; n > 0 && err == io.EOF {
			err = nil
		}
		return n, err
	}
	return n, err
}

func (c *IO) read(p []byte) (n int, err error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if !c.s.cur.Load().locked {
		n, err = c.readAt(p, c.pos)
		if n > 0 && err == io.EOF {
			err = nil // as bytes.Reader: a short read is no end yet
		}
		c.pos += int64(n)
		return n, err
	}
	if err := c.pin("read"); err != nil {
		return 0, err
	}
	b := c.view()
	if c.pos >= int64(len(b)) {
		c.s.mu.RUnlock()
		return 0, io.EOF
	}
	n, err = c.copyOutGuarded("read", p, b[c.pos:])
	if err != nil {
		n, err = c.pastFault(p, c.pos, err)
	}
	c.pos += int64(n)
	return n, err
}

// ReadByte implements [io.ByteReader]. At or past the end it returns 0,
// [io.EOF], after looking again at the size as Read does.
func (c *IO) ReadByte() (byte, error) {
	var one [1]byte
	if _, err := c.Read(one[:]); err != nil {
		return 0, err
	}
	return one[0], nil
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
		return c.pathErr("unreadbyte", errs.Detail(ErrInvalidOffset, "at beginning of region"))
	}
	c.pos--
	return nil
}

// WriteTo implements [io.WriterTo]: it hands w everything from the seek
// position to the end that the data has when WriteTo is called, and
// advances the position past the last byte w accepted, so that [io.Copy]
// from an IO needs no buffer of its own. A writer that is a descriptor
// (an [*os.File], a [*net.TCPConn] or [*net.UnixConn], on Unix) gets the
// memory itself, in one write(2) per MiB, so the bytes are copied once; a
// fault in the memory then comes back as an error wrapping [ErrFault] that
// names this Region, and n is what w received. Any other writer gets a
// copy of the bytes, in chunks, so that a fault is this call's error and
// never w's, and w may be anything: this IO, a section of it, a writer
// that writes back into it. No lock is held while such a w runs; a panic
// in it reaches the caller unchanged, with the IO still usable. A w that
// reports an impossible count is an error.
func (c *IO) WriteTo(w io.Writer) (n int64, err error) {
	if _, err := c.refresh(); err != nil {
		return 0, err
	}
	c.pmu.Lock()
	if err := c.pin("writeto"); err != nil {
		c.pmu.Unlock()
		return 0, err
	}
	end := int64(len(c.view()))
	if w == io.Discard {
		// It never looks at the bytes: nothing to copy or to fault.
		n = max(end-c.pos, 0)
		c.pos += n
	}
	c.s.mu.RUnlock()
	c.pmu.Unlock()
	switch {
	case w == io.Discard:
		return n, nil
	}
	if rc := directPeer(w); rc != nil {
		return c.writeToDescriptor(rc, w, end)
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	for {
		chunk, start, ferr := c.copyOutChunk(*bp, end)
		if len(chunk) == 0 {
			return n, ferr
		}
		m, err := w.Write(chunk)
		if m < 0 || m > len(chunk) {
			return n, c.pathErr("writeto", fmt.Errorf(
				"writer returned count %d for a write of %d bytes", m, len(chunk)))
		}
		c.setPos(start + int64(m))
		n += int64(m)
		if err == nil && m < len(chunk) {
			err = io.ErrShortWrite
		}
		if err == nil {
			err = ferr // the bytes before a hole went out; now the fault
		}
		if err != nil {
			return n, err
		}
	}
}

// descriptorChunk bounds one write(2) of WriteTo, and so how long it holds
// the Region open.
const descriptorChunk = 1 << 20

// writeToDescriptor writes [pos, end) to the descriptor behind rc (w's)
// straight from the memory, a chunk per write(2), and moves the position
// past what the descriptor took. Each write pins the Region only while
// the kernel copies: a descriptor that cannot take more (a full pipe or
// socket) waits in the poller with no lock held, so Close, growth and
// other calls go on, and a peer that reads this Region to drain the pipe
// cannot deadlock with it. Only the kernel touches the memory: a fault
// is write(2)'s EFAULT, reported as the Region's fault.
func (c *IO) writeToDescriptor(rc syscall.RawConn, w io.Writer, end int64) (n int64, err error) {
	for {
		c.pmu.Lock()
		start := c.pos
		c.pmu.Unlock()
		var m int
		var werr error
		done, named := false, false // named: werr is w's, to be named once unpinned
		cerr := rc.Write(func(fd uintptr) bool {
			if werr = c.pin("writeto"); werr != nil {
				return true
			}
			b := c.view()
			stop := min(end, int64(len(b)))
			if start >= stop {
				c.s.mu.RUnlock()
				done = true
				return true
			}
			k, e := writeFD(fd, b[start:min(stop, start+descriptorChunk)])
			switch {
			case e == nil:
				m = k
			case isFaultErrno(e):
				m = max(k, 0)
				werr = c.readFaultAt("writeto", c.off+start+int64(m))
			case isAgain(e):
				c.s.mu.RUnlock()
				return false // wait for room, unpinned
			default:
				werr, named = e, true
			}
			c.s.mu.RUnlock()
			return true
		})
		if m > 0 {
			c.setPos(start + int64(m))
			n += int64(m)
		}
		if named {
			werr = &fs.PathError{Op: "write", Path: peerName(w), Err: werr}
		}
		switch {
		case werr != nil:
			return n, werr
		case cerr != nil:
			return n, cerr // the descriptor was closed, or its deadline passed
		case done:
			return n, nil
		}
	}
}

// copyOutChunk copies the next part of [pos, end) into buf, with faults
// turned into errors, and returns it with the position it starts at. The
// position does not move: the caller sets it once the peer took the bytes.
func (c *IO) copyOutChunk(buf []byte, end int64) (chunk []byte, start int64, err error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.pin("writeto"); err != nil {
		return nil, 0, err
	}
	b := c.view()
	start, stop := c.pos, min(end, int64(len(b)))
	if start >= stop {
		c.s.mu.RUnlock()
		return nil, start, nil
	}
	k := min(int64(len(buf)), stop-start)
	m, err := c.copyOutGuarded("writeto", buf[:k], b[start:start+k])
	if err != nil {
		var ferr error
		if m, ferr = c.copyBeforeFault("writeto", buf[:k], start); ferr != nil {
			err = ferr // names the first byte missing, not where memmove faulted
		}
	}
	return buf[:m], start, err
}

func (c *IO) setPos(pos int64) {
	c.pmu.Lock()
	c.pos = pos
	c.pmu.Unlock()
}

// WriteAt implements [io.WriterAt]: it writes p at offset off without using
// or moving the seek position, in parallel with other calls. A write that
// runs past the end grows a Region that implements [Resizer] (the gap, if
// any, reads as zeros); on a fixed-size Region it writes what fits and
// returns an error wrapping [ErrFixedSize]. A negative or overflowing
// offset is an error wrapping [ErrInvalidOffset]; a read-only Region
// returns [ErrReadOnly].
//
// A WriteAt that Close overtakes, on a [Retirer], is not waited for: if it
// returns an error wrapping [ErrClosed] because Close ran during it, it
// may have written part of p (it returns 0, as nothing tells which bytes
// landed, and its message says that it raced Close); one that starts
// after Close writes nothing.
func (c *IO) WriteAt(p []byte, off int64) (int, error) {
	// The common small write, written out in one frame as ReadAt's read
	// is: a store wholly inside the current view of a writable root IO,
	// in the fault guard unless the memory cannot fault. Everything
	// else, and a fault here, goes through writeAt.
	if v := c.s.cur.Load(); v.open && c.root && c.s.writable && len(p) > 0 && len(p) < DirectWriteMin &&
		off >= 0 && off <= v.size.Load()-int64(len(p)) && !c.closed.Load() && c.s.hold(v) {
		if !v.guarded {
			n := copy(v.bytes()[off:], p)
			runtime.KeepAlive(v) // its cleanup unmaps the memory just written
			return n, nil
		}
		r := guardedCopy(v.bytes()[off:off+int64(len(p))], p)
		runtime.KeepAlive(v) // its cleanup unmaps the memory just written
		if r == nil {
			return len(p), nil
		}
		if n, err, retry := c.writeFault("write", v.seq, faultIn(r, v), p, off); !retry {
			return n, err
		}
		return c.rewrite("write", p, off)
	}
	return c.writeAt("write", p, off)
}

// Write implements [io.Writer]: it writes at the seek position and advances
// it by the count written, growing or stopping at the end as WriteAt does.
// As for WriteAt, a Write that returns an error wrapping [ErrClosed]
// because Close ran during it may have written part of p; one that starts
// after Close writes nothing.
func (c *IO) Write(p []byte) (int, error) {
	return c.writeAtPos("write", p)
}

// writeAtPos writes p at the seek position and advances it by the count
// written.
func (c *IO) writeAtPos(op string, p []byte) (int, error) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	n, err := c.writeAt(op, p, c.pos)
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

// writeInPlace writes p at off within the Region's size. It reports grow
// when the write needs a larger Region and the Region can grow. On a
// [Retirer], a store into memory takes no lock, as readAt does: a store
// into a view that is still mapped lands where the Region's readers see
// it (a shared mapping's page cache), and one that faults on memory a
// resize retired runs again on the newer view. What calls into the Region
// (a [DirectWriter], growth) or fails runs under the lock.
func (c *IO) writeInPlace(op string, p []byte, off int64) (n int, grow bool, err error) {
	s := c.s
	if c.appends(p, off) {
		return 0, true, nil
	}
	if len(p) >= DirectWriteMin {
		return c.writeInPlaceLocked(op, p, off)
	}
	for {
		v := s.cur.Load()
		if v.locked {
			return c.writeInPlaceLocked(op, p, off)
		}
		if v.closed || c.closed.Load() {
			return 0, false, c.pathErr(op, ErrClosed)
		}
		b := c.sub(v.bytes())
		if !s.writable || off < 0 || len(p) == 0 || off > int64(len(b))-int64(len(p)) {
			return c.writeInPlaceLocked(op, p, off) // its errors, or growth
		}
		if !s.hold(v) {
			continue
		}
		_, fault := s.copyView(v, b[off:off+int64(len(p))], p)
		runtime.KeepAlive(v) // its cleanup unmaps the memory just written
		if fault < 0 {
			return len(p), false, nil
		}
		if n, err, retry := c.writeFault(op, v.seq, fault, p, off); !retry {
			return n, false, err
		}
		n, err := c.rewrite(op, p, off)
		return n, false, err
	}
}

// rewrite writes p at off again, after a lock-free store of it faulted on
// memory that a resize retired: part of p may have landed before the
// memory was retired, so a Close that the second attempt meets cut the
// write short too (see cutShort).
func (c *IO) rewrite(op string, p []byte, off int64) (int, error) {
	n, err := c.writeAt(op, p, off)
	if errors.Is(err, ErrClosed) {
		err = c.cutShort(op, p, off)
	}
	return n, err
}

// cutShort is the error of a lock-free store of p at off that Close cut
// short: Close retired the memory while the store ran, and the copy
// faulted. memmove had stored none of p, some of it or all but a page of
// it, in no set order (a large copy may start at its end), and nothing
// tells which: those bytes are in the Region (a file's page cache) for
// good. Making Close wait for stores in flight would cost every WriteAt
// an atomic pin, so the error says it instead, and still wraps
// [ErrClosed].
func (c *IO) cutShort(op string, p []byte, off int64) error {
	return c.pathErr(op, errs.Detail(ErrClosed,
		"the write raced Close: part of its %d bytes at offset %d may have reached the file or segment before Close retired the memory",
		len(p), off))
}

// writeFault is the end of a lock-free store of p at off that faulted at
// offset fault of the view numbered seq: unless a newer view has taken
// its place (retry: write again), it returns the error of a store that
// Close cut short (cutShort), or what writing through the Region's
// [DirectWriter] gives (the file shrank under the mapping, as store takes
// it), or an error that explains the fault.
func (c *IO) writeFault(op string, seq uint64, fault int64, p []byte, off int64) (n int, err error, retry bool) {
	s := c.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	retry, err = c.settle(seq, op)
	if err != nil {
		return 0, c.cutShort(op, p, off), false
	}
	if retry {
		return 0, nil, true
	}
	if d := s.direct; d != nil {
		n, err = d.WriteDirect(p, c.off+off)
		return n, err, false
	}
	return 0, c.faultAt(op, fault), false
}

// appends reports whether a valid write of p at off runs past the end of
// a Region that grows, as the latest view has it, so that it may go
// straight to writeGrowing: an append would otherwise take the shared
// lock only to learn that it needs the exclusive one. writeGrowing looks
// again under its lock, which also sees Close, and stores a write that
// another call's growth made fit meanwhile; any other write, and every
// error, is writeInPlaceLocked's.
func (c *IO) appends(p []byte, off int64) bool {
	s := c.s
	if !c.root || s.resizer == nil || !s.writable || len(p) == 0 || off < 0 || int64(len(p)) > math.MaxInt64-off {
		return false
	}
	return off+int64(len(p)) > s.cur.Load().size.Load()
}

// writeInPlaceLocked is writeInPlace under the shared lock.
func (c *IO) writeInPlaceLocked(op string, p []byte, off int64) (n int, grow bool, err error) {
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
		return 0, false, c.pathErr(op, errs.Detail(ErrInvalidOffset,
			"offset %d plus length %d overflows int64", off, len(p)))
	}
	if len(p) == 0 {
		return 0, false, nil // as os.File: an empty write never extends
	}
	b := c.view()
	size := int64(len(b))
	end := off + int64(len(p))
	if end <= size {
		n, err = c.store(op, b, p, off)
		return n, false, err
	}
	if c.root && c.s.resizer != nil {
		return 0, true, nil
	}
	if off < size {
		n, err = c.copyIn(op, b[off:], p)
	}
	if err == nil {
		err = c.pathErr(op, errs.Detail(ErrFixedSize,
			"write of %d bytes at offset %d runs past the end of the fixed-size region (size %d)",
			len(p), off, size))
	}
	return n, false, err
}

// store writes p at off of the view b, which holds it. Large writes go to
// a [DirectWriter], and so does a store that faults (the file shrank under
// the mapping): write(2) lands there, as it would for an [os.File], where
// the memory cannot take it.
func (c *IO) store(op string, b, p []byte, off int64) (n int, err error) {
	d := c.s.direct
	if d != nil && len(p) >= DirectWriteMin {
		return d.WriteDirect(p, c.off+off)
	}
	n, err = c.copyIn(op, b[off:off+int64(len(p))], p)
	if err != nil && d != nil {
		return d.WriteDirect(p, c.off+off)
	}
	return n, err
}

// writeGrowing writes p at off, past the end of the Region, under the
// exclusive lock: by the Region's [Grower], which extends it to the last
// byte written, or else by a Resize to the new end and a write.
func (c *IO) writeGrowing(op string, p []byte, off int64) (int, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed.Load() || s.closed {
		return 0, c.pathErr(op, ErrClosed)
	}
	end := off + int64(len(p))
	if s.grower != nil && end > int64(len(s.buf)) {
		var n int
		var err error
		_ = s.remap(func() error {
			n, err = s.grower.Grow(p, off)
			if n > 0 {
				return nil // bytes went out: no second Grow
			}
			return err
		})
		return n, err
	}
	if s.refresher != nil && end > int64(len(s.buf)) {
		// Resize sets the size: learn first whether another process grew
		// the file past end, so as not to cut it back.
		if err := s.remap(s.refresher.Refresh); err != nil {
			return 0, err
		}
	}
	if end <= int64(len(s.buf)) {
		return c.store(op, s.buf, p, off)
	}
	if err := c.resize(end); err != nil {
		return 0, err
	}
	if s.direct != nil {
		// The grown pages are new: a store would fault on every one.
		return s.direct.WriteDirect(p, off)
	}
	return c.copyIn(op, s.buf[off:end], p)
}

// resize changes the Region's size. The caller holds s.mu exclusively.
func (c *IO) resize(size int64) error {
	return c.s.remap(func() error { return c.s.resizer.Resize(size) })
}

func (c *IO) copyIn(op string, dst, src []byte) (n int, err error) {
	defer c.recoverFault(c.guard(), op, &err)
	return copy(dst, src), nil
}

// ReadFrom implements [io.ReaderFrom]: it reads from r until [io.EOF] and
// writes what r returns at the seek position, advancing it, as a loop of
// Read and Write would. Each chunk r returns is written before the next
// Read, so the Region never grows ahead of the data: a Region that grows
// ends at the last byte read, whether ReadFrom returns, fails, or its
// process dies. A fixed-size Region stops when full: if r still has data,
// ReadFrom returns an error wrapping [ErrFixedSize], and the one byte read
// to learn that is lost unless r is an [io.Seeker]. r reads into a buffer
// of ReadFrom's, never into the memory, and runs with no lock held, so a
// fault is this call's error and r may read this Region itself. A panic in
// r reaches the caller unchanged; a count r cannot have read is an error.
func (c *IO) ReadFrom(r io.Reader) (n int64, err error) {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	for {
		room, err := c.roomAtPos(len(buf))
		if err != nil {
			return n, err
		}
		if room == 0 {
			return n, c.checkFull(r)
		}
		m, rerr := r.Read(buf[:room])
		if m < 0 || m > room {
			return n, c.pathErr("readfrom", fmt.Errorf(
				"reader returned count %d for a read of %d bytes", m, room))
		}
		if m > 0 {
			w, err := c.writeAtPos("readfrom", buf[:m])
			n += int64(w)
			if err != nil {
				return n, err
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// roomAtPos returns how much of want ReadFrom may read for the seek
// position: all of it where the Region grows, what fits before the end
// where it does not.
func (c *IO) roomAtPos(want int) (int, error) {
	if s := c.s; c.root && s.resizer != nil && s.writable {
		// All of want, whatever the position: only Close can change the
		// answer, and the latest view says whether it ran, as pin would,
		// without the two locks per chunk.
		if s.cur.Load().closed {
			return 0, c.pathErr("readfrom", ErrClosed)
		}
		return want, nil
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.pin("readfrom"); err != nil {
		return 0, err
	}
	defer c.s.mu.RUnlock()
	if !c.s.writable {
		return 0, c.pathErr("readfrom", ErrReadOnly)
	}
	if c.root && c.s.resizer != nil {
		return want, nil
	}
	return int(min(int64(want), max(int64(len(c.view()))-c.pos, 0))), nil
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
	return c.pathErr("readfrom", errs.Detail(ErrFixedSize,
		"reader has more data than fits in the fixed-size region (size %d)", c.Size()))
}

// Seek implements [io.Seeker]. Any position at or past 0 is allowed,
// including past the end, which io.SeekEnd takes as the backing store has
// it now (see [Refresher]); a negative or overflowing result is an error
// wrapping [ErrInvalidOffset], a bad whence one wrapping
// [ErrInvalidWhence], and after an error the position is unchanged.
func (c *IO) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		if _, err := c.refresh(); err != nil {
			return 0, err
		}
	}
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
		return 0, c.pathErr("seek", errs.Detail(ErrInvalidWhence, "invalid whence %d", whence))
	}
	abs := base + offset
	if offset > 0 && abs < 0 {
		return 0, c.pathErr("seek", errs.Detail(ErrInvalidOffset,
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
// returns an error wrapping [ErrFixedSize]. It waits for calls in flight,
// but for the lock-free ReadAt and WriteAt of a [Retirer] (see there).
func (c *IO) Truncate(size int64) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	switch {
	case c.closed.Load() || c.s.closed:
		return c.pathErr("truncate", ErrClosed)
	case size < 0:
		return c.pathErr("truncate", errs.Detail(ErrInvalidSize, "negative size %d", size))
	case !c.s.writable:
		return c.pathErr("truncate", ErrReadOnly)
	case !c.root || c.s.resizer == nil:
		return c.pathErr("truncate", errs.Detail(ErrFixedSize, "cannot resize a fixed-size region"))
	}
	return c.resize(size)
}

// Section returns a view of n bytes at offset off of this IO, an alias for
// a chunk of it. The section reads and writes the
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
		return nil, c.pathErr("section", errs.Detail(ErrInvalidOffset,
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
// after that its memory may be unmapped: a read of it may crash the
// process or see whatever is mapped there since, and a write may land in
// another mapping. A fault in it (the file shrank) raises SIGBUS. Prefer
// [IO.Access].
func (c *IO) Bytes() []byte {
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	if c.closed.Load() || c.s.closed {
		return nil
	}
	return c.view()
}

// Size returns the size in bytes of the data, as the Region reports it
// (for a file, its logical size, not the mapped capacity), or 0 after
// Close. It looks again at the size of a backing store that can change
// behind the Region (see [Refresher]).
func (c *IO) Size() int64 {
	_, _ = c.refresh() // on an error, the size the Region has
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	if c.closed.Load() || c.s.closed {
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
// too, after waiting for the calls in flight (but for the lock-free ones
// of a [Retirer], which complete or return [ErrClosed]), and every
// section becomes closed; on a section it only closes that view. It does
// not sync. A second Close returns an error wrapping [ErrClosed].
//
// A WriteAt or Write that Close overtakes (on a Retirer) either completes
// or returns an error wrapping ErrClosed that says it raced Close: it may
// have written part of its bytes, which Close does not undo. A write that
// starts after Close writes nothing.
func (c *IO) Close() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.closed.Load() || c.s.closed {
		return c.pathErr("close", ErrClosed)
	}
	c.closed.Store(true)
	if !c.root {
		return nil
	}
	s := c.s
	s.closed = true
	s.cleanup.Stop()
	s.buf = nil
	old, unheld := s.closeView()
	if u, ok := s.region.(Unheld); ok && unheld {
		u.Unheld()
	}
	err := s.region.Close()
	if s.retirer != nil {
		s.attach(old, s.retirer.Retired())
	}
	return err
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
