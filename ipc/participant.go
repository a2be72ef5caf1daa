package ipc

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// What every kind of ipc object shares about its participants (section 4
// of the layout): the slots that record who is attached, the lock bytes
// and pids that tell whether they are alive (section 5), and the watch
// that wakes a sleeper when one of them exits. Pipe ends, Mutexes,
// Semaphores and Events are each a member of one slot.

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

// peerSnap is a slot as readSlot last read it.
type peerSnap struct {
	word  uint64
	start uint64
	pidNS uint64
}

// readSlot reads the slot at offset so: the owner word, then the fields
// it publishes, then the word again, until both reads agree.
func readSlot(b []byte, so int) peerSnap {
	for {
		w := atomic.LoadUint64(u64(b, so+offSlotOwner))
		start := atomic.LoadUint64(u64(b, so+offSlotStart))
		ns := atomic.LoadUint64(u64(b, so+offSlotPidNS))
		if atomic.LoadUint64(u64(b, so+offSlotOwner)) == w {
			return peerSnap{word: w, start: start, pidNS: ns}
		}
	}
}

// member is this process's attachment to one slot of an object.
type member struct {
	slot     int      // our slot's index: its lock byte, its bit in a sleepers mask
	at       int      // our slot's offset in the object
	lockFile *os.File // our own description of the lock file; nil without flagLocks
	lockBase uint64   // the header's lock_base
	fileSize int64    // the lock file's size when attached
	word     uint64   // our owner word, as attached
}

// lockSlot opens a description of lf of our own and takes the lock byte
// of slot (section 5.1), without waiting. busy reports that another
// description, a live process's, holds it.
func (m *member) lockSlot(lf *os.File, lockBase uint64, slot int) (busy bool, err error) {
	m.slot, m.lockBase = slot, lockBase
	fd, err := sys.Reopen(int(lf.Fd()))
	if err != nil {
		return false, err
	}
	f := os.NewFile(uintptr(fd), lf.Name())
	ok, err := sys.LockByte(fd, int64(lockBase)+int64(slot))
	if err != nil || !ok {
		f.Close()
		return err == nil, err
	}
	m.lockFile = f
	m.fileSize, _ = sys.FileSize(fd)
	return false, nil
}

// unlockSlot closes our description of the lock file, which releases the
// slot's lock byte.
func (m *member) unlockSlot() {
	if m.lockFile != nil {
		m.lockFile.Close()
		m.lockFile = nil
	}
}

// claim takes our slot (m.slot, at offset m.at) in the memory b: steps 2-5 of section 4.1.
// Without a lock file the previous owner's pid decides whether the slot
// may be taken; holding the slot's lock byte proves it dead. A live
// owner gets the error inUse makes of its pid.
func (m *member) claim(b []byte, id identity, role uint32, inUse func(pid int) error) error {
	so := m.at
	ow := u64(b, so+offSlotOwner)
	for tries := 0; ; tries++ {
		old := atomic.LoadUint64(ow)
		if ownerState(old) != slotFree && m.lockFile == nil && pidAlive(readSlot(b, so)) {
			return inUse(ownerPid(old))
		}
		claiming := owner(slotClaiming, ownerEpoch(old)+1, id.pid)
		if !atomic.CompareAndSwapUint64(ow, old, claiming) {
			if tries > 1000 {
				return detail(ErrInUse, "slot %d keeps changing (owner word %#x)", m.slot, old)
			}
			continue
		}
		atomic.StoreUint32(u32(b, so+offSlotRole), role)
		atomic.StoreUint64(u64(b, so+offSlotStart), id.start)
		atomic.StoreUint64(u64(b, so+offSlotPidNS), id.pidNS)
		m.word = owner(slotAttached, ownerEpoch(claiming), id.pid)
		atomic.StoreUint64(ow, m.word)
		return nil
	}
}

// leave frees our slot (section 4.2, step 3), unless another process
// took it meanwhile.
func (m *member) leave(b []byte) {
	atomic.CompareAndSwapUint64(u64(b, m.at+offSlotOwner), m.word, owner(slotFree, ownerEpoch(m.word), 0))
}

// alive reports whether the owner of slot i (by index), as read in s, is alive, as
// far as this process can tell: with locks, whether its lock byte is
// held; else whether its pid still has a process with its start time.
// Doubt counts as alive.
func (m *member) alive(i int, s peerSnap) bool {
	if m.lockFile != nil {
		held, err := sys.ByteLocked(int(m.lockFile.Fd()), int64(m.lockBase)+int64(i))
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
	if ownerState(s.word) == slotClaiming {
		// A claimer writes its start time after its pid: until then the
		// slot shows the previous owner's.
		return true
	}
	// A claimer that died before writing its start time left 0.
	return s.start == 0 || start == s.start
}

// watcher waits, in a goroutine parked in the network poller (no thread
// held), for the exit of the process that owns a slot, and then calls
// exited with the owner word it watched.
type watcher struct {
	word  uint64 // the owner word watched; 0: none
	pidfd *sys.Pidfd
	done  chan struct{}
}

// watch points the watcher at the owner of the slot read in s. It
// returns true when that process is already gone or going: the pid has
// no process, or another one now, or its process is a zombie. A zombie
// is still watched: its leader thread can be one while other threads
// are still exiting and hold the process's files, and so its lock
// bytes, which alive reads; its pidfd polls readable only once the
// last thread is gone (pidfd_open(2)), after the kernel closed the
// files, so that its exit wakes a sleeper that found it still alive.
func (w *watcher) watch(s peerSnap, exited func(word uint64)) (gone bool) {
	w.stop()
	w.word = s.word
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
	if err != nil || start != s.start {
		pfd.Close()
		return err == nil || errors.Is(err, fs.ErrNotExist)
	}
	gone = state == 'Z' || state == 'X'
	done := make(chan struct{})
	w.pidfd, w.done = pfd, done
	word := s.word
	go func() {
		defer close(done)
		if pfd.Wait() == nil {
			exited(word)
		}
	}()
	return gone
}

// stop ends the watch, if any, and waits for its goroutine.
func (w *watcher) stop() {
	if w.pidfd != nil {
		w.pidfd.Close()
		<-w.done
		w.pidfd, w.done = nil, nil
	}
	w.word = 0
}
