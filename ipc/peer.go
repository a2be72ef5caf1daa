package ipc

// opPeer reads the peer's slot into e.snap.
func (e *end) opPeer(b []byte) error {
	if err := e.check(b); err != nil {
		return err
	}
	e.snap = readSlot(b, slotOff(e.peerSlot))
	return nil
}

// rewatch points the watcher at the peer's owner word in s. It returns
// true when the process is already gone (the pid has no process, or
// another one now).
func (e *end) rewatch(s peerSnap) (gone bool) {
	return e.watch.watch(s, e.onPeerExit)
}

// onPeerExit records the owner word of a peer whose process the watcher
// saw exit, and wakes the sleeper.
func (e *end) onPeerExit(word uint64) {
	e.gone.Store(word)
	e.kick()
}

func (e *end) stopWatch() { e.watch.stop() }

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
	if !suspect || e.alive(e.peerSlot, s) {
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
