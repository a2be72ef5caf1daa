package ipc

import (
	"context"
	"io/fs"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// Semaphore is a counting semaphore in shared memory, for processes (and
// goroutines) that map the same Region: the words of section 8.5 of
// docs/ipc-layout.md at an offset of the Region. It has a count of
// available permits, from 0 to a maximum fixed at creation.
//
// Each handle (a *Semaphore value, attached to one participant slot)
// keeps account of the permits it holds: those it acquired and has not
// released. When its process dies, however it dies, or its handle is
// closed, the permits it held go back to the count: a waiter finds them
// within 50 ms of the death, however often other calls wake it
// meanwhile, and a process that attaches to the dead one's slot gives
// them back at once. A call that races Close either fails with an error
// wrapping [fs.ErrClosed], having moved nothing, or comes first, and
// Close gives back what it took. Every step of an Acquire or a Release
// is recorded in the shared memory before it is made (section 8.5), so
// that a death at any instruction neither loses nor duplicates a
// permit. A Release of more permits than the handle holds is allowed (a
// producer's signal, say); the surplus belongs to nobody and is not
// taken back when the producer dies. The count never exceeds the
// maximum: a Release that would raise it past fails, and the permits of
// a dead holder that no longer fit (after such signals) are dropped.
//
// Acquire, TryAcquire and Release allocate nothing on Linux, whether they
// wait or not, so that a semaphore used as a limiter in a loop feeds no
// garbage collection.
//
// A Semaphore is safe for concurrent use. Close it when done.
type Semaphore struct {
	o   *object
	max uint32

	mu   sync.Mutex // serialises the transfers of this handle: guards held and the slot's permits word
	held uint32     // permits this handle holds, as its slot's permits word says

	spare atomic.Pointer[semCall] // for the next call: see semCall
}

// semCall is what one Acquire, TryAcquire or Release shares with the
// calls it makes inside the Region's Access. Its callbacks are bound
// once, when it is made, and a handle keeps a spare for its next call, as
// an object keeps a waitState: so that these calls allocate nothing, and
// a semaphore used as a limiter in a loop feeds no garbage collection.
type semCall struct {
	n  uint32 // the permits to move
	ok bool   // the take took them

	take, tryTake, give func(b []byte) error // bound by object.bind
	attempt             try                  // the attempt of a blocked Acquire
}

// call returns the handle's spare semCall, or a new one when another call
// of the handle is using it, set to move n permits. Give it back with
// s.spare.Store.
func (s *Semaphore) call(n int) *semCall {
	c := s.spare.Swap(nil)
	if c == nil {
		c = &semCall{}
		c.take = s.o.bind(func(b []byte) (err error) { c.ok, err = s.take(b, c.n); return err })
		c.tryTake = s.o.bind(func(b []byte) (err error) {
			if c.ok, err = s.take(b, c.n); c.ok || err != nil {
				return err
			}
			s.rescueAll(b)
			c.ok, err = s.take(b, c.n)
			return err
		})
		c.give = s.o.bind(func(b []byte) error { return s.give(b, c.n) })
		c.attempt = func(b []byte, force bool) (bool, int, error) {
			if force {
				s.rescueAll(b)
			}
			ok, err := s.take(b, c.n)
			return ok || err != nil, watchPoll, err
		}
	}
	c.n, c.ok = uint32(n), false
	return c
}

const (
	permitsRelease = 1 << 63 // in a slot's permits word: the transfer in flight is a release
	maxPermits     = math.MaxInt32
)

// CreateSemaphore lays out a new semaphore at offset off of r (a
// multiple of 8) with initial available permits out of at most max (1 to
// 2^31-1), and attaches this process to it; other processes join with
// [OpenSemaphore]. The [ObjectSize] bytes at off must be zeros.
//
// Options: [Participants], [ObjectLockFile]. The caller keeps r, which
// must stay open until the Semaphore is closed.
func CreateSemaphore(r ioadapt.Region, off int64, initial, max int, opts ...ObjectOption) (*Semaphore, error) {
	if err := checkCounts(initial, max); err != nil {
		return nil, pathErr("createsemaphore", r.Name(), err)
	}
	o, err := createObject("createsemaphore", r, off, kindSemaphore, newObjConfig(opts), semInit(initial, max))
	if err != nil {
		return nil, err
	}
	return newSemaphore(o), nil
}

func checkCounts(initial, max int) error {
	if max < 1 || max > maxPermits {
		return detail(fs.ErrInvalid, "maximum %d is not from 1 to %d", max, maxPermits)
	}
	if initial < 0 || initial > max {
		return detail(fs.ErrInvalid, "initial count %d is not from 0 to the maximum %d", initial, max)
	}
	return nil
}

func semInit(initial, max int) func(b []byte) {
	return func(b []byte) {
		atomic.StoreUint32(u32(b, offSemMax), uint32(max))
		atomic.StoreUint64(u64(b, offSemCount), uint64(initial))
	}
}

// OpenSemaphore joins the semaphore that [CreateSemaphore] laid out at
// offset off of r, with the checks and errors of [OpenMutex].
// Options: [ObjectLockFile], [ObjectReadyTimeout].
func OpenSemaphore(r ioadapt.Region, off int64, opts ...ObjectOption) (*Semaphore, error) {
	o, err := openObject("opensemaphore", r, off, kindSemaphore, newObjConfig(opts))
	if err != nil {
		return nil, err
	}
	return newSemaphore(o), nil
}

// CreateNamedSemaphore creates a POSIX shared-memory segment of the given
// name that holds a semaphore alone, as [CreateNamedMutex] does for a
// mutex. Options: [Participants].
func CreateNamedSemaphore(name string, initial, max int, opts ...ObjectOption) (*Semaphore, error) {
	if err := checkCounts(initial, max); err != nil {
		return nil, pathErr("createsemaphore", name, err)
	}
	o, err := namedObject("createsemaphore", name, kindSemaphore, opts, semInit(initial, max))
	if err != nil {
		return nil, err
	}
	return newSemaphore(o), nil
}

// OpenNamedSemaphore opens the segment of the given name and joins the
// semaphore in it. Options: [ObjectReadyTimeout].
func OpenNamedSemaphore(name string, opts ...ObjectOption) (*Semaphore, error) {
	o, err := namedObject("opensemaphore", name, kindSemaphore, opts, nil)
	if err != nil {
		return nil, err
	}
	return newSemaphore(o), nil
}

func newSemaphore(o *object) *Semaphore {
	return &Semaphore{o: o, max: o.param}
}

// Name returns the name of the Region, as errors use it.
func (s *Semaphore) Name() string { return s.o.name }

// Max returns the semaphore's maximum count.
func (s *Semaphore) Max() int { return int(s.max) }

// Held returns how many permits this handle holds.
func (s *Semaphore) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.held)
}

// Available returns the count of available permits as it is now, which
// other processes may change at any moment; 0 after Close or a fault.
func (s *Semaphore) Available() int {
	var n uint32
	_ = s.o.run("available", func(b []byte) error {
		n = uint32(atomic.LoadUint64(u64(b, offSemCount)))
		return nil
	})
	return int(n)
}

// checkN refuses a count of permits that no call could move.
func (s *Semaphore) checkN(op string, n int) error {
	if s.o.closed.Load() {
		return s.o.closedErr(op)
	}
	if n < 1 || n > int(s.max) {
		return pathErr(op, s.o.name, detail(fs.ErrInvalid, "count %d is not from 1 to the maximum %d", n, s.max))
	}
	return nil
}

// Acquire takes n permits, waiting until that many are available, or
// until ctx is done (an error matching ctx.Err()); nil ctx waits for
// ever. It takes all n at once or none. n must be from 1 to [Semaphore.Max]:
// others are an error wrapping [fs.ErrInvalid]. Other errors wrap
// [fs.ErrClosed] (the handle was closed, even while Acquire waited) or
// [ioadapt.ErrFault].
func (s *Semaphore) Acquire(ctx context.Context, n int) error {
	return s.acquire(ctx, 0, "acquire", n)
}

// AcquireDeadline is [Semaphore.Acquire] that gives up at the deadline t,
// with an error wrapping [os.ErrDeadlineExceeded]. A deadline in the past
// still takes permits that are available.
func (s *Semaphore) AcquireDeadline(t time.Time, n int) error {
	return s.acquire(context.Background(), clockAt(t), "acquire", n)
}

func (s *Semaphore) acquire(ctx context.Context, dl int64, op string, n int) error {
	if err := s.checkN(op, n); err != nil {
		return err
	}
	c := s.call(n)
	defer s.spare.Store(c)
	if err := s.o.runOpen(op, c.take); err != nil || c.ok {
		return err
	}
	return s.o.await(ctx, dl, op, c.attempt)
}

// TryAcquire takes n permits if that many are available, without
// waiting, and reports whether it did. Permits that dead holders left
// are given back first.
func (s *Semaphore) TryAcquire(n int) (ok bool, err error) {
	const op = "tryacquire"
	if err := s.checkN(op, n); err != nil {
		return false, err
	}
	c := s.call(n)
	defer s.spare.Store(c)
	err = s.o.runOpen(op, c.tryTake)
	return c.ok, err
}

// take moves n permits from the count to this handle, if that many are
// available: the acquire of section 8.5.
func (s *Semaphore) take(b []byte, n uint32) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cw, pw := u64(b, offSemCount), u64(b, s.o.at+offSlotPermits)
	flight := uint64(s.o.bit) << 32
	atomic.StoreUint64(pw, uint64(s.held)|uint64(n)<<32) // 1. the intent
	for {
		c := atomic.LoadUint64(cw)
		avail := uint32(c)
		if avail > s.max {
			atomic.StoreUint64(pw, uint64(s.held))
			return false, s.corruptCount(c)
		}
		if avail < n {
			atomic.StoreUint64(pw, uint64(s.held))
			return false, nil
		}
		if atomic.CompareAndSwapUint64(cw, c, c&^0xffffffff|flight|uint64(avail-n)) { // 2. the move
			break
		}
	}
	s.held += n
	atomic.StoreUint64(pw, uint64(s.held)) // 3. the account
	atomic.AndUint64(cw, ^flight)          // 4. done
	return true, nil
}

func (s *Semaphore) corruptCount(c uint64) error {
	return detail(ErrCorrupt, "count word %#x (offset %d): %d available permits exceed the maximum %d", c, offSemCount, uint32(c), s.max)
}

// Release gives n permits back, to the count and from those this handle
// holds (a surplus over them is a gift, see the type's documentation),
// and wakes the waiters. A Release that would raise the count past
// [Semaphore.Max] fails with an error wrapping [fs.ErrInvalid] that gives
// the count, and changes nothing.
func (s *Semaphore) Release(n int) error {
	const op = "release"
	if s.o.closed.Load() {
		return s.o.closedErr(op)
	}
	if n < 1 || n > int(s.max) {
		return pathErr(op, s.o.name, detail(fs.ErrInvalid, "count %d is not from 1 to the maximum %d", n, s.max))
	}
	c := s.call(n)
	defer s.spare.Store(c)
	return s.o.runOpen(op, c.give)
}

// give is the release of section 8.5.
func (s *Semaphore) give(b []byte, n uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cw, pw := u64(b, offSemCount), u64(b, s.o.at+offSlotPermits)
	flight := uint64(s.o.bit) << 32
	k := min(n, s.held)
	atomic.StoreUint64(pw, uint64(s.held)|uint64(k)<<32|permitsRelease) // 1. the intent
	for {
		c := atomic.LoadUint64(cw)
		avail := uint32(c)
		if uint64(avail)+uint64(n) > uint64(s.max) {
			atomic.StoreUint64(pw, uint64(s.held))
			return detail(fs.ErrInvalid, "releasing %d permits would raise the count %d past the maximum %d", n, avail, s.max)
		}
		if atomic.CompareAndSwapUint64(cw, c, c&^0xffffffff|flight|uint64(avail+n)) { // 2. the move
			break
		}
	}
	s.held -= k
	atomic.StoreUint64(pw, uint64(s.held)) // 3. the account
	atomic.AndUint64(cw, ^flight)          // 4. done
	s.o.wakeAll()
	return nil
}

// semRecover gives back the permits that slot i records, whose owner is
// gone; the caller has claimed the slot, so that it alone does it. It
// first finishes or forgets the transfer that was in flight (steps 1-4
// of section 8.5), then releases what the slot holds as its owner would,
// step by step, so that a death during the recovery leaves a state that
// the next recovery reads the same way.
func (o *object) semRecover(b []byte, i int) {
	cw, pw := u64(b, offSemCount), u64(b, objSlotOff(i)+offSlotPermits)
	flight := uint64(1) << (32 + i)
	p := atomic.LoadUint64(pw)
	held, pend := uint32(p), uint32(p>>32)&0x7fffffff
	if atomic.LoadUint64(cw)&flight != 0 {
		// The move was made, the account perhaps not.
		if pend != 0 {
			if p&permitsRelease != 0 {
				held -= pend
			} else {
				held += pend
			}
		}
		atomic.StoreUint64(pw, uint64(held))
		atomic.AndUint64(cw, ^flight)
	} else if pend != 0 {
		atomic.StoreUint64(pw, uint64(held)) // the move was not made
	}
	if held == 0 {
		return
	}
	maxCount := atomic.LoadUint32(u32(b, offSemMax))
	atomic.StoreUint64(pw, uint64(held)|uint64(held)<<32|permitsRelease)
	for {
		c := atomic.LoadUint64(cw)
		avail := uint32(c)
		back := uint32(0)
		if avail < maxCount {
			back = min(held, maxCount-avail)
		}
		if atomic.CompareAndSwapUint64(cw, c, c&^0xffffffff|flight|uint64(avail+back)) {
			break
		}
	}
	atomic.StoreUint64(pw, 0)
	atomic.AndUint64(cw, ^flight)
	if sl := atomic.LoadUint32(u32(b, offSemSleepers)); sl != 0 {
		seq := u32(b, offSemSeq)
		atomic.AddUint32(seq, 1)
		o.wt.wake(seq, sl, -1)
	}
}

// rescueAll gives back the permits of every slot whose owner is gone:
// it claims such a slot as an attach would (section 8.2), recovers its
// permits, and frees it.
func (s *Semaphore) rescueAll(b []byte) {
	o := s.o
	cw := u64(b, offSemCount)
	for j := range o.slots {
		if j == o.slot {
			continue
		}
		so := objSlotOff(j)
		snap := readSlot(b, so)
		if ownerState(snap.word) == slotFree {
			continue
		}
		if atomic.LoadUint64(u64(b, so+offSlotPermits)) == 0 && atomic.LoadUint64(cw)&(1<<(32+j)) == 0 {
			continue
		}
		if o.alive(j, snap) {
			continue
		}
		s.rescue(b, j, snap)
	}
}

// rescue claims slot j, whose owner (as read in snap) is gone, recovers
// its permits and frees it. With lock bytes it holds j's for the while,
// so that no attacher or other rescuer works on the slot at once.
func (s *Semaphore) rescue(b []byte, j int, snap peerSnap) {
	o := s.o
	lockOff := int64(o.lockBase) + int64(j)
	if o.lockFile != nil {
		ok, err := sys.LockByte(int(o.lockFile.Fd()), lockOff)
		if err != nil || !ok {
			return
		}
		defer sys.UnlockByte(int(o.lockFile.Fd()), lockOff)
	}
	id, err := self()
	if err != nil {
		return
	}
	ow := u64(b, objSlotOff(j)+offSlotOwner)
	claiming := owner(slotClaiming, ownerEpoch(snap.word)+1, id.pid)
	if !atomic.CompareAndSwapUint64(ow, snap.word, claiming) {
		return // taken meanwhile
	}
	atomic.StoreUint64(u64(b, objSlotOff(j)+offSlotStart), id.start)
	atomic.StoreUint64(u64(b, objSlotOff(j)+offSlotPidNS), id.pidNS)
	atomic.AndUint32(u32(b, offSemSleepers), ^uint32(1<<j))
	o.semRecover(b, j)
	atomic.StoreUint64(ow, owner(slotFree, ownerEpoch(claiming), 0))
}

// Close gives back the permits this handle holds, detaches it and frees
// its participant slot; an Acquire waiting in another goroutine returns
// an error wrapping [fs.ErrClosed]. A second Close returns one too.
func (s *Semaphore) Close() error {
	return s.o.close(func(b []byte) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.o.semRecover(b, s.o.slot)
		s.held = 0
	})
}
