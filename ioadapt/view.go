package ioadapt

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
	"weak"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// view is the memory of a Region as one call under the exclusive lock
// left it: the slice and whether the Region is closed. It is published
// through shared.cur and never changed afterwards (next excepted, which
// no call reads; size, which only grows over memory that stays mapped;
// and held, which is only ever set), so that ReadAt and WriteAt on a
// [Retirer] can work on it without a lock.
//
// The lifecycle of memory that a resize or Close drops:
//  1. Under the exclusive lock, the Region retires the memory: a
//     PROT_NONE reservation takes its place in one call ([Retirer]).
//  2. publish stores the next view in shared.cur and hands the
//     reservation to the view it replaced, by a cleanup on that view.
//  3. A call in flight still holds the old view on its stack (until its
//     runtime.KeepAlive): it either finished its copy before step 1, or
//     faults on the reservation and, seeing a newer view, returns
//     [ErrClosed] or runs again on the newer memory.
//  4. Once no call holds the old view, nor any older one over the same
//     memory (a view keeps its successor reachable through next while
//     the two start at the same address, so that an older view holds
//     back the cleanups of the newer ones that share its memory), the
//     cleanup unmaps the reservation, and only then can the addresses be
//     mapped again. A successor elsewhere (the memory moved, or Close)
//     shares none of it: the old memory is retired whole with the old
//     view, so a view that a call or a [Hold] keeps does not hold back
//     what later resizes retire.
//
// A Close whose view no lock-free call ever held (hold) skips steps 1
// and 4: no call can be copying, nor start to, so the Region unmaps the
// memory at once ([Unheld]). A file opened, read by WriteTo and closed
// so makes one system call fewer and leaves nothing to a cleanup.
type view struct {
	// base and size are the memory (bytes): a growth that keeps the
	// memory where it was and retires nothing (the mapping had room, or
	// grew in place) raises size rather than making a view, so that
	// appending allocates nothing. size never falls: a shrink makes a
	// new view.
	base   *byte
	size   atomic.Int64
	closed bool
	locked bool // calls must hold s.mu shared: no lock-free path
	// open: the lock-free paths are open (neither locked nor closed),
	// the written-out cases of ReadAt and WriteAt; guarded: open, and
	// the memory can fault, so they copy in the fault guard.
	open, guarded bool
	seq           uint64 // counts the views of the Region
	// held is set by the first lock-free call that copies from or to the
	// view's memory, before it copies (see hold): a Close that finds it
	// unset may unmap the memory at once rather than retire it.
	held atomic.Bool
	next *view // the view that replaced this one over the same memory; set under the exclusive lock
}

// publish makes s.buf and s.closed the view that the lock-free paths see,
// and gives what the Region retired since the last publish to the view it
// replaces. The caller holds s.mu exclusively.
func (s *shared) publish() {
	old := s.cur.Load()
	var gone [][]byte
	if s.retirer != nil && old != nil {
		gone = s.retirer.Retired()
	}
	if len(gone) == 0 && old.grownTo(s) {
		old.size.Store(int64(len(s.buf)))
		return
	}
	open := !s.closed && !s.locked
	v := &view{base: unsafe.SliceData(s.buf), closed: s.closed, locked: s.locked, open: open, guarded: open && s.faults}
	v.size.Store(int64(len(s.buf)))
	if old != nil {
		v.seq = old.seq + 1
	}
	s.cur.Store(v)
	if old == nil {
		return
	}
	if old.held.Load() {
		// A new view over memory that did not move (a shrink that kept
		// the mapping, the locked view of stopRetiring) is held by the
		// calls that held the old one: Close must not unmap it at once.
		v.held.Store(true)
	}
	if v.base == old.base {
		old.next = v
	}
	s.attach(old, gone)
}

// attach hands gone, memory that the Region retired, to the view old that
// held it: a cleanup unmaps it once no call holds old.
func (s *shared) attach(old *view, gone [][]byte) {
	if len(gone) == 0 {
		return
	}
	r := retired{gone: gone, pending: s.retiring, left: s.retiringLeft, mapped: !s.faults}
	for _, b := range gone {
		r.bytes += int64(len(b))
	}
	s.retiring.Add(r.bytes)
	runtime.AddCleanup(old, release, r)
	if r.mapped {
		retiredSince(r.bytes)
	}
}

// Memory retired still mapped (memory that cannot fault: a sealed memfd
// keeps its RAM until the cleanup unmaps it) waits for a collection to
// find that no call holds it, and a program that only closes such
// Regions allocates little heap to cause one: closed anonymous segments
// would hold their RAM for thousands of Closes. So once retireCollect
// bytes of it have been retired since the last collection that attach
// started began, attach starts one, and the collection runs again
// at once if that much more came while it ran. Memory that a call or a
// Hold keeps is counted once, not again at every Close. Reservations
// (PROT_NONE) hold no RAM, only addresses: they are left to the
// program's own collections, so that closing files never forces one.
var retire struct {
	mu         sync.Mutex
	since      int64 // bytes retired still mapped since the last collection began
	collecting bool
}

// retiredSince counts n bytes retired still mapped, and starts a
// collection on a goroutine of its own (the Close or resize does not
// wait) when they make retireCollect and none is running.
func retiredSince(n int64) {
	retire.mu.Lock()
	retire.since += n
	start := !retire.collecting && retire.since >= retireCollect
	retire.collecting = retire.collecting || start
	retire.mu.Unlock()
	if start {
		go collectRetired()
	}
}

// collectRetired collects until less than retireCollect was retired
// while the last collection ran.
func collectRetired() {
	for {
		retire.mu.Lock()
		retire.since = 0
		retire.mu.Unlock()
		runtime.GC()
		retire.mu.Lock()
		again := retire.since >= retireCollect
		retire.collecting = again
		retire.mu.Unlock()
		if !again {
			return
		}
	}
}

// hold marks v as held by a lock-free call and reports whether the call
// may copy: false when v is no longer the current view, and the call
// must load the view again. With Close's publish then load of held (see
// closeView), this is a Dekker pair: either Close sees held and retires
// the memory, or the call sees that v was replaced and leaves it alone.
// After the first call of a view it costs two loads of read-shared words.
func (s *shared) hold(v *view) bool {
	if !v.held.Load() {
		v.held.Store(true)
	}
	// Checked on every call, not only by the one that set held: a call
	// sent back by this check leaves held set behind a Close that had
	// already found it unset.
	return s.cur.Load() == v
}

// Hold keeps the addresses of a Region's memory from being mapped again
// while it is reachable; [HoldMemory] takes it.
type Hold struct {
	c *IO
	v *view // kept reachable: the cleanups that unmap retired memory wait for it
}

// HoldMemory returns the memory of r, an [IO] or a Region that embeds one
// (a section's part of it), for a caller that keeps pointers into it
// from one call to the next, as package ipc's Mutex does, with a [Hold]
// that keeps those addresses from being mapped again for as long as it
// is reachable. A Close or a resize that drops
// the memory then retires it as for a call in flight (see [Retirer]): a
// touch through the pointers faults (recover it with
// [debug.SetPanicOnFault]) or, on [FaultFree] memory, still reaches the
// memory that was dropped, but never lands in another mapping. A Region
// without Retirer (Windows views, System V segments outside Linux), or
// one that has stopped retiring, unmaps at once: HoldMemory then returns
// an error wrapping [ErrUnsupported], as it does for a Region that is not
// an IO, and one wrapping [ErrClosed] after Close.
func HoldMemory(r Region) ([]byte, *Hold, error) {
	core, ok := r.(interface{ core() *IO })
	if !ok {
		return nil, nil, &fs.PathError{Op: "hold", Path: r.Name(), Err: fmt.Errorf("%w: the region is not an IO, which alone can keep its addresses", ErrUnsupported)}
	}
	c := core.core()
	if err := c.pin("hold"); err != nil {
		return nil, nil, err
	}
	defer c.s.mu.RUnlock()
	v := c.s.cur.Load()
	if c.s.retirer == nil || c.s.locked || !v.open {
		return nil, nil, c.pathErr("hold", fmt.Errorf("%w: the region unmaps its memory at Close and cannot keep its addresses", ErrUnsupported))
	}
	// Set under the shared lock: a Close or resize, which takes it
	// exclusively, sees it and retires the memory rather than unmap it.
	v.held.Store(true)
	return c.view(), &Hold{c: c, v: v}, nil
}

// MemoryMoves reports whether r, an [IO] or a Region that embeds one, may
// map its memory afresh at other addresses while it is open: it can grow
// or shrink ([Resizer], [Grower]) or follow a size that another process
// changed ([Refresher]), as a file's mapping does. Code that keeps
// pointers into the memory needs a [Hold] then. A Region that is not an
// IO reports true: nothing here can tell.
func MemoryMoves(r Region) bool {
	core, ok := r.(interface{ core() *IO })
	if !ok {
		return true
	}
	s := core.core().s
	return s.resizer != nil || s.grower != nil || s.refresher != nil
}

// Memory returns the memory of the IO whose memory h holds as it is now,
// nil once closed. It takes no lock, so that a caller whose pointers
// faulted, which may hold the IO's lock already, can learn whether the
// memory moved.
func (h *Hold) Memory() []byte {
	v := h.c.s.cur.Load()
	if v.closed {
		return nil
	}
	return h.c.sub(v.bytes())
}

// Closed reports whether the IO whose memory h holds has been closed.
func (h *Hold) Closed() bool { return h.c.closed.Load() || h.c.s.cur.Load().closed }

// closeView publishes the closed view, and reports whether no lock-free
// call has held or can still hold the memory of the view it replaced:
// then that memory may be unmapped at once. The caller holds s.mu
// exclusively and has set s.closed; it hands what the Region retires
// meanwhile to the old view with attach.
func (s *shared) closeView() (old *view, unheld bool) {
	old = s.cur.Load()
	v := &view{closed: true, locked: s.locked, seq: old.seq + 1}
	s.cur.Store(v)
	return old, !old.held.Load()
}

// grownTo reports whether s.buf is the memory of v (a view that may be
// nil), grown or as it was, with the same closed and locked states: then
// raising v's size publishes it. The caller has found that nothing was
// retired, so while the Region retires, the memory at v's base is still
// the mapping it was (after StopRetiring a remap may land on the same
// base, which is harmless: locked views are read only under the lock).
func (v *view) grownTo(s *shared) bool {
	return v != nil && v.closed == s.closed && v.locked == s.locked &&
		v.base == unsafe.SliceData(s.buf) && int64(len(s.buf)) >= v.size.Load()
}

// bytes is the view's memory.
func (v *view) bytes() []byte { return unsafe.Slice(v.base, v.size.Load()) }

// retired is memory that a [Retirer] retired, waiting for its cleanup.
type retired struct {
	gone    [][]byte
	bytes   int64         // their total length
	pending *atomic.Int64 // shared.retiring
	left    *atomic.Int64 // shared.retiringLeft
	mapped  bool          // gone is still mapped, not reserved (see retiredSince)
}

// release unmaps reservations that a [Retirer] left, once nothing can
// touch them. An error cannot be reported to anyone: the addresses then
// stay reserved, inaccessible, which is safe.
func release(r retired) {
	unmapAll(r.gone)
	sys.Lower(r.left, r.pending.Add(-r.bytes))
}

func unmapAll(gone [][]byte) {
	for _, b := range gone {
		_ = sys.Release(b)
	}
}

// retireCollect is how much retired memory may wait for a collection
// before a remap under an address-space limit, or a Close of memory that
// stays mapped, asks for one.
const retireCollect = 64 << 20

// remap runs f, a call of the Region that may change its memory (Resize,
// Refresh, Grow), and publishes what it left. Retired memory keeps its
// addresses until a collection finds that no call holds it, and mapping
// afresh needs the old range and the new one at once, so a Region that
// grows can run out of address space (ENOMEM under RLIMIT_AS) where an
// unmapping Region would not: under such a limit remap runs a collection
// first when much is waiting, and after an ENOMEM stops the retiring
// (stopRetiring) and runs f once more. Without one a reservation costs
// only addresses, and a Write that grows a file does not wait for a
// collection of the program's heap. f must fail with ENOMEM only where
// it changed nothing. The caller holds s.mu exclusively.
func (s *shared) remap(f func() error) error {
	if s.retiring.Load()-s.retiringLeft.Load() >= retireCollect && sys.AddressSpaceLimited() {
		// Measured from what the last collection left: memory that a
		// call or a Hold keeps for long makes one collection, not one per
		// resize.
		runtime.GC()
		s.retiringLeft.Store(s.retiring.Load())
	}
	err := f()
	if errors.Is(err, syscall.ENOMEM) && s.stopRetiring() {
		err = f()
	}
	s.buf = s.region.Bytes()
	s.publish()
	return err
}

// stopRetiring turns the Region into one whose every call holds s.mu
// shared, as a Region without [Retirer] is, and reports whether it did:
// it publishes a view that sends every new call to the lock, waits until
// no call holds an older view and every retired range is unmapped (a
// collection finds both), then tells the Region ([Retirer.StopRetiring])
// that it may unmap and move memory again. A call in flight holds a view
// only for one copy, so the wait is short; it gives up after about a
// second, and the IO then stays with the lock, still retiring. The
// caller holds s.mu exclusively.
func (s *shared) stopRetiring() bool {
	if s.locked {
		return false
	}
	s.locked = true
	last := weak.Make(s.cur.Load())
	s.publish()
	for i := 0; i < 50 && (last.Value() != nil || s.retiring.Load() > 0); i++ {
		// A collection finds the views that no call holds; their
		// cleanups then run on a goroutine of the runtime's, which the
		// sleep lets run.
		runtime.GC()
		time.Sleep(time.Duration(min(i+1, 20)) * time.Millisecond)
	}
	if last.Value() != nil || s.retiring.Load() > 0 {
		return false
	}
	s.retirer.StopRetiring()
	return true
}

// sub returns the part of the Region's memory b that this IO sees.
func (c *IO) sub(b []byte) []byte {
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

// copyView copies src to dst, one of which lies in the memory of v, with
// a fault there caught: it returns the count and the offset of the fault
// in v's memory, or -1. It takes no lock; the caller keeps v alive until
// it returns.
func (s *shared) copyView(v *view, dst, src []byte) (n int, fault int64) {
	if !s.faults {
		return copy(dst, src), -1
	}
	fault = -1
	defer recoverView(debug.SetPanicOnFault(true), v, &fault)
	return copy(dst, src), -1
}

// guardedCopy copies src to dst with a fault caught: it returns nil, or
// the value that the fault's panic carried, for faultIn. It is the whole
// guard of ReadAt's and WriteAt's written-out paths, kept to one deferred
// call with two words of arguments: a store that misses the caches fills
// the CPU's store buffer, and every store on the path waits behind it.
func guardedCopy(dst, src []byte) (r any) {
	defer recoverValue(debug.SetPanicOnFault(true), &r)
	copy(dst, src)
	return nil
}

// recoverValue is the deferred end of guardedCopy: it restores the
// goroutine's fault setting and keeps what recover returns.
func recoverValue(old bool, r *any) {
	debug.SetPanicOnFault(old)
	*r = recover()
}

// recoverView is the deferred end of copyView: it restores the
// goroutine's fault setting and turns a fault inside v's memory into its
// offset. Any other panic is raised again, unchanged.
func recoverView(old bool, v *view, fault *int64) {
	debug.SetPanicOnFault(old)
	if r := recover(); r != nil {
		*fault = faultIn(r, v)
	}
}

// faultIn returns the offset in v's memory of the fault that the
// recovered panic value r reports; any other panic it raises again,
// unchanged.
func faultIn(r any, v *view) int64 {
	f, ok := r.(interface{ Addr() uintptr })
	b := v.bytes()
	if !ok || cap(b) == 0 {
		panic(r)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	addr := f.Addr()
	if addr < base || addr-base >= uintptr(cap(b)) {
		panic(r)
	}
	return int64(addr - base)
}

// settle tells apart a fault on the view numbered seq, with s.mu held
// shared (which waits for a resize or Close that was retiring the
// memory): it returns retry when a newer view has taken its place, so
// the call runs again on that; an error matching [ErrClosed] when the
// Region or this section was closed meanwhile; and otherwise nil: the
// view is the current one, s.buf its memory, and the fault a real one.
// The caller holds s.mu shared and no longer holds the view, so that a
// cleanup never waits for the lock.
func (c *IO) settle(seq uint64, op string) (retry bool, err error) {
	cur := c.s.cur.Load()
	if cur.closed || c.closed.Load() {
		return false, c.pathErr(op, ErrClosed)
	}
	return cur.seq != seq, nil
}
