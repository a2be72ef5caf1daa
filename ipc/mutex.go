package ipc

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// Mutex is a mutual-exclusion lock in shared memory, for processes (and
// goroutines) that map the same Region: the words of section 8.4 of
// docs/ipc-layout.md, at an offset of the Region that the caller
// chooses. It survives the death of its holder: the next Lock returns
// with the mutex held and an error wrapping [ErrOwnerDead], as a robust
// pthread mutex returns EOWNERDEAD.
//
// # Owner
//
// The owner of a locked Mutex is the handle that locked it: one *Mutex
// value, attached to one participant slot of the mutex, not a goroutine
// and not a thread. Any goroutine may Unlock what another goroutine
// locked through the same handle, as with a [sync.Mutex]; Unlock through
// another handle (of this process or another one) fails with an error
// wrapping [ErrNotOwner] and changes nothing. Goroutines that share a
// handle exclude each other too: a Lock while the same handle holds the
// mutex waits for its Unlock (and so deadlocks in the goroutine that
// holds it, as a sync.Mutex does).
//
// A holder is gone when its process dies (however it dies: the kernel
// drops its lock byte, section 5) or its handle is closed while it holds
// the mutex. A waiter learns of a death within milliseconds: it watches
// the holder's process through a pidfd while it sleeps.
//
// # Recovery
//
// The Lock that takes the mutex from a gone holder returns an error
// wrapping ErrOwnerDead with the mutex held, and the data it guards as
// the holder left it. Repair the data, then call [Mutex.MarkConsistent],
// then Unlock. Unlocking without MarkConsistent makes the mutex
// unrecoverable: every later Lock, in every process, fails with an error
// wrapping [ErrNotRecoverable].
//
// # Cost
//
// An uncontended Lock and Unlock are a compare-and-swap each and no
// system call, inside a fault guard (a segment truncated by another
// process is an error, not a SIGBUS), except on memory that cannot
// fault: an [ioadapt.Memory], and on Linux an anonymous segment
// ([shm.CreateAnonymous], [shm.FromFile]), whose memfd is sealed against
// shrinking. There the Mutex maps the page of its words for itself, so
// that no Close can unmap them under a call, and skips the guard, which
// costs about as much again as the compare-and-swaps. A contended Lock
// spins a few microseconds, then sleeps on a shared futex word; the
// Unlock that finds sleepers wakes one. On Linux neither allocates, so
// a contended mutex feeds no garbage collection.
//
// A Mutex is safe for concurrent use. Close it when done.
type Mutex struct {
	o    *object
	word *uint64 // the lock word, in the shared memory
	mine uint64  // the lock word when this handle holds the mutex
	try  try     // attempt, bound once: a method value would allocate per Lock
	// fast is, while the handle is open, the words of the fast paths of
	// Lock and Unlock in memory that cannot fault, which they use without
	// the fault guard; nil for memory that can (see fastWords).
	fast atomic.Pointer[fastWords]
}

// fastWords are the lock, seq and sleepers words of a mutex, in memory
// that cannot fault for as long as the fastWords is reachable: the Go
// heap of an [ioadapt.Memory], which the garbage collector keeps while
// the words point into it, even after the Region's Close; or the Mutex's
// own mapping of a sealed memfd (sealedWords), which a cleanup unmaps
// once the fastWords is garbage. The fast paths keep it alive until
// their last access (runtime.KeepAlive).
type fastWords struct {
	lock          *uint64
	seq, sleepers *uint32
}

// CreateMutex lays out a new mutex at offset off of r (a multiple of 8;
// of 128 is best) and attaches this process to it; other processes join
// with [OpenMutex]. The [ObjectSize] bytes at off must be zeros (a new
// segment or file is), or CreateMutex fails with an error wrapping
// [fs.ErrExist].
//
// Options: [Participants], [ObjectLockFile]. r must be writable; the
// caller keeps it, and it must stay open until the Mutex is closed.
func CreateMutex(r ioadapt.Region, off int64, opts ...ObjectOption) (*Mutex, error) {
	o, err := createObject("createmutex", r, off, kindMutex, newObjConfig(opts), func([]byte) {})
	if err != nil {
		return nil, err
	}
	return newMutex(o, r), nil
}

// OpenMutex joins the mutex that [CreateMutex] laid out at offset off of
// r, in this process or another, and attaches to one of its participant
// slots. It validates the header (docs/ipc-layout.md, section 8.1) and
// refuses, with an error wrapping [ErrInvalidHeader] that names the field
// and the value, memory that holds no mutex of this version; when every
// slot is attached by a live process it fails with an error wrapping
// [ErrInUse].
//
// Options: [ObjectLockFile], [ObjectReadyTimeout].
func OpenMutex(r ioadapt.Region, off int64, opts ...ObjectOption) (*Mutex, error) {
	o, err := openObject("openmutex", r, off, kindMutex, newObjConfig(opts))
	if err != nil {
		return nil, err
	}
	return newMutex(o, r), nil
}

// CreateNamedMutex creates a POSIX shared-memory segment of the given
// name (see [shm.Create]) that holds a mutex alone, at offset 0; other
// processes join with [OpenNamedMutex], C or Python ones by mapping
// /dev/shm/NAME. The Mutex owns the segment: its Close closes it and
// unlinks the name. Options: [Participants].
func CreateNamedMutex(name string, opts ...ObjectOption) (*Mutex, error) {
	o, err := namedObject("createmutex", name, kindMutex, opts, func([]byte) {})
	if err != nil {
		return nil, err
	}
	return newMutex(o, nil), nil
}

// OpenNamedMutex opens the segment of the given name and joins the mutex
// in it, as [OpenMutex] does. Its Close closes the segment and leaves the
// name. Options: [ObjectReadyTimeout].
func OpenNamedMutex(name string, opts ...ObjectOption) (*Mutex, error) {
	o, err := namedObject("openmutex", name, kindMutex, opts, nil)
	if err != nil {
		return nil, err
	}
	return newMutex(o, nil), nil
}

// newMutex makes the handle of object o, which r holds (nil: a named
// object's own segment, which can fault).
func newMutex(o *object, r ioadapt.Region) *Mutex {
	m := &Mutex{o: o, word: u64(o.mem, offMutexLock), mine: lockWord(lockHeld, ownerEpoch(o.word), o.slot)}
	m.try = m.attempt
	switch {
	case o.heap:
		m.fast.Store(&fastWords{lock: m.word, seq: o.seqAddr, sleepers: o.sleepersAddr})
	case r != nil:
		if w := sealedWords(r, o.off); w != nil {
			m.fast.Store(w)
		}
	}
	return m
}

// Name returns the name of the Region, as errors use it.
func (m *Mutex) Name() string { return m.o.name }

// Lock acquires the mutex, waiting as long as it takes. It returns nil,
// or an error wrapping [ErrOwnerDead] when it took the mutex from a gone
// holder (the mutex is then held: see the type's documentation); other
// errors, with the mutex not held, wrap [ErrNotRecoverable],
// [fs.ErrClosed] (the handle was closed, even while Lock waited) or
// [ioadapt.ErrFault] (the shared memory went away).
func (m *Mutex) Lock() error {
	// The fast path of lock, here too: a call less, and no frame for
	// lock's deferred guard, on the path that most calls take.
	if f := m.fast.Load(); f != nil && atomic.CompareAndSwapUint64(f.lock, 0, m.mine) {
		runtime.KeepAlive(f)
		return nil
	}
	return m.lock(context.Background(), 0)
}

// LockContext is [Mutex.Lock] that gives up when ctx is done, with an
// error matching ctx.Err(). It first tries once, so that a done context
// may still get a free mutex.
func (m *Mutex) LockContext(ctx context.Context) error { return m.lock(ctx, 0) }

// LockDeadline is [Mutex.Lock] that gives up at the deadline t, with an
// error wrapping [os.ErrDeadlineExceeded]. A deadline in the past still
// takes a mutex that is free (or whose holder is gone).
func (m *Mutex) LockDeadline(t time.Time) error {
	return m.lock(context.Background(), clockAt(t))
}

// lock is the Lock calls: ctx and the deadline dl (sys.Now clock) may be
// nil and 0.
func (m *Mutex) lock(ctx context.Context, dl int64) (err error) {
	// The fast path over memory that cannot fault: a load of fast (nil
	// once closed) and a compare-and-swap, without the fault guard.
	if f := m.fast.Load(); f != nil && atomic.CompareAndSwapUint64(f.lock, 0, m.mine) {
		runtime.KeepAlive(f)
		return nil
	}
	defer m.o.guard("lock", debug.SetPanicOnFault(true), &err, m.o.hold.Load())
	if m.o.closed.Load() {
		return m.o.closedErr("lock")
	}
	if atomic.CompareAndSwapUint64(m.word, 0, m.mine) || m.spinFree() {
		return nil
	}
	return m.o.await(ctx, dl, "lock", m.try)
}

// spinFree spins a while (see spin) for the mutex to be free, before
// the caller announces itself a sleeper, and takes it. The caller has
// the fault guard on.
func (m *Mutex) spinFree() bool {
	if d := m.o.spinFor.Load(); !spinnable() || d != 0 && d < spinMax {
		return false // spins have been missing: straight to sleep
	}
	end := sys.Now() + spinMax
	for {
		for range 64 {
			if w := atomic.LoadUint64(m.word); w == 0 && atomic.CompareAndSwapUint64(m.word, 0, m.mine) {
				return true
			} else if w != 0 && ownerState(w) != lockHeld {
				return false // not a plain holder: attempt decides
			}
		}
		if sys.Now() >= end {
			return false
		}
	}
}

// TryLock acquires the mutex if it is free, without waiting: it reports
// whether it did. A mutex whose holder is gone is taken, and TryLock
// returns true with an error wrapping [ErrOwnerDead]; other errors come
// with false, as for [Mutex.Lock].
func (m *Mutex) TryLock() (ok bool, err error) {
	defer m.o.guard("trylock", debug.SetPanicOnFault(true), &err, m.o.hold.Load())
	if m.o.closed.Load() {
		return false, m.o.closedErr("trylock")
	}
	if atomic.CompareAndSwapUint64(m.word, 0, m.mine) {
		return true, nil
	}
	return m.tryTaken()
}

// tryTaken is TryLock on a mutex that its compare-and-swap found taken:
// apart, so that the variables its callback shares are allocated only
// on this path.
func (m *Mutex) tryTaken() (ok bool, err error) {
	err = m.o.run("trylock", func(b []byte) error {
		done, _, err := m.attempt(b, true)
		ok = done && (err == nil || errors.Is(err, ErrOwnerDead))
		return err
	})
	return ok, err
}

// attempt is one try at the lock (see try): it takes the mutex when it
// is free or its holder is gone, and otherwise names the holder's slot,
// which the sleeper watches.
func (m *Mutex) attempt(b []byte, force bool) (done bool, watch int, err error) {
	lw := u64(b, offMutexLock)
	for {
		w := atomic.LoadUint64(lw)
		if w == 0 {
			if atomic.CompareAndSwapUint64(lw, 0, m.mine) {
				return true, watchNone, nil
			}
			continue
		}
		if ownerState(w) == lockUnrecoverable {
			return true, watchNone, m.unrecoverable()
		}
		h := lockSlot(w)
		if ownerState(w) > lockUnrecoverable || h >= m.o.slots {
			return true, watchNone, detail(ErrCorrupt, "lock word %#x (offset %d) names state %d, slot %d of %d", w, offMutexLock, ownerState(w), h, m.o.slots)
		}
		s := readSlot(b, objSlotOff(h))
		gone := ownerState(s.word) != slotAttached || ownerEpoch(s.word) != ownerEpoch(w)
		if !gone && force && h != m.o.slot && !m.o.alive(h, s) {
			gone = true
		}
		if !gone {
			return false, h, nil
		}
		if atomic.CompareAndSwapUint64(lw, w, m.mine&^0xff|lockInconsistent) {
			how := "closed its handle"
			if ownerState(s.word) == slotAttached && ownerEpoch(s.word) == ownerEpoch(w) {
				how = "died"
			} else if ownerState(s.word) != slotFree {
				how = "died or closed" // its slot has been taken again since
			}
			return true, watchNone, detail(ErrOwnerDead, "the holder in slot %d (pid %d) %s while holding the mutex: this handle holds it now; repair the data, then MarkConsistent and Unlock",
				h, ownerPid(s.word), how)
		}
	}
}

func (m *Mutex) unrecoverable() error {
	return detail(ErrNotRecoverable, "the mutex was unlocked after its owner died without MarkConsistent: it cannot be locked again")
}

// Unlock releases the mutex that this handle holds. When a holder that
// got [ErrOwnerDead] unlocks without [Mutex.MarkConsistent], the mutex is
// released for good: Unlock returns an error wrapping
// [ErrNotRecoverable], as every later Lock does. Unlock through a handle
// that does not hold the mutex fails with an error wrapping
// [ErrNotOwner] and changes nothing.
func (m *Mutex) Unlock() error {
	// The fast path over memory that cannot fault, as in lock, with no
	// frame for the deferred guard of the rest.
	if f := m.fast.Load(); f != nil && atomic.CompareAndSwapUint64(f.lock, m.mine, 0) {
		if atomic.LoadUint32(f.sleepers) != 0 {
			m.o.wakeOneAt(f.seq, f.sleepers)
		}
		runtime.KeepAlive(f)
		return nil
	}
	return m.unlock()
}

// unlock is Unlock past its fast path.
func (m *Mutex) unlock() (err error) {
	defer m.o.guard("unlock", debug.SetPanicOnFault(true), &err, m.o.hold.Load())
	if m.o.closed.Load() {
		return m.o.closedErr("unlock")
	}
	if atomic.CompareAndSwapUint64(m.word, m.mine, 0) {
		m.o.wakeOne()
		return nil
	}
	w := atomic.LoadUint64(m.word)
	if w == m.mine&^0xff|lockInconsistent && atomic.CompareAndSwapUint64(m.word, w, lockWord(lockUnrecoverable, 0, 0)) {
		m.o.wakeAll()
		return pathErr("unlock", m.o.name, detail(ErrNotRecoverable,
			"unlocked after ErrOwnerDead without MarkConsistent: the mutex is released and unrecoverable"))
	}
	return pathErr("unlock", m.o.name, m.notOwner(w))
}

// notOwner says who holds the mutex, for a call that needs this handle
// to hold it.
func (m *Mutex) notOwner(w uint64) error {
	switch {
	case w == 0:
		return detail(ErrNotOwner, "the mutex is not locked")
	case ownerState(w) == lockUnrecoverable:
		return details([]error{ErrNotOwner, ErrNotRecoverable}, "the mutex is unrecoverable")
	}
	return detail(ErrNotOwner, "the mutex is held by slot %d (epoch %d), not by this handle (slot %d, epoch %d)",
		lockSlot(w), ownerEpoch(w), m.o.slot, ownerEpoch(m.mine))
}

// MarkConsistent declares that the data guarded by the mutex, which
// this handle took from a gone holder ([ErrOwnerDead]), has been
// repaired: the Unlock that follows releases the mutex as usual. On a
// mutex this handle holds and that is consistent already it does
// nothing; through a handle that does not hold it, it fails with an
// error wrapping [ErrNotOwner].
func (m *Mutex) MarkConsistent() (err error) {
	defer m.o.guard("markconsistent", debug.SetPanicOnFault(true), &err, m.o.hold.Load())
	if m.o.closed.Load() {
		return m.o.closedErr("markconsistent")
	}
	w := atomic.LoadUint64(m.word)
	if w == m.mine || w == m.mine&^0xff|lockInconsistent && atomic.CompareAndSwapUint64(m.word, w, m.mine) {
		return nil
	}
	return pathErr("markconsistent", m.o.name, m.notOwner(w))
}

// Close detaches the handle from the mutex and frees its participant
// slot; a Lock waiting in another goroutine returns an error wrapping
// [fs.ErrClosed]. Closing a handle that holds the mutex abandons it: the
// next Lock gets [ErrOwnerDead], since the data may be half-changed. A
// mutex made by [CreateNamedMutex] or [OpenNamedMutex] closes its
// segment too. A second Close returns an error wrapping fs.ErrClosed.
func (m *Mutex) Close() error {
	m.fast.Store(nil)
	return m.o.close(nil)
}
