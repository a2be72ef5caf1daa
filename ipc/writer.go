package ipc

import (
	"context"
	"io"
	"io/fs"
	"sync/atomic"
	"time"
	"unsafe"
)

// Writer is the writing end of a pipe, from [Pipe.Writer]. It is an
// [io.Writer], [io.ReaderFrom], [io.StringWriter] and [io.Closer], with
// zero-copy writes through [Writer.Reserve] and [Writer.Commit].
//
// Blocking: a write blocks while the ring is full, until the reader makes
// room, and fails early rather than block forever: after the reader
// closed (an error matching [syscall.EPIPE]), when the reader's process
// died ([ErrPeerDead], within milliseconds of the death), at the deadline
// ([os.ErrDeadlineExceeded]) or when its context ends. A write that fails
// part way returns the count of bytes it committed.
//
// The methods are safe for concurrent use; they are serialised, as the
// writes of an [os.File] are not, so concurrent writes never interleave
// within one call. Close may be called at any time: calls in progress
// complete, or return an error wrapping [fs.ErrClosed].
type Writer struct {
	end
	arg     []byte    // the bytes of the call in progress
	src     io.Reader // ReadFrom's source
	res     int       // bytes the last op committed
	srcErr  error     // ReadFrom's source's error
	resv    []byte    // the pending reservation; nil: none
	resvPad uint64    // the padding a message reservation puts before it
	commitN int

	fnWrite, fnWriteMsg, fnReserve, fnCommit, fnReadFrom func([]byte) error
}

func (w *Writer) init() {
	w.fnWrite, w.fnWriteMsg = w.opWrite, w.opWriteMsg
	w.fnReserve, w.fnCommit, w.fnReadFrom = w.opReserve, w.opCommit, w.opReadFrom
}

// beforePublish, when set (by tests), runs between a commit's stores into
// the ring and its store of the tail: where a writer killed mid-Commit
// stops.
var beforePublish func()

// Write writes p to the pipe and returns len(p), blocking while the ring
// is full; on failure it returns the count committed before, with the
// error. In message mode p is one record (at most [Pipe.MaxMessage]
// bytes, else an error wrapping [ErrTooLarge]), committed whole or not
// at all; an empty p is an empty record. In byte mode an empty p writes
// nothing.
func (w *Writer) Write(p []byte) (int, error) { return w.write(context.Background(), "write", p) }

// WriteContext is [Writer.Write] that also gives up when ctx is done,
// with an error matching ctx.Err().
func (w *Writer) WriteContext(ctx context.Context, p []byte) (int, error) {
	return w.write(ctx, "write", p)
}

// WriteString is [Writer.Write] of the bytes of s, without copying them
// first.
func (w *Writer) WriteString(s string) (int, error) {
	return w.write(context.Background(), "write", unsafe.Slice(unsafe.StringData(s), len(s)))
}

func (w *Writer) write(ctx context.Context, op string, p []byte) (n int, err error) {
	if err := w.enter(op); err != nil {
		return 0, err
	}
	defer w.mu.Unlock()
	w.resv = nil
	if err := w.start(ctx, op); err != nil {
		return 0, err
	}
	if w.msg {
		return w.writeMessage(ctx, op, p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		w.arg = p[n:]
		err := w.access(op, w.fnWrite)
		w.arg = nil
		n += w.res
		if err != nil {
			return n, err
		}
		if n == len(p) {
			return n, nil
		}
		if w.status == stPeerClosed {
			return n, w.epipe(op)
		}
		if err := w.await(ctx, op, 1); err != nil {
			return n, err
		}
	}
}

// start checks what fails a writer's call before it touches the ring:
// an expired deadline or context, a reader known dead.
func (w *Writer) start(ctx context.Context, op string) error {
	if err := w.expired(ctx, op); err != nil {
		return err
	}
	if g := w.gone.Load(); g != 0 {
		dead, pid, err := w.peerDead(op, false)
		if err != nil {
			return err
		}
		if dead {
			return w.deadErr(op, pid)
		}
		w.gone.CompareAndSwap(g, 0)
	}
	return nil
}

// free returns the room in the ring, re-loading the reader's head when
// the cached one leaves less than want, and spinning as the wait mode
// allows (spinWait) while it leaves less than need. A reader that closed
// meanwhile leaves w.status stPeerClosed.
func (w *Writer) free(b []byte, want, need uint64) (uint64, error) {
	free := w.capacity - (w.pos - w.other)
	if free < want {
		head := atomic.LoadUint64(u64(b, offHead))
		if w.pos-head > w.capacity {
			return 0, w.corruptPositions(w.pos, head)
		}
		w.other = head
		free = w.capacity - (w.pos - head)
		if free < need {
			w.want, w.status = need, stNotReady
			if err := w.spinWait(b); err != nil {
				return 0, err
			}
			free = w.capacity - (w.pos - w.other)
		}
	}
	return free, nil
}

// ring returns the data ring of b.
func (e *end) ring(b []byte) []byte {
	hi := e.dataOff + int(e.capacity)
	return b[e.dataOff:hi:hi]
}

// publish stores the new tail and wakes a sleeping reader.
func (w *Writer) publish(b []byte, pos uint64) {
	if beforePublish != nil {
		beforePublish()
	}
	w.pos = pos
	atomic.StoreUint64(u64(b, offTail), pos)
	w.wakePeer(b)
}

// begin starts an op: it checks the memory and the reader's state, and
// returns false when the op must stop there (w.status is stPeerClosed
// after the reader closed).
func (w *Writer) begin(b []byte) (bool, error) {
	w.res, w.status = 0, stNotReady
	if err := w.check(b); err != nil {
		return false, err
	}
	if atomic.LoadUint32(u32(b, offReaderState)) == roleClosed {
		w.status = stPeerClosed
		return false, nil
	}
	return true, nil
}

// opWrite copies as much of w.arg as fits (section 6.1 of the layout).
func (w *Writer) opWrite(b []byte) error {
	if ok, err := w.begin(b); !ok {
		return err
	}
	p := w.arg
	free, err := w.free(b, uint64(len(p)), 1)
	if err != nil {
		return err
	}
	n := min(free, uint64(len(p)))
	if n == 0 {
		return nil
	}
	data := w.ring(b)
	i := w.pos & w.mask
	k := copy(data[i:], p[:n])
	copy(data, p[k:n])
	w.publish(b, w.pos+n)
	w.res, w.status = int(n), stReady
	return nil
}

// frameSize is the ring space of a record of n bytes: header and payload,
// rounded up to 8.
func frameSize(n uint64) uint64 { return (frameHeader + n + 7) &^ 7 }

// frameWord is a frame header as one 64-bit word.
func frameWord(length uint64, typ uint16) uint64 { return length | uint64(typ)<<32 }

// placeMessage finds room for a record of n bytes: the padding it needs
// before it (to the end of the ring, when the frame would not fit
// there), and whether the ring has room for both now. w.want is set to
// the room needed.
func (w *Writer) placeMessage(b []byte, n uint64) (pad uint64, ok bool, err error) {
	size := frameSize(n)
	if room := w.capacity - w.pos&w.mask; room < size {
		pad = room
	}
	w.want = pad + size
	free, err := w.free(b, w.want, w.want)
	return pad, free >= w.want, err
}

// commitMessage writes the headers of a record of n bytes (its payload is
// in place) and publishes it: the padding frame first, the record's
// header last, each as one atomic store, then the tail.
func (w *Writer) commitMessage(b []byte, pad, n uint64) {
	if pad > 0 {
		atomic.StoreUint64(u64(b, w.dataOff+int(w.pos&w.mask)), frameWord(pad-frameHeader, framePadding))
	}
	start := (w.pos + pad) & w.mask
	atomic.StoreUint64(u64(b, w.dataOff+int(start)), frameWord(n, frameRecord))
	w.publish(b, w.pos+pad+frameSize(n))
}

func (w *Writer) opWriteMsg(b []byte) error {
	if ok, err := w.begin(b); !ok {
		return err
	}
	n := uint64(len(w.arg))
	room, pad, ok, err := w.room(b, n)
	if err != nil || !ok {
		return err
	}
	copy(room, w.arg)
	w.commitMessage(b, pad, n)
	w.res, w.status = int(n), stReady
	return nil
}

// room finds room in the ring for n bytes: in message mode exactly n
// bytes, the payload of one record, after the padding it needs; in byte
// mode from 1 to n contiguous bytes. ok is false when the ring has not
// that much room yet; w.want is then what a wait needs.
func (w *Writer) room(b []byte, n uint64) (room []byte, pad uint64, ok bool, err error) {
	data := w.ring(b)
	if w.msg {
		pad, ok, err := w.placeMessage(b, n)
		if err != nil || !ok {
			return nil, 0, false, err
		}
		start := (w.pos+pad)&w.mask + frameHeader
		return data[start : start+n : start+n], pad, true, nil
	}
	w.want = 1
	free, err := w.free(b, 1, 1)
	if err != nil || free == 0 {
		return nil, 0, false, err
	}
	i := w.pos & w.mask
	c := min(n, free, w.capacity-i)
	return data[i : i+c : i+c], 0, true, nil
}

// commit publishes n bytes written into the room that room returned.
func (w *Writer) commit(b []byte, pad, n uint64) {
	if w.msg {
		w.commitMessage(b, pad, n)
	} else {
		w.publish(b, w.pos+n)
	}
}

func (w *Writer) tooLarge(op string, n int) error {
	return pathErr(op, w.name, detail(ErrTooLarge, "record of %d bytes is longer than the %d that a pipe of capacity %d takes", n, w.p.MaxMessage(), w.capacity))
}

func (w *Writer) writeMessage(ctx context.Context, op string, p []byte) (int, error) {
	if len(p) > w.p.MaxMessage() {
		return 0, w.tooLarge(op, len(p))
	}
	for {
		w.arg = p
		err := w.access(op, w.fnWriteMsg)
		w.arg = nil
		if err != nil {
			return 0, err
		}
		switch w.status {
		case stReady:
			return len(p), nil
		case stPeerClosed:
			return 0, w.epipe(op)
		}
		if err := w.await(ctx, op, w.want); err != nil {
			return 0, err
		}
	}
}

// Reserve returns room in the ring to write into directly, then publish
// with [Writer.Commit]: a write without a copy. It blocks, as Write does,
// until there is room. In byte mode the slice holds from 1 to n bytes:
// the contiguous room at the write position, which ends at the end of
// the ring and where the reader has not yet read. In message mode it
// holds exactly n bytes, the payload of one record (n at most
// [Pipe.MaxMessage]; 0 is allowed).
//
// The slice aliases the shared memory: it is valid until the next call on
// the Writer, which drops an uncommitted reservation. Unlike Write, which
// turns a fault in the memory (its segment truncated by another process)
// into an error, stores through the slice are plain memory accesses, and
// such a fault crashes the process (SIGBUS), as touching
// [ioadapt.IO.Bytes] does. n < 0 (or 0 in byte mode) is an error
// wrapping [fs.ErrInvalid].
func (w *Writer) Reserve(n int) ([]byte, error) { return w.reserve(context.Background(), n) }

// ReserveContext is [Writer.Reserve] that also gives up when ctx is done.
func (w *Writer) ReserveContext(ctx context.Context, n int) ([]byte, error) {
	return w.reserve(ctx, n)
}

func (w *Writer) reserve(ctx context.Context, n int) ([]byte, error) {
	const op = "reserve"
	if err := w.enter(op); err != nil {
		return nil, err
	}
	defer w.mu.Unlock()
	w.resv = nil
	if n < 0 || n == 0 && !w.msg {
		return nil, pathErr(op, w.name, detail(fs.ErrInvalid, "reserve of %d bytes", n))
	}
	if w.msg && n > w.p.MaxMessage() {
		return nil, w.tooLarge(op, n)
	}
	if err := w.start(ctx, op); err != nil {
		return nil, err
	}
	for {
		w.commitN = n
		if err := w.access(op, w.fnReserve); err != nil {
			return nil, err
		}
		switch w.status {
		case stReady:
			return w.resv, nil
		case stPeerClosed:
			return nil, w.epipe(op)
		}
		if err := w.await(ctx, op, w.want); err != nil {
			return nil, err
		}
	}
}

func (w *Writer) opReserve(b []byte) error {
	if ok, err := w.begin(b); !ok {
		return err
	}
	room, pad, ok, err := w.room(b, uint64(w.commitN))
	if ok {
		w.resv, w.resvPad, w.status = room, pad, stReady
	}
	return err
}

// Commit publishes the first n bytes of the room that [Writer.Reserve]
// returned: in byte mode they join the stream; in message mode they are
// one record of n bytes. It never blocks. The reservation ends, whatever
// n. n beyond the reservation, or a Commit without one, is an error
// wrapping [fs.ErrInvalid]; a Commit after the reader closed fails as
// Write does, with nothing published.
func (w *Writer) Commit(n int) error {
	const op = "commit"
	if err := w.enter(op); err != nil {
		return err
	}
	defer w.mu.Unlock()
	resv := w.resv
	w.resv = nil
	if resv == nil || n < 0 || n > len(resv) {
		if resv == nil {
			return pathErr(op, w.name, detail(fs.ErrInvalid, "commit of %d bytes without a reservation", n))
		}
		return pathErr(op, w.name, detail(fs.ErrInvalid, "commit of %d bytes; %d are reserved", n, len(resv)))
	}
	if n == 0 && !w.msg {
		return nil
	}
	w.commitN = n
	if err := w.access(op, w.fnCommit); err != nil {
		return err
	}
	if w.status == stPeerClosed {
		return w.epipe(op)
	}
	return nil
}

func (w *Writer) opCommit(b []byte) error {
	if ok, err := w.begin(b); !ok {
		return err
	}
	w.commit(b, w.resvPad, uint64(w.commitN))
	w.status = stReady
	return nil
}

// readFromChunk is the most that one Read of a ReadFrom source fills in
// message mode: each Read becomes one record.
const readFromChunk = 64 << 10

// ReadFrom implements [io.ReaderFrom]: it reads from r straight into the
// ring, until r returns [io.EOF] (ReadFrom then returns nil) or an error,
// so that io.Copy(w, file) copies each byte once. In message mode each
// Read of r is one record of up to 64 KiB (or [Pipe.MaxMessage]). It
// blocks as Write does.
//
// r.Read runs with the Region held open: a Close of the Region waits for
// it. r must not be a reader of the Region the pipe lives in.
func (w *Writer) ReadFrom(r io.Reader) (n int64, err error) {
	const op = "readfrom"
	if err := w.enter(op); err != nil {
		return 0, err
	}
	defer w.mu.Unlock()
	w.resv = nil
	if err := w.start(context.Background(), op); err != nil {
		return 0, err
	}
	for {
		w.src, w.srcErr = r, nil
		err := w.access(op, w.fnReadFrom)
		w.src = nil
		n += int64(w.res)
		if err != nil {
			return n, err
		}
		if w.srcErr == io.EOF {
			return n, nil
		}
		if w.srcErr != nil {
			return n, w.srcErr
		}
		switch w.status {
		case stPeerClosed:
			return n, w.epipe(op)
		case stNotReady:
			if err := w.await(context.Background(), op, w.want); err != nil {
				return n, err
			}
		}
	}
}

func (w *Writer) opReadFrom(b []byte) error {
	if ok, err := w.begin(b); !ok {
		return err
	}
	n := w.capacity
	if w.msg {
		n = uint64(min(readFromChunk, w.p.MaxMessage()))
	}
	room, pad, ok, err := w.room(b, n)
	if err != nil || !ok {
		return err
	}
	m, rerr := w.src.Read(room)
	if m < 0 || m > len(room) {
		panic("ipc: ReadFrom: invalid Read count")
	}
	if m > 0 {
		w.commit(b, pad, uint64(m))
	}
	w.res, w.srcErr, w.status = m, rerr, stReady
	return nil
}

// SetWriteDeadline sets the time after which blocking calls (Write,
// Reserve, ReadFrom) fail with an error wrapping
// [os.ErrDeadlineExceeded], as [os.File.SetWriteDeadline] does: calls in
// progress and later ones, until it is changed; a time in the past makes
// them fail at once; the zero time means none. It never blocks.
func (w *Writer) SetWriteDeadline(t time.Time) error { return w.setDeadline("setdeadline", t) }

// SetDeadline is [Writer.SetWriteDeadline]: a writer has no reads.
func (w *Writer) SetDeadline(t time.Time) error { return w.setDeadline("setdeadline", t) }

// Close ends the stream: the reader reads what was committed, then gets
// [io.EOF]. It wakes a call blocked in another goroutine, which returns
// an error wrapping [fs.ErrClosed], waits for the call in progress (a
// ReadFrom waits for its source's Read), and detaches from the pipe. A
// closed writer's end cannot be taken again. A second Close returns an
// error wrapping fs.ErrClosed.
func (w *Writer) Close() error { return w.close() }
