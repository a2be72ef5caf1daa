//go:build linux

// The fault scenarios of the pipe: processes killed at random points,
// segments truncated under the ends, hostile memory. make test runs a few
// rounds of each; make test-faults (the faults tag) runs thousands, and
// each scenario logs "faults: runs=N failures=F" for the suite's table.

package ipc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/faulttest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// roundPipe makes a pipe for one round, in a POSIX segment ("shm") or a
// System V one ("sysv"), and a cleanup that removes it at once (rounds
// are too many to leave their segments until the test ends).
func roundPipe(kind string, capacity int64, opts ...Option) (*Pipe, string, func(), error) {
	if kind == "sysv" {
		s, err := sysv.CreatePrivate(PipeSize(capacity))
		if err != nil {
			return nil, "", nil, err
		}
		p, err := CreatePipe(s, opts...)
		if err != nil {
			s.Remove()
			s.Close()
			return nil, "", nil, err
		}
		return p, "sysv:" + strconv.Itoa(s.ID()), func() { p.Close(); s.Remove(); s.Close() }, nil
	}
	name := fmt.Sprintf("%s%d", testPrefix, nameSeq.Add(1))
	s, err := shm.Create(name, PipeSize(capacity))
	if err != nil {
		return nil, "", nil, err
	}
	p, err := CreatePipe(s, opts...)
	if err != nil {
		s.Close()
		shm.Unlink(name)
		return nil, "", nil, err
	}
	return p, "shm:" + name, func() { p.Close(); s.Close(); shm.Unlink(name) }, nil
}

// readyChild starts a child, as startChild does, and waits for its
// "ready".
func readyChild(t *testing.T, job, region, args string) (*child, error) {
	c := startChild(t, job, region, args)
	if s := c.line(); s != "ready" {
		return nil, fmt.Errorf("child %s: %q", job, s)
	}
	return c, nil
}

// received returns what done delivers, or an error saying that who is
// still blocked, hang after what should have ended its call.
func received[T any](done <-chan T, who, what string) (T, error) {
	select {
	case v := <-done:
		return v, nil
	case <-time.After(hang):
		var zero T
		return zero, fmt.Errorf("%s still blocked %v after %s", who, hang, what)
	}
}

// positions reads the ring's tail and head from the shared memory.
func positions(p *Pipe) (tail, head uint64) {
	p.acc.Access(func(b []byte) error {
		tail, head = binary.LittleEndian.Uint64(b[offTail:]), binary.LittleEndian.Uint64(b[offHead:])
		return nil
	})
	return tail, head
}

// latencies collects how long survivors took to learn of deaths.
type latencies []time.Duration

func (l latencies) log(t *testing.T, what string) {
	if len(l) == 0 {
		return
	}
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(f float64) time.Duration { return s[min(len(s)-1, int(f*float64(len(s))))] }
	t.Logf("%s: p50 %v, p99 %v, max %v over %d deaths", what, q(0.5), q(0.99), s[len(s)-1], len(s))
}

// readChecked reads r until an error, checking every byte (or record)
// against what the writer children write; it returns the error that ended
// it, or a mismatch.
func readChecked(r *Reader, messages bool) (n int, err error) {
	buf := make([]byte, 1<<16)
	for {
		m, err := r.Read(buf)
		if err != nil {
			return n, err
		}
		if messages {
			if want := record(n); !bytes.Equal(buf[:m], want) {
				return n, fmt.Errorf("record %d is %d bytes that differ from the %d written: a partial record", n, m, len(want))
			}
			n++
			continue
		}
		for i, c := range buf[:m] {
			if c != patternByte(n+i) {
				return n, fmt.Errorf("byte %d is %#x, want %#x", n+i, c, patternByte(n+i))
			}
		}
		n += m
	}
}

// TestFaultKillWriter kills a writer process at a random point of a
// stream of writes and commits: the reader never sees a byte or a record
// that was not committed whole, reads every one that was (its position
// ends at the ring's tail), and gets ErrPeerDead within the liveness
// bound.
func TestFaultKillWriter(t *testing.T) {
	ty := faulttest.New(t)
	var lat latencies
	for round := range faultRounds {
		ty.Round(killWriterRound(t, round, &lat))
	}
	lat.log(t, "ErrPeerDead after the writer's SIGKILL")
}

func killWriterRound(t *testing.T, round int, lat *latencies) error {
	messages := round%2 == 1
	kind := [...]string{"shm", "shm", "sysv", "sysv"}[round%4]
	var opts []Option
	if messages {
		opts = append(opts, Messages())
	}
	opts = append(opts, WithWaitMode([...]WaitMode{Adaptive, SleepOnly}[round/4%2]))
	p, region, cleanup, err := roundPipe(kind, 1<<(12+round%5), opts...)
	if err != nil {
		return err
	}
	defer cleanup()
	r, err := p.Reader()
	if err != nil {
		return err
	}
	c, err := readyChild(t, "flood", region, fmt.Sprintf("from=0,chunk=%d", 1+round*7919%5000))
	if err != nil {
		return err
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := readChecked(r, messages)
		done <- result{n, err}
	}()
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	killed := time.Now()
	c.kill()
	res, err := received(done, "reader", "the writer's SIGKILL")
	if err != nil {
		return err
	}
	d := time.Since(killed)
	*lat = append(*lat, d)
	if !errors.Is(res.err, ErrPeerDead) {
		return fmt.Errorf("after %d: %v, want ErrPeerDead", res.n, res.err)
	}
	if d > livenessBound {
		return fmt.Errorf("ErrPeerDead %v after the SIGKILL, past the bound %v", d, livenessBound)
	}
	if tail, head := positions(p); tail != head || head != r.pos {
		return fmt.Errorf("after ErrPeerDead: tail %d, head %d, reader at %d: committed bytes left unread", tail, head, r.pos)
	}
	return nil
}

// TestFaultKillReader kills a reader process at a random point: the
// writer gets ErrPeerDead within the bound; a new reader takes the end
// and reads exactly the bytes the dead one had not released, then the
// rest.
func TestFaultKillReader(t *testing.T) {
	ty := faulttest.New(t)
	var lat latencies
	for round := range faultRounds {
		ty.Round(killReaderRound(t, round, &lat))
	}
	lat.log(t, "ErrPeerDead after the reader's SIGKILL")
}

func killReaderRound(t *testing.T, round int, lat *latencies) error {
	kind := [...]string{"shm", "sysv"}[round%2]
	p, region, cleanup, err := roundPipe(kind, 1<<(12+round%3), WithWaitMode([...]WaitMode{Adaptive, SleepOnly}[round/2%2]))
	if err != nil {
		return err
	}
	defer cleanup()
	w, err := p.Writer()
	if err != nil {
		return err
	}
	c, err := readyChild(t, "slowread", region, fmt.Sprintf("from=0,chunk=%d", 1+round*104729%3000))
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	var sent int
	go func() {
		for {
			k := 1 + rand.IntN(2000)
			n, err := w.Write(pattern(sent, k))
			sent += n
			if err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	killed := time.Now()
	c.kill()
	var err2 error
	if err, err2 = received(done, "writer", "the reader's SIGKILL"); err2 != nil {
		return err2
	}
	d := time.Since(killed)
	*lat = append(*lat, d)
	if !errors.Is(err, ErrPeerDead) {
		return fmt.Errorf("writer: %v, want ErrPeerDead", err)
	}
	if d > livenessBound {
		return fmt.Errorf("ErrPeerDead %v after the SIGKILL, past the bound %v", d, livenessBound)
	}
	tail, head := positions(p)
	if tail != uint64(sent) {
		return fmt.Errorf("tail %d after writes of %d bytes", tail, sent)
	}
	c2, err := readyChild(t, "read", region, fmt.Sprintf("from=%d", head))
	if err != nil {
		return err
	}
	if _, err := w.Write(pattern(sent, 10000)); err != nil {
		return fmt.Errorf("writing to the second reader: %v", err)
	}
	w.Close()
	if s, want := c2.line(), fmt.Sprintf("read %d EOF", uint64(sent)+10000-head); s != want {
		return fmt.Errorf("second reader says %q, want %q", s, want)
	}
	return c2.cmd.Wait()
}

// TestFaultKillInCommit stops a writer inside Commit, after its record is
// in the ring and before the tail moves, and kills it there: the reader
// gets the records before it, whole, and then ErrPeerDead, never the
// record being committed; the next writer's records follow.
func TestFaultKillInCommit(t *testing.T) {
	ty := faulttest.New(t)
	for round := range faultRounds {
		ty.Round(killInCommitRound(t, round))
	}
}

func killInCommitRound(t *testing.T, round int) error {
	p, region, cleanup, err := roundPipe("shm", 1<<12, Messages())
	if err != nil {
		return err
	}
	defer cleanup()
	r, err := p.Reader()
	if err != nil {
		return err
	}
	count := rand.IntN(12)
	c := startChild(t, "stall", region, fmt.Sprintf("from=0,count=%d", count))
	c.expect("ready")
	buf := make([]byte, 4096)
	for i := range count {
		n, err := r.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], record(i)) {
			return fmt.Errorf("record %d: %d bytes, %v", i, n, err)
		}
	}
	c.expect("stalled")
	c.kill()
	if n, err := r.Read(buf); !errors.Is(err, ErrPeerDead) {
		return fmt.Errorf("after the writer died inside Commit: %d bytes, %v; want ErrPeerDead", n, err)
	}
	c2 := startChild(t, "write", region, fmt.Sprintf("from=%d,count=3", count))
	c2.expect("ready")
	for i := range 3 {
		n, err := r.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], record(count+i)) {
			return fmt.Errorf("the next writer's record %d: %d bytes, %v", count+i, n, err)
		}
	}
	if _, err := r.Read(buf); err != io.EOF {
		return fmt.Errorf("after the next writer closed: %v", err)
	}
	return c2.cmd.Wait()
}

// TestFaultTruncate cuts the segment's file short under a reader blocked
// on an empty ring and under a writer streaming into it: each gets an
// error wrapping ErrFault (the io core's fault handling, or the
// re-check of the file's size), never SIGBUS, within the bound.
func TestFaultTruncate(t *testing.T) {
	ty := faulttest.New(t)
	rounds := max(2, faultRounds/50) // a blocked reader finds out at its re-check, a second later
	for round := range rounds {
		ty.Round(truncateRound(t, round))
	}
}

func truncateRound(t *testing.T, round int) error {
	p, region, cleanup, err := roundPipe("shm", 1<<14)
	if err != nil {
		return err
	}
	defer cleanup()
	path := "/dev/shm/" + strings.TrimPrefix(region, "shm:")
	size := []int64{0, 4096, 4096 + 8192}[round%3]
	if round%2 == 0 {
		// A reader asleep, its writer alive elsewhere.
		r, err := p.Reader()
		if err != nil {
			return err
		}
		c := startChild(t, "hold", region, "role=writer")
		c.expect("ready")
		done := make(chan error, 1)
		go func() { _, err := r.Read(make([]byte, 10)); done <- err }()
		time.Sleep(5 * time.Millisecond)
		cut := time.Now()
		if err := os.Truncate(path, size); err != nil {
			return err
		}
		var err2 error
		if err, err2 = received(done, "reader", fmt.Sprintf("the truncation to %d", size)); err2 != nil {
			return err2
		}
		if d := time.Since(cut); d > livenessBound {
			return fmt.Errorf("the reader learned of the truncation after %v", d)
		}
		c.kill()
		if !errors.Is(err, ioadapt.ErrFault) {
			return fmt.Errorf("reader after truncation to %d: %v, want ErrFault", size, err)
		}
		return nil
	}
	// A writer streaming into a reader elsewhere.
	w, err := p.Writer()
	if err != nil {
		return err
	}
	c := startChild(t, "slowread", region, "from=0,chunk=5000")
	c.expect("ready")
	done := make(chan error, 1)
	go func() {
		for n := 0; ; n += 3000 {
			if _, err := w.Write(pattern(n, 3000)); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
	if err := os.Truncate(path, size); err != nil {
		return err
	}
	var err2 error
	if err, err2 = received(done, "writer", "the truncation"); err2 != nil {
		return err2
	}
	c.kill()
	if !errors.Is(err, ioadapt.ErrFault) && !errors.Is(err, ErrPeerDead) {
		return fmt.Errorf("writer after truncation to %d: %v, want ErrFault", size, err)
	}
	return nil
}

// TestFaultHostileMemory overwrites the header and the control words of
// pipes with random bytes, at random times while both ends run: every
// call returns (success or an error of the package's), none panics or
// hangs past its deadline, and OpenPipe refuses what it should.
func TestFaultHostileMemory(t *testing.T) {
	ty := faulttest.New(t)
	for round := range faultRounds * 2 {
		ty.Round(hostileRound(round))
	}
}

func hostileRound(round int) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(round), 7))
	messages := round%2 == 1
	buf := make([]byte, PipeSize(256))
	var opts []Option
	if messages {
		opts = append(opts, Messages())
	}
	p, err := CreatePipe(ioadapt.NewMemory(buf), opts...)
	if err != nil {
		return err
	}
	defer p.Close()
	scribble := func() {
		for range 1 + rng.IntN(4) {
			var off int
			switch rng.IntN(3) {
			case 0:
				off = rng.IntN(lineSize)
			case 1:
				off = []int{offWriterState, offReaderState, offTail, offHead, offDataSeq, offDataSleepers,
					offSpaceSeq, offSpaceSleepers, offSlots, offSlots + slotSize}[rng.IntN(10)] + rng.IntN(8)
			default:
				off = pipeDataOffset + rng.IntN(256)
			}
			buf[off] = byte(rng.Uint32())
		}
	}
	if round%3 == 0 {
		scribble()
		q, err := OpenPipe(ioadapt.NewMemory(buf), ReadyTimeout(time.Millisecond))
		if err == nil {
			q.Close()
		} else if !errors.Is(err, ErrInvalidHeader) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, fs.ErrClosed) {
			return fmt.Errorf("OpenPipe of a scribbled header: %v", err)
		}
		return nil
	}
	w, err := p.Writer()
	if err != nil {
		return err
	}
	r, err := p.Reader()
	if err != nil {
		return err
	}
	if raceEnabled {
		// Stores from this goroutine into memory that the ends read
		// are a race in the detector's eyes (another process's would
		// be invisible to it): scribble before they start.
		scribble()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 2)
	go func() {
		for {
			if _, err := w.WriteContext(ctx, pattern(0, 1+rng.IntN(100))); err != nil {
				done <- err
				return
			}
		}
	}()
	go func() {
		b := make([]byte, 200)
		for {
			if _, err := r.ReadContext(ctx, b); err != nil {
				done <- err
				return
			}
		}
	}()
	if !raceEnabled {
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
		scribble()
	}
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, syscall.EPIPE) &&
				!errors.Is(err, io.ErrShortBuffer) && err != io.EOF && !errors.Is(err, ErrPeerDead) {
				return fmt.Errorf("a call on scribbled memory: %v", err)
			}
			cancel()
		case <-time.After(hang):
			return fmt.Errorf("a call on scribbled memory still blocked after %v", hang)
		}
	}
	return nil
}

// TestFaultLeaks opens and closes named pipes and their ends many times:
// no descriptor or mapping is left behind.
func TestFaultLeaks(t *testing.T) {
	ty := faulttest.New(t)
	round := func() error {
		name := fmt.Sprintf("%s%d", testPrefix, nameSeq.Add(1))
		p, err := CreateNamedPipe(name, 4096)
		if err != nil {
			return err
		}
		q, err := OpenNamedPipe(name)
		if err != nil {
			p.Close()
			return err
		}
		w, err := p.Writer()
		if err == nil {
			var r *Reader
			if r, err = q.Reader(); err == nil {
				w.Write([]byte("x"))
				r.Read(make([]byte, 1))
				r.SetReadDeadline(time.Now().Add(time.Millisecond))
				r.Read(make([]byte, 1)) // arms the watcher, then times out
				w.Close()
			}
		}
		return errors.Join(err, q.Close(), p.Close())
	}
	if err := round(); err != nil { // the first round opens what stays open
		t.Fatal(err)
	}
	fds, maps := testkit.FDs(t), testkit.Maps(t)
	for range faultRounds * 10 {
		ty.Round(round())
	}
	faulttest.CheckNoGrowth(t, fds, maps, 8)
}
