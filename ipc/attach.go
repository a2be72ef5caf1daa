package ipc

import (
	"io/fs"
	"sync/atomic"
)

// Writer attaches this process as the pipe's writer and returns the
// writing end. A pipe has one writer at a time: while a live process
// (this one included) holds the end, Writer fails with an error wrapping
// [ErrInUse] that gives its pid. The end of a writer that died without
// closing is taken over: the new writer goes on after the last byte the
// dead one committed, and the reader, which got [ErrPeerDead], can read
// again. A writer that closed its end ended the stream for good: Writer
// then fails with an error wrapping [fs.ErrClosed].
//
// Options: [WithWaitMode] (default: the Pipe's). Writer does not block.
func (p *Pipe) Writer(opts ...Option) (*Writer, error) {
	w := &Writer{}
	if err := p.attach(&w.end, roleWriter, "openwriter", opts); err != nil {
		return nil, err
	}
	w.init()
	return w, nil
}

// Reader attaches this process as the pipe's reader and returns the
// reading end, with the rules of [Pipe.Writer]: one reader at a time
// ([ErrInUse]), a dead reader's end taken over (the new reader starts at
// the first byte the dead one had not released), a closed one final
// ([fs.ErrClosed]). The reader may attach before or after the writer, and
// after the writer has closed: it then reads what was left, then
// [io.EOF].
func (p *Pipe) Reader(opts ...Option) (*Reader, error) {
	r := &Reader{}
	if err := p.attach(&r.end, roleReader, "openreader", opts); err != nil {
		return nil, err
	}
	r.init()
	return r, nil
}

// attach claims the role's slot (section 4.1 of the layout) for e.
func (p *Pipe) attach(e *end, role uint32, op string, opts []Option) error {
	c := config{wait: p.wait}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if err := c.wait.check(); err != nil {
		return pathErr(op, p.name, err)
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return pathErr(op, p.name, ErrClosed)
	}
	id, err := self()
	if err != nil {
		return pathErr(op, p.name, err)
	}
	e.setup(p, role, c.wait)
	if e.waits, err = openWaits(p.waitID, offDataSeq, offSpaceSeq); err != nil {
		return pathErr(op, p.name, err)
	}

	if p.lockFile != nil {
		busy, err := e.lockSlot(p.lockFile, p.lockBase, e.slot)
		if err != nil {
			e.waits.close()
			return pathErr(op, p.name, err)
		}
		if busy {
			e.waits.close()
			return pathErr(op, p.name, p.inUse(e))
		}
	}
	err = e.access(op, func(b []byte) error { return e.claim(b, id) })
	if err != nil {
		e.waits.close()
		e.unlockSlot()
		return err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		e.close()
		return pathErr(op, p.name, ErrClosed)
	}
	if p.ends == nil {
		p.ends = make(map[*end]struct{})
	}
	p.ends[e] = struct{}{}
	p.mu.Unlock()
	return nil
}

// inUse is the error for a slot whose lock a live process holds.
func (p *Pipe) inUse(e *end) error {
	var w uint64
	_ = p.acc.Access(func(b []byte) error {
		if len(b) >= e.need {
			w = atomic.LoadUint64(u64(b, slotOff(e.slot)+offSlotOwner))
		}
		return nil
	})
	return detail(ErrInUse, "pipe already has a %s: pid %d", e.roleName(), ownerPid(w))
}

// claim takes the slot in the memory b: steps 2-7 of section 4.1.
func (e *end) claim(b []byte, id identity) error {
	if err := e.check(b); err != nil {
		return err
	}
	if s := atomic.LoadUint32(u32(b, e.ownState)); s == roleClosed {
		return detail(fs.ErrClosed, "the %s closed this pipe (%s_state %d): its end cannot be reopened", e.roleName(), e.roleName(), s)
	}
	tail := atomic.LoadUint64(u64(b, offTail))
	head := atomic.LoadUint64(u64(b, offHead))
	if tail-head > e.capacity {
		return e.corruptPositions(tail, head)
	}
	if e.msg && (tail|head)%frameHeader != 0 {
		return detail(ErrCorrupt, "tail %d or head %d of a message pipe is not a multiple of %d", tail, head, frameHeader)
	}
	err := e.member.claim(b, id, e.role, func(pid int) error {
		return detail(ErrInUse, "pipe already has a %s: pid %d", e.roleName(), pid)
	})
	if err != nil {
		return err
	}
	if s := atomic.LoadUint32(u32(b, e.ownState)); s == roleClosed {
		// Another process attached and closed meanwhile (no locks).
		e.leave(b)
		return detail(fs.ErrClosed, "the %s closed this pipe (%s_state %d): its end cannot be reopened", e.roleName(), e.roleName(), s)
	}
	atomic.StoreUint32(u32(b, e.ownSleepers), 0)
	atomic.CompareAndSwapUint32(u32(b, e.ownState), roleNone, roleOpen)
	tail = atomic.LoadUint64(u64(b, offTail))
	head = atomic.LoadUint64(u64(b, offHead))
	if e.role == roleWriter {
		e.pos, e.other = tail, head
	} else {
		e.pos, e.other = head, tail
	}
	e.wakeAll(b)
	return nil
}

// forget drops a closed end from the Pipe's set.
func (p *Pipe) forget(e *end) {
	p.mu.Lock()
	delete(p.ends, e)
	p.mu.Unlock()
}
