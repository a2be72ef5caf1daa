//go:build linux || windows

package ipc

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// farFuture is past the range of time.Until (about 292 years), which
// saturates there: a deadline that far out means waiting as long as it
// takes.
var farFuture = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)

// TestClockAt: deadlines convert to the sys.Now clock without wrapping.
func TestClockAt(t *testing.T) {
	if got := clockAt(farFuture); got != math.MaxInt64 {
		t.Errorf("clockAt(year 9999) = %d, want the largest value", got)
	}
	if got := clockAt(time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)); got != 1 {
		t.Errorf("clockAt(year 1) = %d, want 1 (past)", got)
	}
	now := sys.Now()
	if got := clockAt(time.Now().Add(time.Hour)); got < now+int64(59*time.Minute) || got > now+int64(61*time.Minute) {
		t.Errorf("clockAt(an hour from now) = %d, now %d", got, now)
	}
}

// blocks starts call, which must wait until unblock runs and then
// return nil: a deadline or context far in the future must not fail it
// at once. A short sleep first shows it still waiting (a call that
// failed at once has returned by then); the result after unblock is what
// decides.
func blocks(t *testing.T, what string, call func() error, unblock func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- call() }()
	select {
	case err := <-errc:
		t.Fatalf("%s returned before it was unblocked: %v", what, err)
	case <-time.After(20 * time.Millisecond):
	}
	if err := unblock(); err != nil {
		t.Fatalf("%s: unblocking: %v", what, err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(hang):
		t.Fatalf("%s still blocked %v after it was unblocked", what, hang)
	}
}

// TestFarDeadlines: deadlines and contexts in year 9999 wait, on every
// object and on both ends of a pipe, until another goroutine lets the
// call go on.
func TestFarDeadlines(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), farFuture)
	defer cancel()

	mutex := func(t *testing.T, lock func(m *Mutex) error) {
		ms := memMutex(t, 2)
		if err := ms[0].Lock(); err != nil {
			t.Fatal(err)
		}
		blocks(t, "Lock", func() error { return lock(ms[1]) }, ms[0].Unlock)
	}
	t.Run("Mutex.LockDeadline", func(t *testing.T) { mutex(t, func(m *Mutex) error { return m.LockDeadline(farFuture) }) })
	t.Run("Mutex.LockContext", func(t *testing.T) { mutex(t, func(m *Mutex) error { return m.LockContext(ctx) }) })

	semaphore := func(t *testing.T, acquire func(s *Semaphore) error) {
		ss := memSemaphore(t, 0, 1, 2)
		blocks(t, "Acquire", func() error { return acquire(ss[0]) }, func() error { return ss[1].Release(1) })
	}
	t.Run("Semaphore.AcquireDeadline", func(t *testing.T) {
		semaphore(t, func(s *Semaphore) error { return s.AcquireDeadline(farFuture, 1) })
	})
	t.Run("Semaphore.Acquire", func(t *testing.T) { semaphore(t, func(s *Semaphore) error { return s.Acquire(ctx, 1) }) })

	event := func(t *testing.T, wait func(e *Event) error) {
		e, err := CreateEvent(memRegion(ObjectSize(4)), 0, true, Participants(4))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		blocks(t, "Wait", func() error { return wait(e) }, e.Set)
	}
	t.Run("Event.WaitDeadline", func(t *testing.T) { event(t, func(e *Event) error { return e.WaitDeadline(farFuture) }) })
	t.Run("Event.Wait", func(t *testing.T) { event(t, func(e *Event) error { return e.Wait(ctx) }) })

	for _, mode := range []WaitMode{Adaptive, SleepOnly, SpinOnly} {
		// read waits on an empty ring, write on a full one.
		read := func(t *testing.T, call func(r *Reader, p []byte) error) {
			w, r := ends(t, memPipe(t, 64, WithWaitMode(mode)))
			blocks(t, "Read", func() error { return call(r, make([]byte, 64)) }, func() error { _, err := w.Write([]byte("x")); return err })
		}
		write := func(t *testing.T, call func(w *Writer, p []byte) error) {
			w, r := ends(t, memPipe(t, 64, WithWaitMode(mode)))
			if _, err := w.Write(make([]byte, 64)); err != nil {
				t.Fatal(err)
			}
			blocks(t, "Write", func() error { return call(w, []byte("y")) }, func() error { _, err := r.Read(make([]byte, 1)); return err })
		}
		t.Run(mode.String()+"/Reader.SetReadDeadline", func(t *testing.T) {
			read(t, func(r *Reader, p []byte) error { r.SetReadDeadline(farFuture); _, err := r.Read(p); return err })
		})
		t.Run(mode.String()+"/Reader.ReadContext", func(t *testing.T) {
			read(t, func(r *Reader, p []byte) error { _, err := r.ReadContext(ctx, p); return err })
		})
		t.Run(mode.String()+"/Writer.SetDeadline", func(t *testing.T) {
			write(t, func(w *Writer, p []byte) error { w.SetDeadline(farFuture); _, err := w.Write(p); return err })
		})
		t.Run(mode.String()+"/Writer.WriteContext", func(t *testing.T) {
			write(t, func(w *Writer, p []byte) error { _, err := w.WriteContext(ctx, p); return err })
		})
	}
}
