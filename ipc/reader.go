package ipc

import (
	"context"
	"io"
	"io/fs"
	"sync/atomic"
	"time"
)

// Reader is the reading end of a pipe, from [Pipe.Reader]. It is an
// [io.Reader], [io.WriterTo], [io.ByteReader] and [io.Closer], with
// zero-copy reads through [Reader.Peek] and [Reader.Release].
//
// Blocking: a read blocks while the ring is empty, until the writer
// commits, and never forever: after the writer closed and the ring is
// drained it returns [io.EOF]; when the writer's process died without
// closing, it returns, once every committed byte has been read, an error
// wrapping [ErrPeerDead] (within milliseconds of the death); at the
// deadline [os.ErrDeadlineExceeded]; when its context ends, ctx.Err().
// A read returns what is there without waiting for more.
//
// The methods are safe for concurrent use and serialised. Close may be
// called at any time: calls in progress complete, or return an error
// wrapping [fs.ErrClosed].
type Reader struct {
	end
	arg      []byte    // the buffer of the call in progress
	dst      io.Writer // WriteTo's destination
	res      int       // bytes the last op delivered; in message mode a record's length
	dstErr   error
	peek     []byte // the bytes of the pending Peek; nil: none
	peekSize uint64 // ring bytes a message Peek's record takes
	one      [1]byte
	short    bool // the record did not fit (message mode)

	fnRead, fnPeek, fnRelease, fnWriteTo func([]byte) error
}

func (r *Reader) init() {
	r.fnRead, r.fnPeek, r.fnRelease, r.fnWriteTo = r.opRead, r.opPeek, r.opRelease, r.opWriteTo
}

// Read reads into p. In byte mode it returns what the ring holds, up to
// len(p), waiting only while it holds nothing. In message mode it reads
// one whole record, which may be empty (0, nil, as a datagram socket
// reads an empty datagram); a record longer than p is left in the pipe
// and Read returns 0 and an error wrapping [io.ErrShortBuffer] that
// gives its length. An empty p returns 0, nil at once. io.EOF comes
// bare, only after the writer closed and every byte was read.
func (r *Reader) Read(p []byte) (int, error) { return r.read(context.Background(), "read", p) }

// ReadContext is [Reader.Read] that also gives up when ctx is done, with
// an error matching ctx.Err().
func (r *Reader) ReadContext(ctx context.Context, p []byte) (int, error) {
	return r.read(ctx, "read", p)
}

// ReadByte implements [io.ByteReader] for a byte pipe: Read of one byte.
// In message mode it returns an error wrapping [ErrUnsupported].
func (r *Reader) ReadByte() (byte, error) {
	if r.msg {
		return 0, pathErr("readbyte", r.name, detail(ErrUnsupported, "ReadByte on a message pipe: read whole records"))
	}
	n, err := r.read(context.Background(), "read", r.one[:])
	if n == 1 {
		return r.one[0], nil
	}
	return 0, err
}

func (r *Reader) read(ctx context.Context, op string, p []byte) (int, error) {
	if err := r.enter(op); err != nil {
		return 0, err
	}
	defer r.mu.Unlock()
	r.peek = nil
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.expired(ctx, op); err != nil {
		return 0, err
	}
	for {
		r.arg = p
		err := r.access(op, r.fnRead)
		r.arg = nil
		if err != nil {
			return 0, err
		}
		switch r.status {
		case stReady:
			if r.short {
				return 0, pathErr(op, r.name, detail(io.ErrShortBuffer, "record of %d bytes does not fit in a buffer of %d", r.res, len(p)))
			}
			return r.res, nil
		case stPeerClosed:
			return 0, io.EOF
		}
		if err := r.await(ctx, op, r.want); err != nil {
			return 0, err
		}
	}
}

// buffered makes sure the ring holds at least want bytes past the read
// position, loading the tail when the cached one says less, and spinning
// for them as the wait mode allows (spinWait); r.status tells whether it
// does (or the writer closed).
func (r *Reader) buffered(b []byte, want uint64) error {
	r.want = want
	if r.other-r.pos >= want {
		r.status = stReady
		return nil
	}
	if err := r.cond(b); err != nil || r.status != stNotReady {
		return err
	}
	return r.spinWait(b)
}

// release stores the new head and wakes a writer asleep for room.
func (r *Reader) release(b []byte, pos uint64) {
	r.pos = pos
	atomic.StoreUint64(u64(b, offHead), pos)
	r.wakePeer(b)
}

// nextRecord finds the next record at the read position, consuming the
// padding before it: it returns the record's length and ring size, with
// r.status stReady, or r.status telling that there is none (yet).
func (r *Reader) nextRecord(b []byte) (length, size uint64, err error) {
	for {
		if err := r.buffered(b, frameHeader); err != nil || r.status != stReady {
			return 0, 0, err
		}
		hdr := atomic.LoadUint64(u64(b, r.dataOff+int(r.pos&r.mask)))
		length, size, typ, err := parseFrame(hdr, r.pos, r.capacity, r.other-r.pos)
		if err != nil {
			atomic.CompareAndSwapUint32(u32(b, offState), stateReady, statePoisoned)
			return 0, 0, err
		}
		if typ == frameRecord {
			return length, size, nil
		}
		r.release(b, r.pos+size)
	}
}

// parseFrame checks the frame header word hdr at position pos of a ring
// of the given capacity, with avail bytes committed from pos (section
// 6.4 of the layout). It returns the payload length, the ring bytes the
// frame takes and its type.
func parseFrame(hdr, pos, capacity, avail uint64) (length, size uint64, typ uint16, err error) {
	idx := pos & (capacity - 1)
	length, typ, flags := hdr&0xffffffff, uint16(hdr>>32), uint16(hdr>>48)
	if flags != 0 {
		return 0, 0, 0, detail(ErrCorrupt, "frame at position %d (ring offset %d) has flags %#x, want 0", pos, idx, flags)
	}
	switch typ {
	case framePadding:
		if idx+frameHeader+length != capacity {
			return 0, 0, 0, detail(ErrCorrupt, "padding frame at position %d (ring offset %d) has length %d: it must end at the end of the ring (capacity %d)",
				pos, idx, length, capacity)
		}
		size = capacity - idx
	case frameRecord:
		if length > capacity-idx-frameHeader {
			return 0, 0, 0, detail(ErrCorrupt, "record at position %d (ring offset %d) has length %d, past the end of the ring (capacity %d)",
				pos, idx, length, capacity)
		}
		size = frameSize(length)
	default:
		return 0, 0, 0, detail(ErrCorrupt, "frame at position %d (ring offset %d) has type %d, want 1 (record) or 2 (padding)", pos, idx, typ)
	}
	if size > avail {
		return 0, 0, 0, detail(ErrCorrupt, "frame at position %d (ring offset %d) of %d bytes runs past the %d bytes committed",
			pos, idx, size, avail)
	}
	return length, size, typ, nil
}

// record returns the payload of the next record, in the ring, and the
// ring bytes it takes; ok is false when there is none yet (r.status
// says whether the writer closed).
func (r *Reader) record(b []byte) (payload []byte, size uint64, ok bool, err error) {
	length, size, err := r.nextRecord(b)
	if err != nil || r.status != stReady {
		return nil, 0, false, err
	}
	i := r.pos&r.mask + frameHeader
	return r.ring(b)[i : i+length : i+length], size, true, nil
}

// chunk returns from 1 to n of the bytes committed at the read position,
// up to the end of the ring; ok is false when there are none yet.
func (r *Reader) chunk(b []byte, n uint64) ([]byte, bool, error) {
	if err := r.buffered(b, 1); err != nil || r.status != stReady {
		return nil, false, err
	}
	i := r.pos & r.mask
	c := min(n, r.other-r.pos, r.capacity-i)
	return r.ring(b)[i : i+c : i+c], true, nil
}

// opRead copies out what the ring holds (section 6.2 of the layout).
func (r *Reader) opRead(b []byte) error {
	r.res, r.short = 0, false
	if err := r.check(b); err != nil {
		return err
	}
	if r.msg {
		payload, size, ok, err := r.record(b)
		if err != nil || !ok {
			return err
		}
		r.res = len(payload)
		if len(payload) > len(r.arg) {
			r.short = true
			return nil
		}
		copy(r.arg, payload)
		r.release(b, r.pos+size)
		return nil
	}
	if err := r.buffered(b, 1); err != nil || r.status != stReady {
		return err
	}
	data := r.ring(b)
	n := min(r.other-r.pos, uint64(len(r.arg)))
	i := r.pos & r.mask
	k := copy(r.arg[:n], data[i:])
	copy(r.arg[k:n], data)
	r.release(b, r.pos+n)
	r.res = int(n)
	return nil
}

// Peek returns bytes of the ring to read in place, then release with
// [Reader.Release]: a read without a copy. It blocks, as Read does, until
// there is something; io.EOF and the other errors are those of Read. In
// byte mode the slice holds from 1 to n bytes: what is committed at the
// read position, up to the end of the ring. In message mode it holds the
// next record, whole; a record longer than n is an error wrapping
// [io.ErrShortBuffer] that gives its length (n may be any size that
// covers it).
//
// The slice aliases the shared memory and is valid until the next call
// on the Reader (which drops a Peek not released: its bytes are read
// again). Loads through it are plain memory accesses: a fault (the
// segment truncated by another process) crashes the process (SIGBUS), as
// touching [ioadapt.IO.Bytes] does. n <= 0 in byte mode, or n < 0, is an
// error wrapping [fs.ErrInvalid].
func (r *Reader) Peek(n int) ([]byte, error) { return r.peekCtx(context.Background(), n) }

// PeekContext is [Reader.Peek] that also gives up when ctx is done.
func (r *Reader) PeekContext(ctx context.Context, n int) ([]byte, error) { return r.peekCtx(ctx, n) }

func (r *Reader) peekCtx(ctx context.Context, n int) ([]byte, error) {
	const op = "peek"
	if err := r.enter(op); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	r.peek = nil
	if n < 0 || n == 0 && !r.msg {
		return nil, pathErr(op, r.name, detail(fs.ErrInvalid, "peek of %d bytes", n))
	}
	if err := r.expired(ctx, op); err != nil {
		return nil, err
	}
	for {
		r.res = n
		if err := r.access(op, r.fnPeek); err != nil {
			return nil, err
		}
		switch r.status {
		case stReady:
			if r.short {
				return nil, pathErr(op, r.name, detail(io.ErrShortBuffer, "record of %d bytes is longer than the %d asked for", r.res, n))
			}
			return r.peek, nil
		case stPeerClosed:
			return nil, io.EOF
		}
		if err := r.await(ctx, op, r.want); err != nil {
			return nil, err
		}
	}
}

func (r *Reader) opPeek(b []byte) error {
	n := uint64(r.res)
	r.short = false
	if err := r.check(b); err != nil {
		return err
	}
	if r.msg {
		payload, size, ok, err := r.record(b)
		if err != nil || !ok {
			return err
		}
		if uint64(len(payload)) > n {
			r.res, r.short = len(payload), true
			return nil
		}
		r.peek, r.peekSize = payload, size
		return nil
	}
	c, ok, err := r.chunk(b, n)
	if ok {
		r.peek = c
	}
	return err
}

// Release consumes the first n bytes of what [Reader.Peek] returned,
// making their room free for the writer; the Peek ends, whatever n. In
// message mode n must be the record's length (or 0, which leaves a
// record that is not empty to be read again). It never blocks. n beyond the Peek, or a
// Release without one, is an error wrapping [fs.ErrInvalid].
func (r *Reader) Release(n int) error {
	const op = "release"
	if err := r.enter(op); err != nil {
		return err
	}
	defer r.mu.Unlock()
	peek := r.peek
	r.peek = nil
	switch {
	case peek == nil:
		return pathErr(op, r.name, detail(fs.ErrInvalid, "release of %d bytes without a peek", n))
	case n < 0 || n > len(peek):
		return pathErr(op, r.name, detail(fs.ErrInvalid, "release of %d bytes; %d were peeked", n, len(peek)))
	case r.msg && n != len(peek):
		if n == 0 {
			return nil // the record stays, to be read again
		}
		return pathErr(op, r.name, detail(fs.ErrInvalid, "release of %d bytes of a %d-byte record: a record is released whole", n, len(peek)))
	case n == 0 && !r.msg:
		return nil
	}
	if r.msg {
		r.res = int(r.peekSize)
	} else {
		r.res = n
	}
	return r.access(op, r.fnRelease)
}

func (r *Reader) opRelease(b []byte) error {
	if err := r.check(b); err != nil {
		return err
	}
	r.release(b, r.pos+uint64(r.res))
	return nil
}

// WriteTo implements [io.WriterTo]: it writes everything the pipe carries
// to w, straight from the ring, until the writer closes (WriteTo then
// returns nil) or an error, so that io.Copy(file, r) copies each byte
// once. In message mode each record is one Write. It blocks as Read
// does. A short write without an error is [io.ErrShortWrite].
//
// w.Write runs with the Region held open: a Close of the Region waits for
// it. w must not keep the slice it is given, nor be a writer of the
// Region the pipe lives in.
func (r *Reader) WriteTo(w io.Writer) (n int64, err error) {
	const op = "writeto"
	if err := r.enter(op); err != nil {
		return 0, err
	}
	defer r.mu.Unlock()
	r.peek = nil
	if err := r.expired(context.Background(), op); err != nil {
		return 0, err
	}
	for {
		r.dst, r.dstErr = w, nil
		err := r.access(op, r.fnWriteTo)
		r.dst = nil
		n += int64(r.res)
		if err != nil {
			return n, err
		}
		if r.dstErr != nil {
			return n, r.dstErr
		}
		switch r.status {
		case stPeerClosed:
			return n, nil
		case stNotReady:
			if err := r.await(context.Background(), op, r.want); err != nil {
				return n, err
			}
		}
	}
}

func (r *Reader) opWriteTo(b []byte) error {
	r.res = 0
	if err := r.check(b); err != nil {
		return err
	}
	var chunk []byte
	var size uint64
	var ok bool
	var err error
	if r.msg {
		chunk, size, ok, err = r.record(b)
	} else {
		chunk, ok, err = r.chunk(b, r.capacity)
	}
	if err != nil || !ok {
		return err
	}
	m, werr := r.dst.Write(chunk)
	if m < 0 || m > len(chunk) {
		panic("ipc: WriteTo: invalid Write count")
	}
	if werr == nil && m < len(chunk) {
		werr = io.ErrShortWrite
	}
	if r.msg {
		// A record is consumed only when it was written whole.
		if werr == nil {
			r.release(b, r.pos+size)
		}
	} else if m > 0 {
		r.release(b, r.pos+uint64(m))
	}
	r.res, r.dstErr = m, werr
	return nil
}

// SetReadDeadline sets the time after which blocking calls (Read, Peek,
// ReadByte, WriteTo) fail with an error wrapping
// [os.ErrDeadlineExceeded], as [os.File.SetReadDeadline] does: calls in
// progress and later ones, until it is changed; a time in the past makes
// them fail at once; the zero time means none. It never blocks.
func (r *Reader) SetReadDeadline(t time.Time) error { return r.setDeadline("setdeadline", t) }

// SetDeadline is [Reader.SetReadDeadline]: a reader has no writes.
func (r *Reader) SetDeadline(t time.Time) error { return r.setDeadline("setdeadline", t) }

// Close detaches the reader: the writer's next call (and one blocked now)
// fails with an error matching [syscall.EPIPE]; what the ring held is
// dropped. It wakes a call blocked in another goroutine, which returns an
// error wrapping [fs.ErrClosed], and waits for the call in progress (a
// WriteTo waits for its destination's Write). A closed reader's end
// cannot be taken again. A second Close returns an error wrapping
// fs.ErrClosed.
func (r *Reader) Close() error { return r.close() }
