package ipc

import (
	"context"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// end is what the writer and the reader share: the attachment to a slot,
// the waiting, the liveness watch, deadlines and Close. The words it
// sleeps on and wakes with depend on its role (see setup).
//
// Memory is touched only inside the Region's Access, so that a fault (the
// segment was truncated) is an error; the functions run there are method
// values made once (fn* fields), their arguments and results in fields
// guarded by mu, so that calls allocate nothing. Sleeps happen outside
// Access, so that closing the Region never waits for a sleeper.
type end struct {
	member // our slot, its lock, our owner word

	p    *Pipe
	acc  accessor
	name string
	role uint32 // roleWriter or roleReader
	mode WaitMode

	capacity uint64
	mask     uint64
	msg      bool
	dataOff  int // where the ring starts (the header's data_offset)
	need     int // bytes the memory must hold: header and ring

	// Offsets of the words of each side (see setup).
	peerSlot                 int
	ownState, peerState      int
	ownPos, peerPos          int
	ownSeq, ownSleepers      int
	peerSeq, peerSleepers    int
	waits                    *waits // the wait words' objects, from attach to detach
	closed                   atomic.Bool
	deadline                 atomic.Int64  // absolute, on the sys.Now clock; 0: none
	gone                     atomic.Uint64 // a peer owner word whose process the watcher saw exit
	mu                       sync.Mutex    // serialises the calls; guards everything below
	pos, other               uint64        // own position, and the peer's as last loaded
	want                     uint64        // what a wait needs: free bytes (writer), buffered bytes (reader)
	status                   int           // result of cond
	seqAddr                  *uint32       // the word a sleep waits on
	seqVal                   uint32        // its value before the sleeper registered
	registered               bool          // own sleepers word raised
	wokePeer                 bool          // a publish woke the peer since the last spin
	spin                     spinner
	snap                     peerSnap
	watch                    watcher
	fnCond, fnSpin, fnPrep   func([]byte) error
	fnUnreg, fnPeer, fnClose func([]byte) error
	fnKick                   func([]byte) error // safe to run concurrently: uses no guarded field
	fnWakeTime               func([]byte) error
	wakeAt                   int64 // the wake time a woken sleeper read
	kickFn                   func()
}

// Results of cond.
const (
	stNotReady   = iota
	stReady      // the ring has what the wait needs
	stPeerClosed // the peer closed its end: EOF for the reader, EPIPE for the writer
)

// setup makes e an end of p in the given role.
func (e *end) setup(p *Pipe, role uint32, mode WaitMode) {
	e.p, e.acc, e.name, e.role, e.mode = p, p.acc, p.name, role, mode
	e.capacity, e.mask, e.msg = p.capacity, p.capacity-1, p.kind == kindMessages
	e.dataOff = int(p.dataOff)
	e.need = e.dataOff + int(p.capacity)
	if role == roleWriter {
		e.slot, e.peerSlot = slotWriter, slotReader
		e.ownState, e.peerState = offWriterState, offReaderState
		e.ownPos, e.peerPos = offTail, offHead
		e.ownSeq, e.ownSleepers = offSpaceSeq, offSpaceSleepers
		e.peerSeq, e.peerSleepers = offDataSeq, offDataSleepers
	} else {
		e.slot, e.peerSlot = slotReader, slotWriter
		e.ownState, e.peerState = offReaderState, offWriterState
		e.ownPos, e.peerPos = offHead, offTail
		e.ownSeq, e.ownSleepers = offDataSeq, offDataSleepers
		e.peerSeq, e.peerSleepers = offSpaceSeq, offSpaceSleepers
	}
	e.at = slotOff(e.slot)
	e.fnCond = e.opCond
	e.fnSpin = e.opSpin
	e.fnPrep = e.opPrepare
	e.fnUnreg = e.opUnregister
	e.fnPeer = e.opPeer
	e.fnClose = e.opClose
	e.fnKick = e.opKick
	e.fnWakeTime = e.opWakeTime
	e.kickFn = e.kick
}

func (e *end) roleName() string {
	if e.role == roleWriter {
		return "writer"
	}
	return "reader"
}

func (e *end) peerName() string {
	if e.role == roleWriter {
		return "reader"
	}
	return "writer"
}

// access runs fn in the Region's Access and names op in its error.
func (e *end) access(op string, fn func([]byte) error) error {
	if err := e.acc.Access(fn); err != nil {
		return opErr(op, e.name, err)
	}
	return nil
}

// check refuses memory that no longer holds the pipe: a Region that
// shrank (a file truncated through its mapping).
func (e *end) check(b []byte) error {
	if len(b) < e.need {
		return detail(ErrCorrupt, "region shrank to %d bytes; the pipe needs %d", len(b), e.need)
	}
	return nil
}

// enter starts a call: it takes mu and fails once the end is closed.
func (e *end) enter(op string) error {
	e.mu.Lock()
	if e.closed.Load() {
		e.mu.Unlock()
		return pathErr(op, e.name, ErrClosed)
	}
	return nil
}

// expired returns the error of a call made after its deadline or with
// its context done, as os.File and net.Conn fail such calls at once.
func (e *end) expired(ctx context.Context, op string) error {
	if dl := e.deadline.Load(); dl != 0 && sys.Now() >= dl {
		return pathErr(op, e.name, os.ErrDeadlineExceeded)
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return pathErr(op, e.name, err)
		}
	}
	return nil
}

// wakePeer wakes the peer if it is asleep, after a store of our
// position: the Dekker pair of section 6.3 of the layout (Go's atomics
// are sequentially consistent).
func (e *end) wakePeer(b []byte) {
	if atomic.LoadUint32(u32(b, e.peerSleepers)) != 0 {
		atomic.StoreUint64(u64(b, e.peerSeq+offWakeTime), uint64(sys.Now()))
		atomic.AddUint32(u32(b, e.peerSeq), 1)
		e.waits.wake(b, e.peerSeq)
		e.wokePeer = true
	}
}

// timeWake records, for the Adaptive mode, how long the wake-up that
// ended a sleep begun at slept took: from the time the waker stored to
// now. A wake-up stored before the sleep began was another's.
func (e *end) timeWake(op string, slept int64) {
	if e.mode != Adaptive {
		return
	}
	if e.access(op, e.fnWakeTime) == nil && e.wakeAt > slept {
		e.spin.woken(sys.Now() - e.wakeAt)
	}
}

func (e *end) opWakeTime(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	e.wakeAt = int64(atomic.LoadUint64(u64(b, e.ownSeq+offWakeTime)))
	return nil
}

// wakeAll wakes whoever sleeps on either futex word: after attaching and
// on Close, so that the peer re-reads the slots and states.
func (e *end) wakeAll(b []byte) {
	for _, off := range [...]int{offDataSeq, offSpaceSeq} {
		atomic.AddUint32(u32(b, off), 1)
		e.waits.wake(b, off)
	}
}

// cond checks whether the ring has what the wait needs (e.want), or the
// peer has closed, and records the result in e.status. It loads the
// peer's position into e.other.
func (e *end) cond(b []byte) error {
	if e.role == roleWriter {
		if atomic.LoadUint32(u32(b, e.peerState)) == roleClosed {
			e.status = stPeerClosed
			return nil
		}
		head := atomic.LoadUint64(u64(b, offHead))
		used := e.pos - head
		if used > e.capacity {
			return e.corruptPositions(e.pos, head)
		}
		e.other = head
		e.status = stNotReady
		if e.capacity-used >= e.want {
			e.status = stReady
		}
		return nil
	}
	tail := atomic.LoadUint64(u64(b, offTail))
	if tail == e.pos && atomic.LoadUint32(u32(b, e.peerState)) == roleClosed {
		// The writer stores its last tail before it closes.
		tail = atomic.LoadUint64(u64(b, offTail))
		if tail == e.pos {
			e.status = stPeerClosed
			return nil
		}
	}
	if tail-e.pos > e.capacity {
		return e.corruptPositions(tail, e.pos)
	}
	if e.msg && tail%frameHeader != 0 {
		return detail(ErrCorrupt, "tail %d (offset %d) of a message pipe is not a multiple of %d", tail, offTail, frameHeader)
	}
	e.other = tail
	e.status = stNotReady
	if tail-e.pos >= e.want {
		e.status = stReady
	}
	return nil
}

func (e *end) corruptPositions(tail, head uint64) error {
	return detail(ErrCorrupt, "tail %d and head %d (offsets %d and %d) are %d bytes apart, more than the capacity %d",
		tail, head, offTail, offHead, tail-head, e.capacity)
}

func (e *end) opCond(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	return e.cond(b)
}

// The spinning of the Adaptive mode. A call that finds the ring not ready
// polls it, inside the same Access, for at most spinFor before it sleeps,
// and only while the peer can make progress: it is attached, and not
// asleep on the pipe (unless this end just woke it). What the spins teach
// decides the next ones, by time rather than by count, so that the share
// of waits that spin in vain stays small whatever the rate of calls:
//   - spins that fail (the peer took longer than spinFor: it was asleep,
//     or slow) more than calmAfter times in a row stop spinning for 1 ms,
//     then 2, 4, ... up to maxCalm while failures follow one another; a
//     spin that succeeds ends that;
//   - a spin that finds itself preempted (a gap of preemptGap between two
//     looks at the clock: the CPU went to another thread) counts as a
//     failure and stops spinning for at least calmPreempted: the machine
//     is oversubscribed, and spinning would take the CPU from the peer it
//     waits for;
//   - wake-ups are timed: the waker stores the time in the shared memory
//     (data_wake_time, space_wake_time) before its FUTEX_WAKE, and the
//     woken end measures how long it took to run. While that is short
//     (under wakeFast on average) the CPUs are busy and a wake-up finds
//     one awake: a sleep costs about what a spin does, spinning would
//     only take CPU from the peer, and waits do not spin. On an idle
//     machine a wake-up must first wake a sleeping CPU, tens of
//     microseconds in a virtual machine, and spinning pays.
const (
	spinFor       = 50 * time.Microsecond
	spinChunk     = 50 * time.Microsecond // SpinOnly's time in Access between checks
	preemptGap    = 50 * time.Microsecond
	firstCalm     = time.Millisecond
	maxCalm       = 100 * time.Millisecond
	calmPreempted = 20 * time.Millisecond
	calmAfter     = 3 // failures in a row that do not stop spinning yet
	wakeFast      = 10 * time.Microsecond
)

// numCPU is read once: spinning on one CPU can only delay the peer.
var numCPU = runtime.NumCPU()

type spinner struct {
	fails   int   // spins in a row that failed
	calm    int64 // no spin before this time (sys.Now)
	wakeAvg int64 // moving average of wake-up latencies, in ns; 0: none yet
}

func (s *spinner) ok() { s.fails, s.calm = 0, 0 }

func (s *spinner) failed(now int64, least time.Duration) {
	if least > 0 {
		// Preempted: the machine is oversubscribed, and the next failure
		// stops spinning at once.
		s.fails = max(s.fails, calmAfter)
	}
	s.fails = min(s.fails+1, 16)
	var d time.Duration
	if s.fails > calmAfter {
		d = min(firstCalm<<(s.fails-calmAfter-1), maxCalm)
	}
	if d = max(d, least); d > 0 {
		s.calm = now + int64(d)
	}
}

// woken records a wake-up that took d ns, from the peer's wake call to
// this end running again.
func (s *spinner) woken(d int64) {
	if d < 0 || d > int64(time.Second) {
		return // a clock read that belongs to another wake-up
	}
	if s.wakeAvg == 0 {
		s.wakeAvg = d
	}
	// Slowly: the cost is in the tail (a CPU to wake now and then), which
	// a quick average would forget between two slow wake-ups.
	s.wakeAvg += (d - s.wakeAvg) / 32
}

// pays reports whether spinning saves much over sleeping: whether wake-ups
// have been slow, or are not known yet.
func (s *spinner) pays() bool { return s.wakeAvg == 0 || s.wakeAvg >= int64(wakeFast) }

// maySpin decides whether a wait starts with a spin (Adaptive mode).
func (e *end) maySpin(b []byte) bool {
	woke := e.wokePeer
	e.wokePeer = false
	if numCPU < 2 || e.spin.calm != 0 && sys.Now() < e.spin.calm || !e.spin.pays() {
		return false
	}
	w := atomic.LoadUint64(u64(b, slotOff(e.peerSlot)+offSlotOwner))
	return ownerState(w) == slotAttached && (woke || atomic.LoadUint32(u32(b, e.peerSleepers)) == 0)
}

// spinWait polls cond, after it said not ready, as the wait mode allows:
// not at all (SleepOnly, or Adaptive when maySpin says no), for spinFor
// (Adaptive) or for spinChunk (SpinOnly, whose caller spins again). It
// leaves the outcome in e.status.
func (e *end) spinWait(b []byte) error {
	switch e.mode {
	case SleepOnly:
		return nil
	case Adaptive:
		if !e.maySpin(b) {
			return nil
		}
	}
	limit := spinFor
	if e.mode == SpinOnly {
		limit = spinChunk
	}
	last := sys.Now()
	until := last + int64(limit)
	for i := 0; ; i++ {
		if err := e.cond(b); err != nil || e.status != stNotReady {
			if e.mode == Adaptive && err == nil {
				e.spin.ok()
			}
			return err
		}
		if i&63 != 63 {
			continue
		}
		now := sys.Now()
		if e.mode == Adaptive && now-last > int64(preemptGap) {
			e.spin.failed(now, calmPreempted)
			return nil
		}
		last = now
		if now >= until || e.closed.Load() || e.gone.Load() != 0 {
			if e.mode == Adaptive {
				e.spin.failed(now, 0)
			}
			return nil
		}
	}
}

// opSpin is SpinOnly's poll between its checks.
func (e *end) opSpin(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	if err := e.cond(b); err != nil || e.status != stNotReady {
		return err
	}
	return e.spinWait(b)
}

// opPrepare is the first half of a sleep (section 6.3 of the layout): it
// reads the futex word, raises the sleepers word (lowered again when the
// sleep ends), then checks cond. Everything that can end the sleep from this
// process (Close, a deadline change, a context, the watcher) changes its
// state first and then bumps the futex word, so the checks that follow
// opPrepare cannot miss it.
func (e *end) opPrepare(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	e.seqAddr = u32(b, e.ownSeq)
	e.seqVal = atomic.LoadUint32(e.seqAddr)
	if !e.registered {
		atomic.AddUint32(u32(b, e.ownSleepers), 1)
		e.registered = true
	}
	return e.cond(b)
}

func (e *end) opUnregister(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	if e.registered {
		atomic.AddUint32(u32(b, e.ownSleepers), ^uint32(0))
		e.registered = false
	}
	return nil
}

// opKick wakes this end's own sleeper, in any goroutine: it bumps the
// word the sleeper waits on, so that a sleep about to begin returns at
// once.
func (e *end) opKick(b []byte) error {
	if len(b) < e.need {
		return nil
	}
	atomic.AddUint32(u32(b, e.ownSeq), 1)
	e.waits.wake(b, e.ownSeq)
	return nil
}

// kick makes a blocked call of this end re-check its state. Errors are
// dropped: a sleeper whose memory is gone wakes at its next re-check.
func (e *end) kick() { _ = e.acc.Access(e.fnKick) }

// How long a sleep lasts at most: the sleeper then re-checks everything,
// its peer's liveness included. With a pidfd watching the peer, deaths
// wake the sleeper at once and the re-check is a safety net; without one
// (the peer is in another PID namespace, or the kernel has no pidfds) it
// is how a death is found.
const (
	recheckWatched   = time.Second
	recheckUnwatched = 50 * time.Millisecond
)

// await blocks until cond holds for want (or the peer closed; the caller
// sees which on its next step), or fails: the end was closed, the
// deadline or the context expired, the peer died, or the memory faulted.
// The caller holds mu.
func (e *end) await(ctx context.Context, op string, want uint64) error {
	e.want = want
	if e.closed.Load() {
		return pathErr(op, e.name, ErrClosed)
	}
	if e.mode == SpinOnly {
		return e.awaitSpinning(ctx, op)
	}
	// In Adaptive mode the op that found the ring not ready has spun
	// already (spinWait): what is left is to sleep.
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
		if e.registered {
			_ = e.access(op, e.fnUnreg)
		}
	}()
	force := false
	for {
		if err := e.access(op, e.fnPrep); err != nil {
			return err
		}
		if e.closed.Load() {
			// Closed while asleep: whatever woke the sleep, the call
			// ends with fs.ErrClosed.
			return pathErr(op, e.name, ErrClosed)
		}
		if e.status != stNotReady {
			return nil
		}
		until, err := e.ready(ctx, op, &force)
		if err != nil || until == 0 {
			return err
		}
		if stop == nil && ctx != nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, e.kickFn)
		}
		slept := sys.Now()
		timedOut, err := e.waits.sleep(e.seqAddr, e.ownSeq, e.seqVal, until)
		if !timedOut && err == nil {
			e.timeWake(op, slept)
		}
		// Lower the sleepers word at once: while it is raised the peer
		// wakes us on every publish, and does not spin.
		if uerr := e.access(op, e.fnUnreg); uerr != nil {
			return uerr
		}
		if err != nil {
			// EFAULT: the memory went away; Access says why.
			if aerr := e.access(op, e.fnCond); aerr != nil {
				return aerr
			}
			return pathErr(op, e.name, err)
		}
		force = timedOut
	}
}

// ready runs the checks between opPrepare and a sleep: Close, the
// context, the deadline, the peer's liveness. It returns the deadline of
// the sleep, or 0 and nil when the ring turned out ready after all.
func (e *end) ready(ctx context.Context, op string, force *bool) (int64, error) {
	if e.closed.Load() {
		return 0, pathErr(op, e.name, ErrClosed)
	}
	dl := e.deadline.Load()
	ctxErr := error(nil)
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return 0, pathErr(op, e.name, err)
		}
		if d, ok := ctx.Deadline(); ok {
			if cd := clockAt(d); dl == 0 || cd < dl {
				dl, ctxErr = cd, context.DeadlineExceeded
			}
		}
	}
	now := sys.Now()
	if dl != 0 && now >= dl {
		if ctxErr != nil {
			return 0, pathErr(op, e.name, ctxErr)
		}
		return 0, pathErr(op, e.name, os.ErrDeadlineExceeded)
	}
	if *force && e.lockFile != nil {
		// A sleeper touches only the header: a file cut short under the
		// ring would go unseen until data came.
		if size, err := sys.FileSize(int(e.lockFile.Fd())); err == nil && size < e.fileSize {
			return 0, pathErr(op, e.name, detail(ioadapt.ErrFault,
				"the region's file shrank from %d to %d bytes under the pipe", e.fileSize, size))
		}
	}
	dead, pid, err := e.peerDead(op, *force)
	*force = false
	if err != nil {
		return 0, err
	}
	if dead {
		// The peer may have committed after the last check and before
		// dying: every committed byte is read before the death is told.
		if err := e.access(op, e.fnCond); err != nil {
			return 0, err
		}
		if e.status != stNotReady {
			return 0, nil
		}
		return 0, e.deadErr(op, pid)
	}
	interval := recheckUnwatched
	if e.watch.pidfd != nil {
		interval = recheckWatched
	}
	until := now + int64(interval)
	if dl != 0 && dl < until {
		until = dl
	}
	return until, nil
}

// awaitSpinning is await for SpinOnly: it polls in chunks of spinChunk
// inside Access, and between them does the checks a sleeper does,
// yielding the processor to other goroutines.
func (e *end) awaitSpinning(ctx context.Context, op string) error {
	lastCheck := sys.Now()
	for {
		if err := e.access(op, e.fnSpin); err != nil {
			return err
		}
		if e.status != stNotReady {
			return nil
		}
		force := false
		if now := sys.Now(); now-lastCheck >= int64(recheckUnwatched) {
			force, lastCheck = true, now
		}
		if _, err := e.ready(ctx, op, &force); err != nil {
			return err
		}
		runtime.Gosched()
	}
}

func (e *end) deadErr(op string, pid int) error {
	return pathErr(op, e.name, detail(ErrPeerDead, "%s process %d died without closing its end of the pipe", e.peerName(), pid))
}

func (e *end) epipe(op string) error {
	return pathErr(op, e.name, details([]error{syscall.EPIPE}, "broken pipe: the reader closed its end"))
}

// clockAt converts the deadline t to the sys.Now clock of the waits,
// never 0 (which means none). It saturates: time.Until does, about 292
// years out, and the sum would then wrap to a time long past, failing at
// once a call meant to wait for ever. A deadline past the clock's range
// is the largest value, which no wait reaches.
func clockAt(t time.Time) int64 {
	now, d := sys.Now(), int64(time.Until(t))
	if d > 0 && now > math.MaxInt64-d {
		return math.MaxInt64
	}
	return max(now+d, 1)
}

// setDeadline sets the deadline of the blocking calls, in progress and
// future, and wakes a blocked call so that it sees it.
func (e *end) setDeadline(op string, t time.Time) error {
	if e.closed.Load() {
		return pathErr(op, e.name, ErrClosed)
	}
	var v int64
	if !t.IsZero() {
		v = clockAt(t)
	}
	e.deadline.Store(v)
	e.kick()
	return nil
}

// close detaches the end: section 4.2 of the layout.
func (e *end) close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return pathErr("close", e.name, ErrClosed)
	}
	e.kick() // a blocked call returns fs.ErrClosed
	return e.detach()
}

// detach finishes a close: it waits for the call in progress, then
// leaves the slot.
func (e *end) detach() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.access("close", e.fnClose)
	e.waits.close()
	e.stopWatch()
	e.unlockSlot()
	e.p.forget(e)
	return err
}

func (e *end) opClose(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	if e.registered {
		atomic.AddUint32(u32(b, e.ownSleepers), ^uint32(0))
		e.registered = false
	}
	atomic.StoreUint32(u32(b, e.ownState), roleClosed)
	e.wakeAll(b)
	e.leave(b)
	if atomic.LoadUint32(u32(b, e.peerState)) == roleClosed {
		atomic.CompareAndSwapUint32(u32(b, offState), stateReady, stateClosed)
	}
	return nil
}
