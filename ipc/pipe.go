package ipc

import (
	"errors"
	"io"
	"io/fs"
	"math/bits"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

// Pipe is a one-way pipe laid out in a shared [ioadapt.Region]: the header
// and ring of docs/ipc-layout.md. It is not an end: [Pipe.Writer] and
// [Pipe.Reader] attach this process as the writer or the reader, usually
// one in each process. Any number of processes may hold a Pipe for the
// same Region; one writer and one reader may be attached at a time.
//
// A Pipe is safe for concurrent use. Close it when done: it closes the
// ends it attached, and the Region if it made or opened it itself.
type Pipe struct {
	acc      accessor
	name     string
	kind     uint32
	capacity uint64
	dataOff  uint64 // where the ring starts: the header's data_offset
	flags    uint32
	lockBase uint64
	waitID   uint64 // names the wait events on Windows (the header's wait_id)
	wait     WaitMode

	// lockFile is a descriptor of the file that holds the participants'
	// locks, from which each end opens a description of its own; nil
	// without flagLocks. It holds no lock itself.
	lockFile *os.File

	owned  io.Closer    // the segment that a named pipe made or opened
	unlink func() error // the creator's unlink of that segment's name

	mu     sync.Mutex // guards ends and closed
	ends   map[*end]struct{}
	closed bool
}

// accessor is what the pipe needs of a Region: its memory, guarded
// against faults by the io core. [ioadapt.IO] and every type that embeds
// one (shm.Segment, sysv.Segment, mmfile.File) have it.
type accessor interface {
	Access(fn func(b []byte) error) error
	Name() string
	Size() int64
	Writable() bool
}

// borrowed lends a Region to an [ioadapt.IO] that must not close it: the
// caller owns it.
type borrowed struct{ ioadapt.Region }

func (borrowed) Close() error { return nil }
func (borrowed) Sync() error  { return nil }

type borrowedFaultFree struct{ borrowed }

func (borrowedFaultFree) FaultFree() {}

func accessorOf(r ioadapt.Region) accessor {
	if a, ok := r.(accessor); ok {
		return a
	}
	if _, ok := r.(ioadapt.FaultFree); ok {
		return ioadapt.New(borrowedFaultFree{borrowed{r}})
	}
	return ioadapt.New(borrowed{r})
}

// filer is a Region that can give its file: package shm's segments.
type filer interface {
	File() (*os.File, error)
}

// regionFor returns the access to r's memory, refusing what cannot hold
// a pipe here.
func regionFor(op string, r ioadapt.Region) (accessor, error) {
	if err := platformErr(); err != nil {
		return nil, pathErr(op, r.Name(), err)
	}
	acc := accessorOf(r)
	if !acc.Writable() {
		return nil, pathErr(op, r.Name(), detail(ioadapt.ErrReadOnly, "a pipe needs a writable region"))
	}
	return acc, nil
}

func checkCapacity(n int64) error {
	if n < minCapacity || n > maxCapacity || bits.OnesCount64(uint64(n)) != 1 {
		return detail(fs.ErrInvalid, "capacity %d is not a power of two from %d to %d", n, minCapacity, int64(maxCapacity))
	}
	return nil
}

// PipeSize returns the size of the Region that a pipe with a ring of
// capacity bytes needs: the 4096-byte header page, then the ring.
func PipeSize(capacity int64) int64 { return pipeDataOffset + capacity }

// CreatePipe lays out a new pipe in r and returns it; attach the ends
// with [Pipe.Writer] and [Pipe.Reader], here or in other processes that
// open the same memory with [OpenPipe]. The memory's first 4096 bytes are
// the header and must start out as zeros (a new segment or file is): a
// region whose header state word is not zero is refused with an error
// wrapping [fs.ErrExist], so that a live pipe is never laid out anew.
//
// Options: [Capacity] (default: the largest power of two that fits),
// [Messages], [LockFile], [WithWaitMode]. r must be writable and start at
// an 8-byte aligned address. The caller keeps r: the Pipe never closes it,
// and r must stay open until the Pipe is closed.
func CreatePipe(r ioadapt.Region, opts ...Option) (*Pipe, error) {
	return createPipe(r, newConfig(opts))
}

func createPipe(r ioadapt.Region, c config) (*Pipe, error) {
	const op = "createpipe"
	name := r.Name()
	acc, err := regionFor(op, r)
	if err != nil {
		return nil, err
	}
	if err := c.wait.check(); err != nil {
		return nil, pathErr(op, name, err)
	}
	size := acc.Size()
	capacity := c.capacity
	if capacity == 0 {
		if size < pipeDataOffset+minCapacity {
			return nil, pathErr(op, name, detail(fs.ErrInvalid,
				"region of %d bytes is too small for a pipe: it needs %d (header) + %d (smallest ring)", size, pipeDataOffset, minCapacity))
		}
		capacity = int64(1) << (bits.Len64(uint64(size-pipeDataOffset)) - 1)
		capacity = min(capacity, maxCapacity)
	}
	if err := checkCapacity(capacity); err != nil {
		return nil, pathErr(op, name, err)
	}
	if size < PipeSize(capacity) {
		return nil, pathErr(op, name, detail(fs.ErrInvalid,
			"region of %d bytes is too small for a pipe of capacity %d: it needs %d", size, capacity, PipeSize(capacity)))
	}
	p := &Pipe{acc: acc, name: name, capacity: uint64(capacity), dataOff: pipeDataOffset, wait: c.wait, kind: kindBytes}
	if c.messages {
		p.kind = kindMessages
	}
	h := header{
		major: versionMajor, minor: versionMinor, headerSize: pipeHeaderEnd, kind: p.kind,
		lineSize: lineSize, slotCount: pipeSlots, capacity: uint64(capacity), dataOffset: pipeDataOffset,
		waitID: 1 + rand.Uint64N(1<<64-1), // never 0, which names nothing
	}
	p.waitID = h.waitID
	if p.lockFile, err = findLockFile(op, name, r, c.lockFile); err != nil {
		return nil, err
	}
	if p.lockFile != nil {
		dev, ino, err := sys.FileID(int(p.lockFile.Fd()))
		if err != nil {
			p.lockFile.Close()
			return nil, pathErr(op, name, err)
		}
		// Far past any data, and random so that objects sharing a file
		// do not share lock bytes (section 5.1 of the layout).
		p.lockBase = 1<<62 | rand.Uint64N(1<<52)<<8
		h.flags |= flagLocks
		h.lockBase, h.lockDev, h.lockIno = p.lockBase, dev, ino
	}
	p.flags = h.flags
	err = acc.Access(func(b []byte) error { return layOut(b, &h, pipeDataOffset, nil) })
	if err != nil {
		p.closeLockFile()
		return nil, opErr(op, name, err)
	}
	return p, nil
}

// findLockFile returns a descriptor of the file whose lock bytes record
// the participants of an object in r: the given lockFile (a LockFile
// option), reopened, or the Region's own file, if any; nil for neither.
func findLockFile(op, name string, r ioadapt.Region, lockFile *os.File) (*os.File, error) {
	if lockFile != nil {
		sc, err := lockFile.SyscallConn()
		if err != nil {
			return nil, pathErr(op, name, err)
		}
		var fd int
		var rerr error
		if err := sc.Control(func(f uintptr) { fd, rerr = sys.Reopen(int(f)) }); err != nil {
			return nil, pathErr(op, name, err)
		}
		if rerr != nil {
			return nil, pathErr(op, name, rerr)
		}
		return os.NewFile(uintptr(fd), lockFile.Name()), nil
	}
	if f, ok := r.(filer); ok {
		lf, err := f.File()
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				return nil, nil
			}
			return nil, pathErr(op, name, err)
		}
		return lf, nil
	}
	return nil, nil
}

func (p *Pipe) closeLockFile() {
	if p.lockFile != nil {
		p.lockFile.Close()
		p.lockFile = nil
	}
}

// layOut makes the header h in b (section 2.1 of the layout): it claims
// the state word, writes the fields, zeroes the rest of the first end
// bytes, has init (if any) write the object's own words, and publishes
// the header: magic, then state ready.
func layOut(b []byte, h *header, end int, init func()) error {
	if err := checkRegion(b); err != nil {
		return err
	}
	st := u32(b, offState)
	if !atomic.CompareAndSwapUint32(st, stateEmpty, stateInit) {
		s := atomic.LoadUint32(st)
		if atomic.LoadUint64(u64(b, offMagic)) == magic {
			return detail(fs.ErrExist, "region already holds an ipc object (state %d, %s)", s, stateName(s))
		}
		return detail(fs.ErrExist, "region is not zeroed: its state word (offset %d) holds %#x", offState, s)
	}
	clear(b[offState+4 : end])
	encodeHeader(b, h)
	if init != nil {
		init()
	}
	atomic.StoreUint64(u64(b, offMagic), magic)
	atomic.StoreUint32(st, stateReady)
	return nil
}

// awaitReady calls look until it no longer finds the header pending
// (being made), and gives up after timeout with an error wrapping
// [ErrInvalidHeader] that tells the state word (which state reads). what
// names the object in the error.
func awaitReady(op, name, what string, timeout time.Duration, look func() (pending bool, err error), state func() uint32) error {
	start := time.Now()
	pause := 100 * time.Microsecond
	for {
		pending, err := look()
		if err != nil || !pending {
			return err
		}
		if waited := time.Since(start); waited >= timeout {
			if s := state(); s == stateEmpty {
				return pathErr(op, name, detail(ErrInvalidHeader,
					"state %d (empty) after waiting %v: no %s was created in this region", s, waited.Round(time.Millisecond), what))
			}
			return pathErr(op, name, detail(ErrInvalidHeader,
				"state %d (init) after waiting %v: the header is half-made; its creator may have died", stateInit, waited.Round(time.Millisecond)))
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// OpenPipe joins the pipe laid out in r by [CreatePipe], here or in
// another process. It validates the header (docs/ipc-layout.md, section
// 2.2) and refuses, with an error wrapping [ErrInvalidHeader] that names
// the field and the value found, memory that holds no pipe of this
// version. The ring is where the header's data_offset puts it: 4096 in
// a pipe that CreatePipe made, perhaps further in from another creator.
// A header still being made is waited for, up to [ReadyTimeout]
// (2 s by default); a closed pipe is an error wrapping [fs.ErrClosed], a
// poisoned one an error wrapping [ErrCorrupt].
//
// Options: [LockFile] (needed when the pipe's participants lock a file
// and r cannot give it), [ReadyTimeout], [WithWaitMode]. The caller keeps
// r, which must stay open until the Pipe is closed.
func OpenPipe(r ioadapt.Region, opts ...Option) (*Pipe, error) {
	return openPipe(r, newConfig(opts))
}

func openPipe(r ioadapt.Region, c config) (*Pipe, error) {
	const op = "openpipe"
	name := r.Name()
	acc, err := regionFor(op, r)
	if err != nil {
		return nil, err
	}
	if err := c.wait.check(); err != nil {
		return nil, pathErr(op, name, err)
	}
	var h header
	look := func() (pending bool, err error) {
		err = acc.Access(func(b []byte) error {
			if err := checkRegion(b); err != nil {
				return err
			}
			m := atomic.LoadUint64(u64(b, offMagic))
			s := atomic.LoadUint32(u32(b, offState))
			switch {
			case m == 0 && (s == stateEmpty || s == stateInit):
				pending = true
				return nil
			case m != magic:
				h = decodeHeader(b)
				return h.validate(int64(len(b)))
			case s == stateEmpty || s == stateInit:
				pending = true
				return nil
			case s == stateClosed:
				return detail(fs.ErrClosed, "pipe is closed (state %d): both its ends were closed", s)
			case s == statePoisoned:
				return detail(ErrCorrupt, "pipe is poisoned (state %d): a participant found its ring corrupt", s)
			case s != stateReady:
				return detail(ErrInvalidHeader, "state %d is not a header state (0-4)", s)
			}
			h = decodeHeader(b)
			if err := h.validate(int64(len(b))); err != nil {
				return err
			}
			tail := atomic.LoadUint64(u64(b, offTail))
			head := atomic.LoadUint64(u64(b, offHead))
			if tail-head > h.capacity {
				return detail(ErrCorrupt, "tail %d and head %d are %d bytes apart, more than the capacity %d", tail, head, tail-head, h.capacity)
			}
			return nil
		})
		if err != nil {
			return false, opErr(op, name, err)
		}
		return pending, nil
	}
	state := func() (s uint32) {
		_ = acc.Access(func(b []byte) error { s = atomic.LoadUint32(u32(b, offState)); return nil })
		return s
	}
	if err := awaitReady(op, name, "pipe", c.readyTimeout, look, state); err != nil {
		return nil, err
	}
	// The ring is where the creator put it: a creator other than this
	// package may have written a data_offset past 4096 (section 2).
	p := &Pipe{acc: acc, name: name, kind: h.kind, capacity: h.capacity, dataOff: h.dataOffset,
		flags: h.flags, lockBase: h.lockBase, waitID: h.waitID, wait: c.wait}
	if h.flags&flagLocks != 0 {
		if p.lockFile, err = findLockFile(op, name, r, c.lockFile); err != nil {
			return nil, err
		}
		if p.lockFile == nil {
			return nil, pathErr(op, name, detail(ErrInvalidHeader,
				"flags %#x: the pipe's participants lock its file, and this region has no file: pass LockFile", h.flags))
		}
		dev, ino, err := sys.FileID(int(p.lockFile.Fd()))
		if err != nil {
			p.closeLockFile()
			return nil, pathErr(op, name, err)
		}
		if dev != h.lockDev || ino != h.lockIno {
			p.closeLockFile()
			return nil, pathErr(op, name, detail(ErrInvalidHeader,
				"lock_dev %d lock_ino %d: the lock file given is device %d inode %d, another file", h.lockDev, h.lockIno, dev, ino))
		}
	}
	return p, nil
}

// CreateNamedPipe creates a POSIX shared-memory segment of the given name
// (see [shm.Create]: exclusive, mode 0600) sized for a ring of capacity
// bytes, and lays out a pipe in it; a peer process joins with
// [OpenNamedPipe], and C or Python peers open /dev/shm/NAME. The Pipe
// owns the segment: its Close closes it and unlinks the name (processes
// that have it open keep it; on Windows there is no name to unlink, and
// the segment goes with its last handle). Options: those of
// [CreatePipe], except Capacity and LockFile.
func CreateNamedPipe(name string, capacity int64, opts ...Option) (*Pipe, error) {
	c := newConfig(opts)
	if err := platformErr(); err != nil {
		return nil, pathErr("createpipe", name, err)
	}
	if err := checkCapacity(capacity); err != nil {
		return nil, pathErr("createpipe", name, err)
	}
	if err := c.wait.check(); err != nil {
		return nil, pathErr("createpipe", name, err)
	}
	c.capacity, c.lockFile = capacity, nil
	var p *Pipe
	s, err := inSegment(name, PipeSize(capacity), func(s *shm.Segment) (err error) {
		p, err = createPipe(s, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.owned, p.unlink = s, s.Unlink
	return p, nil
}

// OpenNamedPipe opens the shared-memory segment of the given name and
// joins the pipe in it, as [OpenPipe] does. The Pipe owns the segment:
// its Close closes it, and leaves the name to the creator. Options: those
// of [OpenPipe], except LockFile.
func OpenNamedPipe(name string, opts ...Option) (*Pipe, error) {
	c := newConfig(opts)
	if err := platformErr(); err != nil {
		return nil, pathErr("openpipe", name, err)
	}
	if err := c.wait.check(); err != nil {
		return nil, pathErr("openpipe", name, err)
	}
	c.lockFile = nil
	var p *Pipe
	s, err := inSegment(name, 0, func(s *shm.Segment) (err error) {
		p, err = openPipe(s, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.owned = s
	return p, nil
}

// inSegment creates the POSIX segment name of size bytes (or, for size
// 0, opens it) and calls lay with it. When lay fails, it closes the
// segment again, and removes a segment it created.
func inSegment(name string, size int64, lay func(s *shm.Segment) error) (*shm.Segment, error) {
	var s *shm.Segment
	var err error
	if size > 0 {
		s, err = shm.Create(name, size)
	} else {
		s, err = shm.Open(name)
	}
	if err != nil {
		return nil, err
	}
	if err := lay(s); err != nil {
		if size > 0 {
			s.Unlink()
		}
		s.Close()
		return nil, err
	}
	return s, nil
}

// closeSegment closes the segment of a named object, after unlinking its
// name when unlink is set (the creator's), and returns the errors.
func closeSegment(owned io.Closer, unlink func() error) []error {
	var errs []error
	if unlink != nil {
		// Windows has no unlink: the segment goes with its last handle.
		if err := unlink(); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrUnsupported) {
			errs = append(errs, err)
		}
	}
	if owned != nil {
		if err := owned.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Name returns the name of the Region, as errors use it.
func (p *Pipe) Name() string { return p.name }

// Capacity returns the size in bytes of the ring.
func (p *Pipe) Capacity() int64 { return int64(p.capacity) }

// Messages reports whether the pipe carries records rather than a byte
// stream.
func (p *Pipe) Messages() bool { return p.kind == kindMessages }

// MaxMessage returns the longest record a message pipe takes: half the
// capacity less the 8-byte frame header, so that a record and the padding
// before it always fit once the reader has caught up. It is 0 for a byte
// pipe.
func (p *Pipe) MaxMessage() int {
	if p.kind != kindMessages {
		return 0
	}
	return int(p.capacity/2 - frameHeader)
}

// Close closes the ends that this Pipe attached (as their Close does),
// releases the Pipe's descriptor of the lock file, and, for a pipe made by
// [CreateNamedPipe] or [OpenNamedPipe], closes the segment (and unlinks
// its name, if this Pipe created it). A second Close returns an error
// wrapping [fs.ErrClosed]. It does not close a Region passed to
// CreatePipe or OpenPipe.
func (p *Pipe) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return pathErr("close", p.name, ErrClosed)
	}
	p.closed = true
	ends := make([]*end, 0, len(p.ends))
	for e := range p.ends {
		ends = append(ends, e)
	}
	p.mu.Unlock()
	// Every end is marked closed before any detaches, so that a call
	// blocked in one of them fails with fs.ErrClosed, not with what the
	// other end's Close would tell it.
	var closing []*end
	for _, e := range ends {
		if e.closed.CompareAndSwap(false, true) {
			e.kick()
			closing = append(closing, e)
		}
	}
	var errs []error
	for _, e := range closing {
		if err := e.detach(); err != nil {
			errs = append(errs, err)
		}
	}
	p.closeLockFile()
	errs = append(errs, closeSegment(p.owned, p.unlink)...)
	return errors.Join(errs...)
}

// opErr names op in an error from Access or from a function it ran: the
// io core's own errors come as "access" PathErrors, ours bare.
func opErr(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if pe.Op == "access" {
			return &fs.PathError{Op: op, Path: pe.Path, Err: pe.Err}
		}
		return err
	}
	return pathErr(op, name, err)
}
