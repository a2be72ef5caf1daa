package ipc

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

// object is what a Mutex, a Semaphore and an Event share: the header and
// the slots of section 8 of the layout at an offset of a Region, this
// handle's slot in it, sleeping on and waking the object's futex word,
// and Close.
//
// The fast paths (an uncontended Lock, Unlock, TryAcquire, Set) touch
// the shared words directly, through mem, without the Region's Access:
// its read lock and fault guard cost more than the compare-and-swap they
// would guard. They run with the runtime's panic-on-fault on instead
// (guard), so that a segment truncated under the object is an error, not
// a SIGBUS.
type object struct {
	member // our slot, its lock byte, our owner word

	acc accessor
	// hold keeps mem's addresses reserved (nil where the Region cannot)
	// until Close has ended and no call holds it: each call that touches
	// mem outside o.run loads it for its guard, and Close drops it.
	hold  atomic.Pointer[ioadapt.Hold]
	name  string
	kind  uint32
	off   int    // the object's offset in the Region
	slots int    // slot_count
	mem   []byte // the object's bytes, from the Region's Bytes; valid while it is open
	bit   uint32 // our slot's bit in the sleepers word
	heap  bool   // mem is on the Go heap: see fastWords
	param uint32 // the kind's fixed word, read once in the guard: see param

	seqAddr, sleepersAddr *uint32
	wt                    *objWait // sleeping on seq and waking the other slots

	closed atomic.Bool
	ended  atomic.Bool // Close has ended: no call may touch mem (see touch)
	// waiting is read-locked by the calls in await, for as long as they
	// wait, and in runOpen; Close, once it has woken them, write-locks it
	// to wait until they have left. It is taken before a Semaphore's mu.
	waiting sync.RWMutex

	mu       sync.Mutex // guards sleeping and watch
	sleeping int        // our goroutines in await: our bit is set while it is not 0
	// watch follows the process that the sleepers wait for (a mutex's
	// holder), from one wait to the next, so that a contended Lock does
	// not open a pidfd each time; it ends at Close.
	watch watcher
	gone  atomic.Uint64 // an owner word whose process the watch saw exit
	// spinFor is how long, in ns, a sleeper spins before it sleeps:
	// spinMax (0 reads as spinMax) until spinMisses spins in a row have
	// missed the wake-up, then spinMin; a spin that sees the wake-up
	// sets it back to spinMax. spinLow counts the misses at spinMin,
	// every spinProbe-th of which tries spinMax again, so that a spin
	// that fell to spinMin in a busy spell can find its way back.
	spinFor  atomic.Int64
	spinLow  atomic.Uint32
	spinMiss atomic.Uint32 // spins in a row that missed

	spare atomic.Pointer[waitState] // for the next await: see waitState

	owned  io.Closer    // the segment that a named object made or opened
	unlink func() error // the creator's unlink of that segment's name
}

// objConfig is what the constructors of the objects take.
type objConfig struct {
	participants int
	lockFile     *os.File
	readyTimeout time.Duration
}

// ObjectOption changes how a [Mutex], [Semaphore] or [Event] is created
// or opened. Each constructor says which ones it uses.
type ObjectOption interface {
	applyObject(*objConfig)
}

type objOptionFunc func(*objConfig)

func (f objOptionFunc) applyObject(c *objConfig) { f(c) }

func newObjConfig(opts []ObjectOption) objConfig {
	c := objConfig{participants: MaxParticipants, readyTimeout: 2 * time.Second}
	for _, o := range opts {
		if o != nil {
			o.applyObject(&c)
		}
	}
	return c
}

// Participants sets how many handles a new Mutex, Semaphore or Event
// can have attached at once, from 1 to [MaxParticipants] (the default):
// each takes a 128-byte slot (see [ObjectSize]).
func Participants(n int) ObjectOption {
	return objOptionFunc(func(c *objConfig) { c.participants = n })
}

// ObjectLockFile is [LockFile] for a Mutex, Semaphore or Event: the file
// whose byte-range locks record which processes are attached, for a
// Region that cannot give its own (a file mapping, a System V segment).
func ObjectLockFile(f *os.File) ObjectOption {
	return objOptionFunc(func(c *objConfig) { c.lockFile = f })
}

// ObjectReadyTimeout is [ReadyTimeout] for the Open functions of a
// Mutex, Semaphore or Event: how long they wait for an object that
// another process is still creating (2 s by default).
func ObjectReadyTimeout(d time.Duration) ObjectOption {
	return objOptionFunc(func(c *objConfig) { c.readyTimeout = d })
}

// ObjectSize returns the bytes that a Mutex, Semaphore or Event with
// room for participants handles takes in a Region: a 128-byte header
// line, a line of its own words, and a 128-byte slot per participant;
// 4352 for [MaxParticipants].
func ObjectSize(participants int) int64 { return int64(objSize(participants)) }

// onHeap tells whether r's memory is on the Go heap.
func onHeap(r ioadapt.Region) bool {
	_, ok := r.(*ioadapt.Memory)
	return ok
}

// bytesOf is a Region's memory, which every accessor here has.
type bytesOf interface{ Bytes() []byte }

// placement checks that an object of kind fits at off of r and returns
// the access to r's memory and the object's bytes. size is the object's
// size when known (creating), 0 when the header will tell (opening).
func placement(op string, r ioadapt.Region, kind uint32, off int64, size int) (accessor, []byte, *ioadapt.Hold, error) {
	name := r.Name()
	acc, err := regionFor(op, r)
	if err != nil {
		return nil, nil, nil, err
	}
	what := kindName(kind)
	if off < 0 || off%8 != 0 {
		return nil, nil, nil, pathErr(op, name, detail(fs.ErrInvalid, "offset %d of the %s is not a non-negative multiple of 8", off, what))
	}
	bo, ok := acc.(bytesOf)
	if !ok {
		return nil, nil, nil, pathErr(op, name, detail(ErrUnsupported, "%s needs a Region whose memory it can address", aKind(kind)))
	}
	// The objects keep pointers into the memory between calls: the hold
	// keeps a Close of the Region from letting another mapping take those
	// addresses. A Region that cannot keep them is used as it is.
	b, hold, err := ioadapt.HoldMemory(r)
	switch {
	case errors.Is(err, fs.ErrClosed):
		return nil, nil, nil, err
	case err != nil && !onHeap(r) && ioadapt.MemoryMoves(r):
		// The handle's calls touch the memory through its pointers,
		// outside the Region's lock: memory that moves without leaving
		// a reservation behind would take them to another mapping.
		return nil, nil, nil, pathErr(op, name, detail(ErrUnsupported,
			"%s needs memory that stays where it is, and this region can be resized without keeping its old addresses: %v", aKind(kind), err))
	case err != nil:
		b = bo.Bytes()
	}
	need := int64(max(size, lineSize))
	if int64(len(b)) < need || off > int64(len(b))-need {
		return nil, nil, nil, pathErr(op, name, detail(fs.ErrInvalid,
			"region of %d bytes is too small for %s of %d bytes at offset %d", len(b), aKind(kind), need, off))
	}
	mem := b[off:]
	if err := checkRegion(mem); err != nil {
		return nil, nil, nil, pathErr(op, name, err)
	}
	return acc, mem, hold, nil
}

// createObject lays out the header of an object of kind at off of r and
// attaches this process to a slot; init writes the object's own words
// (line 1) before the header is published as ready.
func createObject(op string, r ioadapt.Region, off int64, kind uint32, c objConfig, init func(b []byte)) (*object, error) {
	name := r.Name()
	if err := objectsErr(); err != nil {
		return nil, pathErr(op, name, err)
	}
	if c.participants < 1 || c.participants > MaxParticipants {
		return nil, pathErr(op, name, detail(fs.ErrInvalid, "participants %d is not from 1 to %d", c.participants, MaxParticipants))
	}
	size := objSize(c.participants)
	acc, mem, hold, err := placement(op, r, kind, off, size)
	if err != nil {
		return nil, err
	}
	o := &object{acc: acc, name: name, kind: kind, off: int(off), slots: c.participants, mem: mem[:size:size]}
	o.hold.Store(hold)
	h := header{major: versionMajor, minor: versionMinor, headerSize: uint32(size), kind: kind,
		lineSize: lineSize, slotCount: uint32(c.participants),
		waitID: 1 + rand.Uint64N(1<<64-1), // never 0, which names nothing
	}
	lf, err := findLockFile(op, name, r, c.lockFile)
	if err != nil {
		return nil, err
	}
	if lf != nil {
		defer lf.Close()
		dev, ino, err := sys.FileID(int(lf.Fd()))
		if err != nil {
			return nil, pathErr(op, name, err)
		}
		h.flags |= flagLocks
		h.lockBase, h.lockDev, h.lockIno = 1<<62|rand.Uint64N(1<<52)<<8, dev, ino
	}
	err = o.run(op, func(b []byte) error {
		if err := layOut(b, &h, size, func() { init(b) }); err != nil {
			return err
		}
		var perr error
		o.param, perr = param(kind, b)
		return perr
	})
	if err != nil {
		return nil, err
	}
	if err := o.attach(op, lf, h.lockBase, h.waitID); err != nil {
		return nil, err
	}
	o.heap = onHeap(r)
	return o, nil
}

// openObject joins the object of kind at off of r.
func openObject(op string, r ioadapt.Region, off int64, kind uint32, c objConfig) (*object, error) {
	name := r.Name()
	if err := objectsErr(); err != nil {
		return nil, pathErr(op, name, err)
	}
	acc, mem, hold, err := placement(op, r, kind, off, 0)
	if err != nil {
		return nil, err
	}
	o := &object{acc: acc, name: name, kind: kind, off: int(off), mem: mem}
	o.hold.Store(hold)
	var h header
	err = awaitReady(op, name, kindName(kind), c.readyTimeout, func() (pending bool, err error) {
		err = o.run(op, func(b []byte) error {
			m := atomic.LoadUint64(u64(b, offMagic))
			s := atomic.LoadUint32(u32(b, offState))
			switch {
			case m == magic && (s == stateEmpty || s == stateInit), m == 0 && (s == stateEmpty || s == stateInit):
				pending = true
				return nil
			case m == magic && s != stateReady:
				return detail(ErrInvalidHeader, "state %d (%s) of %s, want 2 (ready)", s, stateName(s), aKind(kind))
			}
			h = decodeHeader(b)
			if err := h.validateObject(kind, int64(len(b))); err != nil {
				return err
			}
			o.param, err = param(kind, b)
			return err
		})
		return pending, err
	}, func() (s uint32) {
		_ = o.run(op, func(b []byte) error { s = atomic.LoadUint32(u32(b, offState)); return nil })
		return s
	})
	if err != nil {
		return nil, err
	}
	o.slots = int(h.slotCount)
	o.mem = mem[:h.headerSize:h.headerSize]
	var lf *os.File
	if h.flags&flagLocks != 0 {
		if lf, err = findLockFile(op, name, r, c.lockFile); err != nil {
			return nil, err
		}
		if lf == nil {
			return nil, pathErr(op, name, detail(ErrInvalidHeader,
				"flags %#x: the %s's participants lock its file, and this region has no file: pass ObjectLockFile", h.flags, kindName(kind)))
		}
		defer lf.Close()
		dev, ino, err := sys.FileID(int(lf.Fd()))
		if err != nil {
			return nil, pathErr(op, name, err)
		}
		if dev != h.lockDev || ino != h.lockIno {
			return nil, pathErr(op, name, detail(ErrInvalidHeader,
				"lock_dev %d lock_ino %d: the lock file given is device %d inode %d, another file", h.lockDev, h.lockIno, dev, ino))
		}
	}
	if err := o.attach(op, lf, h.lockBase, h.waitID); err != nil {
		return nil, err
	}
	o.heap = onHeap(r)
	return o, nil
}

// attach claims a slot for this handle (section 8.2): the first one that
// no live process holds. waitID is the header's wait_id.
func (o *object) attach(op string, lf *os.File, lockBase, waitID uint64) error {
	id, err := self()
	if err != nil {
		return pathErr(op, o.name, err)
	}
	o.seqAddr, o.sleepersAddr = o.words()
	if o.wt, err = openObjWait(waitID); err != nil {
		return pathErr(op, o.name, err)
	}
	for i := range o.slots {
		o.slot, o.at, o.bit = i, objSlotOff(i), 1<<i
		if lf != nil {
			busy, err := o.lockSlot(lf, lockBase, i)
			if err != nil {
				return pathErr(op, o.name, err)
			}
			if busy {
				continue
			}
		}
		err := o.run(op, func(b []byte) error {
			if err := o.claim(b, id, 0, func(pid int) error { return detail(ErrInUse, "slot %d: pid %d", i, pid) }); err != nil {
				return err
			}
			// A dead predecessor may have left its bit raised, and (in
			// a semaphore) permits to give back.
			atomic.AndUint32(o.sleepersAddr, ^o.bit)
			if o.kind == kindSemaphore {
				o.semRecover(b, i)
			}
			return nil
		})
		if err == nil {
			if err = o.wt.attach(i); err == nil {
				return nil
			}
			_ = o.run(op, func(b []byte) error { o.leave(b); return nil })
			err = pathErr(op, o.name, err)
		}
		o.unlockSlot()
		if !errors.Is(err, ErrInUse) {
			o.wt.close()
			return err
		}
	}
	o.wt.close()
	return pathErr(op, o.name, detail(ErrInUse, "all %d participant slots of the %s are attached by live processes", o.slots, kindName(o.kind)))
}

// param reads and checks the word of the object in b that its kind
// fixes at creation (a semaphore's maximum, an event's mode), for the
// constructor to keep, so that no handle reads it outside the guard.
func param(kind uint32, b []byte) (uint32, error) {
	switch kind {
	case kindSemaphore:
		v := atomic.LoadUint32(u32(b, offSemMax))
		if v < 1 || v > maxPermits {
			return 0, detail(ErrInvalidHeader, "max %d of the semaphore is not from 1 to %d", v, maxPermits)
		}
		return v, nil
	case kindEvent:
		v := atomic.LoadUint32(u32(b, offEventMode))
		if v != eventManual && v != eventAuto {
			return 0, detail(ErrInvalidHeader, "mode %d of the event is not %d (manual reset) or %d (auto-reset)", v, eventManual, eventAuto)
		}
		return v, nil
	}
	return 0, nil
}

// words returns the object's futex word and sleepers word.
func (o *object) words() (seq, sleepers *uint32) {
	switch o.kind {
	case kindMutex:
		return u32(o.mem, offMutexSeq), u32(o.mem, offMutexSleepers)
	case kindSemaphore:
		return u32(o.mem, offSemSeq), u32(o.mem, offSemSleepers)
	}
	return u32(o.mem, offEventSeq), u32(o.mem, offEventSleepers)
}

// run calls fn with the object's bytes inside the Region's Access, so
// that a fault is an error, and names op in the error.
func (o *object) run(op string, fn func(b []byte) error) error {
	return o.access(op, o.bind(fn))
}

// access calls fn with the Region's whole memory inside its Access, and
// names op in the error: run, for a callback that checks placed itself.
func (o *object) access(op string, fn func(b []byte) error) error {
	if err := o.acc.Access(fn); err != nil {
		return opErr(op, o.name, err)
	}
	return nil
}

// runOpen is run for a call that moves what the handle's slot records
// (a Semaphore's permits), with Close kept out as await keeps it out: a
// call that comes after Close fails with [ErrClosed] having done
// nothing, and one under way finishes first, so that Close's leave sees
// what it did. Run without it, a take after Close had given the slot's
// permits back and freed it would record permits in a free slot, which
// no recovery reads. bound is a callback that bind made.
func (o *object) runOpen(op string, bound func(b []byte) error) error {
	o.waiting.RLock()
	defer o.waiting.RUnlock()
	if o.closed.Load() {
		return o.closedErr(op)
	}
	return o.access(op, bound)
}

// bind makes of fn, which takes the object's bytes, a callback for the
// Region's Access, as run makes one on each call: bound once and kept,
// it costs no allocation per call.
func (o *object) bind(fn func(b []byte) error) func(b []byte) error {
	return func(b []byte) error {
		if err := o.placed(b); err != nil {
			return err
		}
		return fn(b[o.off : o.off+len(o.mem)])
	}
}

// placed checks that b, the Region's memory as Access gives it now, still
// holds the object where o.mem, and every pointer of the handle, points:
// a Region that grows or shrinks (a file's mapping) may map its memory
// afresh elsewhere, after which the handle's pointers reach retired
// memory, and the object must be opened again.
func (o *object) placed(b []byte) error {
	if len(b) < o.off+len(o.mem) {
		return detail(ioadapt.ErrFault, "region shrank to %d bytes; the %s at offset %d needs %d", len(b), kindName(o.kind), o.off, len(o.mem))
	}
	if unsafe.SliceData(b[o.off:]) != unsafe.SliceData(o.mem) {
		return detail(ioadapt.ErrFault, "the region's memory moved (a resize mapped it afresh) after the %s at offset %d was opened: open it again", kindName(o.kind), o.off)
	}
	return nil
}

// guard is deferred by the fast paths, which touch o.mem directly after
// debug.SetPanicOnFault(true): it restores old and turns a fault inside
// the object into an error wrapping [ioadapt.ErrFault], or [ErrClosed]
// once the handle or the Region is closed: a call that was under way at
// Close may touch the memory after Close has returned and the Region's
// Close has retired it. Other panics go on. h is the hold that the call
// loaded before it touched the memory: as an argument of the deferred
// guard, it keeps the memory's addresses reserved until the call ends,
// even if Close drops the object's hold meanwhile.
func (o *object) guard(op string, old bool, err *error, h *ioadapt.Hold) {
	debug.SetPanicOnFault(old)
	runtime.KeepAlive(h)
	r := recover()
	if r == nil {
		return
	}
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(o.mem)))
		if a := f.Addr(); a >= base && a < base+uintptr(len(o.mem)) {
			if o.closed.Load() {
				*err = o.closedErr(op)
				return
			}
			if h != nil && h.Closed() {
				*err = pathErr(op, o.name, detail(ErrClosed, "the region was closed before the %s", kindName(o.kind)))
				return
			}
			// Only a Region that keeps its old addresses (a hold) can
			// have moved its memory under the handle; asked without a
			// lock, as the fault may have come inside run.
			if h != nil {
				if moved := o.placed(h.Memory()); moved != nil {
					*err = pathErr(op, o.name, moved)
					return
				}
			}
			*err = pathErr(op, o.name, detail(ioadapt.ErrFault,
				"memory fault at offset %d of the %s: its segment was truncated or unmapped", a-base, kindName(o.kind)))
			return
		}
	}
	panic(r)
}

// closedErr is the error of a call after Close.
func (o *object) closedErr(op string) error { return pathErr(op, o.name, ErrClosed) }

// kick wakes every sleeper on the object's futex word, so that each
// re-checks what it waits for: after a Close, a holder's death, a
// context's end.
//
// It runs on goroutines of its own too (a context's AfterFunc, the
// watch of a holder), after the Region may have been closed: it touches
// the memory in a guard of its own, and a fault there leaves nothing to
// wake.
func (o *object) kick() {
	_ = o.touch("kick", func() {
		atomic.AddUint32(o.seqAddr, 1)
		o.wt.wake(o.seqAddr, atomic.LoadUint32(o.sleepersAddr), -1)
	})
}

// touch runs fn, which touches the object's memory outside o.run, in the
// fault guard: a fault is an error, as in the fast paths. Once Close has
// ended (a context's AfterFunc, a watch that fired late), fn does not run:
// the hold may be gone, and with it the reservation of the addresses.
func (o *object) touch(op string, fn func()) (err error) {
	defer o.guard(op, debug.SetPanicOnFault(true), &err, o.hold.Load())
	if o.ended.Load() {
		return o.closedErr(op)
	}
	fn()
	return nil
}

// wakeOne wakes one sleeper, if any process has one (section 8.3): the
// half of the Dekker pair that follows a release.
func (o *object) wakeOne() { o.wakeOneAt(o.seqAddr, o.sleepersAddr) }

// wakeOneAt is wakeOne on the object's seq and sleepers words at the
// addresses given: the Mutex's fast path has them in its own mapping.
func (o *object) wakeOneAt(seq, sleepers *uint32) {
	if s := atomic.LoadUint32(sleepers); s != 0 {
		atomic.AddUint32(seq, 1)
		o.wt.wake(seq, s, 1)
	}
}

// wakeAll is wakeOne for every sleeper.
func (o *object) wakeAll() {
	if atomic.LoadUint32(o.sleepersAddr) != 0 {
		o.kick()
	}
}

// register and unregister count this handle's sleepers and keep its bit
// in the sleepers word, which may fault (the Region was closed or
// shrank): they touch it in the guard, with o.mu released however that
// ends. register counts the sleeper only once its bit is set.
func (o *object) register(op string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sleeping == 0 {
		if err := o.touch(op, func() { atomic.OrUint32(o.sleepersAddr, o.bit) }); err != nil {
			return err
		}
	}
	o.sleeping++
	return nil
}

func (o *object) unregister(op string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sleeping--; o.sleeping == 0 {
		_ = o.touch(op, func() { atomic.AndUint32(o.sleepersAddr, ^o.bit) })
	}
}

// A try is one attempt of a blocking call, made with the object's
// memory after the sleeper has announced itself. It returns done when
// the call is over (with its result in err); otherwise watch is the slot
// whose owner's death would let it go on, watchNone when no death can,
// or watchPoll when deaths are found by polling. force asks it to
// check the liveness of the processes it waits for, which costs system
// calls: once a re-check interval has passed since the last check
// (whatever woke the sleeper meanwhile), or when a watched process
// exited.
type try func(b []byte, force bool) (done bool, watch int, err error)

const (
	watchNone = -1
	watchPoll = -2
)

// How long a sleep lasts at most before the sleeper re-checks: with a
// pidfd on the process it waits for, the pidfd wakes it and the re-check
// is a safety net; without one, it is how a death is found.
const (
	objRecheckWatched   = time.Second
	objRecheckUnwatched = 50 * time.Millisecond
)

// await sleeps on the object's futex word (section 8.3) until attempt
// says done, or fails: the handle closed, the deadline dl (on the
// sys.Now clock; 0: none) or ctx expired. Its memory accesses run in
// Access, so that a fault is an error.
func (o *object) await(ctx context.Context, dl int64, op string, attempt try) (err error) {
	o.waiting.RLock()
	defer o.waiting.RUnlock()
	w := o.waitState(attempt)
	defer o.spare.Store(w)
	var (
		stop    func() bool
		ctxErr  = os.ErrDeadlineExceeded
		success bool
	)
	if ctx != nil {
		if d, ok := ctx.Deadline(); ok {
			if cd := clockAt(d); dl == 0 || cd < dl {
				dl, ctxErr = cd, context.DeadlineExceeded
			}
		}
		if ctx.Done() != nil {
			stop = context.AfterFunc(ctx, o.kick)
		}
	}
	if err := o.register(op); err != nil {
		if stop != nil {
			stop()
		}
		return err
	}
	defer func() {
		if stop != nil {
			stop()
		}
		o.unregister(op)
		if !success {
			// A wake-up meant for a sleeper that leaves empty-handed
			// goes on to the next.
			_ = o.access(op, w.wakeOneFn)
		}
		w.attempt = nil
	}()
	// checked is when the last forced attempt began (or the wait did),
	// and interval the re-check interval the last attempt asked for.
	// Wake-ups that are not a death (every Release wakes all of a
	// semaphore's sleepers) can keep each sleep from timing out, so the
	// re-check is due by the clock, not on a timed-out sleep only.
	checked, interval := sys.Now(), objRecheckWatched
	for {
		if o.closed.Load() {
			return o.closedErr(op)
		}
		if g := o.gone.Load(); g != 0 && g == o.watched() {
			w.force = true
		}
		if now := sys.Now(); w.force || now-checked >= int64(interval) {
			w.force, checked = true, now
		}
		err := o.access(op, w.stepFn)
		if w.done {
			success = err == nil || errors.Is(err, ErrOwnerDead)
			return err
		}
		if err != nil {
			return err
		}
		w.force, w.again = w.again, false
		if w.force {
			continue
		}
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return pathErr(op, o.name, err)
			}
		}
		now := sys.Now()
		if dl != 0 && now >= dl {
			return pathErr(op, o.name, ctxErr)
		}
		interval = objRecheckWatched
		if w.watch == watchPoll || w.watch >= 0 && !o.watching() {
			interval = objRecheckUnwatched
		}
		w.until = checked + int64(interval)
		if dl != 0 && dl < w.until {
			w.until = dl
		}
		if err := o.access(op, w.spinFn); err != nil {
			return err
		}
		if w.woken {
			continue
		}
		timedOut, err := o.wt.sleep(o.seqAddr, w.seq, w.armed, w.until)
		if err != nil {
			if rerr := o.access(op, w.nopFn); rerr != nil {
				return rerr
			}
			return pathErr(op, o.name, err)
		}
		w.force = timedOut
	}
}

// waitState is what one await shares with the calls it makes inside
// the Region's Access. Its Access callbacks are bound once, when it is
// made, and a handle keeps a spare for its next await: so a blocking
// call allocates nothing, which keeps a contended Lock from feeding the
// garbage collector and from touching new heap pages (a page fault
// costs microseconds, as much as a hand-off).
type waitState struct {
	o       *object
	attempt try
	seq     uint32 // the seq word, as loaded before the last attempt
	armed   uint64 // what wt.arm returned then
	done    bool   // the last attempt ended the call
	watch   int    // the slot the last attempt named (see try)
	force   bool   // the next attempt checks liveness
	again   bool   // the holder turned out gone already: try again at once
	until   int64  // the end of the spin and the sleep (sys.Now clock)
	woken   bool   // the spin saw a wake-up

	stepFn, spinFn, wakeOneFn, nopFn func(b []byte) error
}

// waitState returns the handle's spare state, or a new one when another
// await of the handle is using it, set for attempt.
func (o *object) waitState(attempt try) *waitState {
	w := o.spare.Swap(nil)
	if w == nil {
		w = &waitState{o: o}
		w.stepFn = o.bind(w.step)
		w.spinFn = o.bind(func([]byte) error { w.woken = w.o.spin(w.seq, w.until); return nil })
		w.wakeOneFn = o.bind(func([]byte) error { w.o.wakeOne(); return nil })
		w.nopFn = o.bind(func([]byte) error { return nil })
	}
	*w = waitState{o: o, attempt: attempt, stepFn: w.stepFn, spinFn: w.spinFn, wakeOneFn: w.wakeOneFn, nopFn: w.nopFn}
	return w
}

// step is one attempt: it loads seq first, so that a wake-up after the
// attempt fails ends the sleep that follows, and points the watch at the
// process the attempt waits for.
func (w *waitState) step(b []byte) error {
	o := w.o
	w.seq, w.armed = atomic.LoadUint32(o.seqAddr), o.wt.arm()
	var err error
	w.done, w.watch, err = w.attempt(b, w.force)
	if w.done || w.watch < 0 {
		return err
	}
	if s := readSlot(b, objSlotOff(w.watch)); ownerState(s.word) != slotFree {
		w.again = o.follow(s)
	}
	return err
}

// Spinning (section 8.3, step 4): a futex sleep and wake-up cost the
// waker a system call and the sleeper tens of microseconds before its
// goroutine runs again, while a lock held across processes is often
// released within microseconds. So a sleeper, its bit raised, first
// watches seq for a few microseconds; under load, when spins keep
// missing, it spins only spinMin, trying spinMax again now and then.
// Single misses do not shorten the spin: a hand-off that takes a little
// longer than usual would otherwise halve the next spin below the usual
// wait, and every later hand-off would sleep. Only where two threads can
// run at once.
const (
	spinMin    = 500   // ns
	spinMax    = 5_000 // ns
	spinProbe  = 16
	spinMisses = 8
)

var spinCPUs = runtime.NumCPU() > 1

// spinnable tells whether a spinner and the process it waits for can
// run at once.
func spinnable() bool { return spinCPUs && runtime.GOMAXPROCS(0) > 1 }

// spin watches seq until it differs from seq0 (true: a wake-up came) or
// until the spin time, or until (sys.Now clock), is over. It reads the
// object's memory: call it inside run.
func (o *object) spin(seq0 uint32, until int64) bool {
	if !spinnable() {
		return false
	}
	d := o.spinFor.Load()
	if d == 0 {
		d = spinMax
	}
	end := min(sys.Now()+d, until)
	for {
		for range 64 {
			if atomic.LoadUint32(o.seqAddr) != seq0 {
				o.spinMiss.Store(0)
				o.spinFor.Store(spinMax)
				return true
			}
		}
		if sys.Now() >= end {
			switch {
			case d > spinMin:
				if o.spinMiss.Add(1) >= spinMisses {
					o.spinFor.Store(spinMin)
				}
			case o.spinLow.Add(1)%spinProbe == 0:
				o.spinFor.Store(spinMax)
			}
			return false
		}
	}
}

// follow points the handle's watch at the owner of the slot read in s,
// unless it watches it already. It returns true when that process is
// gone already.
func (o *object) follow(s peerSnap) (gone bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s.word == o.watch.word {
		return false
	}
	return o.watch.watch(s, func(word uint64) { o.gone.Store(word); o.kick() })
}

// watched is the owner word the watch follows; watching tells whether it
// has a pidfd on its process.
func (o *object) watched() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.watch.word
}

func (o *object) watching() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.watch.pidfd != nil
}

// close detaches the handle (section 8.2): it wakes its own sleepers,
// which return fs.ErrClosed, waits for them, runs leave on the memory
// (the kind's own release), frees the slot and drops its lock byte,
// then closes the segment of a named object.
func (o *object) close(leave func(b []byte)) error {
	if !o.closed.CompareAndSwap(false, true) {
		return o.closedErr("close")
	}
	_ = o.run("close", func([]byte) error { o.kick(); return nil })
	// Held to the end: a call that comes meanwhile waits, then sees
	// closed.
	o.waiting.Lock()
	defer o.waiting.Unlock()
	o.mu.Lock()
	o.watch.stop()
	o.mu.Unlock()
	err := o.run("close", func(b []byte) error {
		if leave != nil {
			leave(b)
		}
		o.leave(b)
		return nil
	})
	o.unlockSlot()
	o.wt.close()
	err = errors.Join(append([]error{err}, closeSegment(o.owned, o.unlink)...)...)
	// No call waits any more; a fast path under way holds the hold it
	// loaded, and any later one sees closed (or ended) first. Dropping it
	// lets the Region's memory go once that Region is closed too, however
	// long the closed handle stays reachable.
	o.ended.Store(true)
	o.hold.Store(nil)
	return err
}

// namedObject makes (init not nil: it writes the object's own words) or
// opens the object of kind alone in the POSIX shared-memory segment
// name, which the object then owns.
func namedObject(op, name string, kind uint32, opts []ObjectOption, init func(b []byte)) (*object, error) {
	if err := objectsErr(); err != nil {
		return nil, pathErr(op, name, err)
	}
	c := newObjConfig(opts)
	c.lockFile = nil
	var size int64
	if init != nil {
		if c.participants < 1 || c.participants > MaxParticipants {
			return nil, pathErr(op, name, detail(fs.ErrInvalid, "participants %d is not from 1 to %d", c.participants, MaxParticipants))
		}
		size = ObjectSize(c.participants)
	}
	var o *object
	s, err := inSegment(name, size, func(s *shm.Segment) (err error) {
		if init != nil {
			o, err = createObject(op, s, 0, kind, c, init)
		} else {
			o, err = openObject(op, s, 0, kind, c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	o.owned = s
	if init != nil {
		o.unlink = s.Unlink
	}
	return o, nil
}
