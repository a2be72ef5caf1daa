package ipc

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// identity is a process as a slot records it.
type identity struct {
	pid   int
	start uint64 // field 22 of /proc/PID/stat
	pidNS uint64
}

// self is this process.
var self = sync.OnceValues(func() (identity, error) {
	id := identity{pid: os.Getpid()}
	var err error
	if id.start, _, err = sys.ProcStat(id.pid); err != nil {
		return id, err
	}
	if id.pidNS, err = sys.PidNamespace(); err != nil {
		return id, err
	}
	return id, nil
})

// peerSnap is the peer's slot, as opPeer last read it.
type peerSnap struct {
	word  uint64
	start uint64
	pidNS uint64
}

// opPeer reads the peer's slot: the owner word, then the fields it
// publishes, then the word again, until both reads agree.
func (e *end) opPeer(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	so := slotOff(e.peerSlot)
	for {
		w := atomic.LoadUint64(u64(b, so+offSlotOwner))
		start := atomic.LoadUint64(u64(b, so+offSlotStart))
		ns := atomic.LoadUint64(u64(b, so+offSlotPidNS))
		if atomic.LoadUint64(u64(b, so+offSlotOwner)) == w {
			e.snap = peerSnap{word: w, start: start, pidNS: ns}
			return nil
		}
	}
}

// watcher waits, in a goroutine parked in the network poller (no thread
// held), for the exit of the process that owns the peer's slot, and then
// records its owner word in e.gone and wakes the sleeper.
type watcher struct {
	word  uint64 // the owner word watched; 0: none
	pidfd *sys.Pidfd
	done  chan struct{}
}

// rewatch points the watcher at the owner word w. It returns true when
// the process is already gone (the pid has no process, or another one
// now).
func (e *end) rewatch(s peerSnap) (gone bool) {
	e.stopWatch()
	e.watch.word = s.word
	id, err := self()
	if err != nil || s.pidNS != id.pidNS {
		return false // pids of another namespace mean nothing here
	}
	pid := ownerPid(s.word)
	pfd, err := sys.OpenPidfd(pid)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	// The pidfd refers to whichever process had the pid when it was
	// opened: the start time tells whether that is the slot's owner.
	start, state, err := sys.ProcStat(pid)
	if err != nil || start != s.start || state == 'Z' || state == 'X' {
		pfd.Close()
		return err == nil || errors.Is(err, fs.ErrNotExist)
	}
	done := make(chan struct{})
	e.watch.pidfd, e.watch.done = pfd, done
	w := s.word
	go func() {
		defer close(done)
		if pfd.Wait() == nil {
			e.gone.Store(w)
			e.kick()
		}
	}()
	return false
}

func (e *end) stopWatch() {
	if e.watch.pidfd != nil {
		e.watch.pidfd.Close()
		<-e.watch.done
		e.watch.pidfd, e.watch.done = nil, nil
	}
	e.watch.word = 0
}

// peerDead tells whether the process attached at the other end has died:
// it reads the slot, keeps the watcher on its owner, and, when the
// watcher saw an exit or force asks, checks liveness (section 5 of the
// layout). A peer not attached is not dead: it may come.
func (e *end) peerDead(op string, force bool) (dead bool, pid int, err error) {
	if err := e.access(op, e.fnPeer); err != nil {
		return false, 0, err
	}
	s := e.snap
	if ownerState(s.word) == slotFree {
		e.stopWatch()
		return false, 0, nil
	}
	suspect := force || e.gone.Load() == s.word
	if s.word != e.watch.word && e.rewatch(s) {
		suspect = true
	}
	if !suspect || e.alive(s) {
		return false, 0, nil
	}
	if err := e.access(op, e.fnPeer); err != nil {
		return false, 0, err
	}
	if e.snap.word != s.word {
		return false, 0, nil // someone took the slot meanwhile
	}
	return true, ownerPid(s.word), nil
}

// alive reports whether the owner of the peer's slot is alive, as far as
// this process can tell: with locks, whether its lock byte is held; else
// whether its pid still has a process with its start time. Doubt counts
// as alive.
func (e *end) alive(s peerSnap) bool {
	if e.lockFile != nil {
		held, err := sys.ByteLocked(int(e.lockFile.Fd()), int64(e.p.lockBase)+int64(e.peerSlot))
		return err != nil || held
	}
	return pidAlive(s)
}

func pidAlive(s peerSnap) bool {
	id, err := self()
	if err != nil || s.pidNS != id.pidNS && ownerState(s.word) == slotAttached {
		return true
	}
	start, state, err := sys.ProcStat(ownerPid(s.word))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	if state == 'Z' || state == 'X' {
		return false
	}
	// A claimer that died before writing its start time left 0.
	return s.start == 0 || start == s.start
}
