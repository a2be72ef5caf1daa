package testkit

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// HangTimeout is how long a call may take before it counts as hung: so
// generous that a loaded machine never reaches it.
const HangTimeout = 60 * time.Second

// Finishes runs fn and waits for it up to HangTimeout; then it fails t
// and returns false, and the caller must leave alone whatever fn still
// holds.
func Finishes(t testing.TB, what string, fn func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return true
	case <-time.After(HangTimeout):
		t.Errorf("%s did not return in %v: it hangs", what, HangTimeout)
		return false
	}
}

// LockedBuffer is a writer that takes a lock on every Write, as a shared
// log does; what it holds may be read while another goroutine (a
// command's output copier) writes it.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (l *LockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}

// String returns what was written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Catch runs fn and returns what it panicked with, or nil.
func Catch(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// Panicker is a peer that panics with Boom once it has passed Room
// bytes, as a reader (of 'r' bytes) or as a writer.
type Panicker struct {
	Room int
	Boom error
}

// Read fills b with 'r' while Room lasts, then panics.
func (p *Panicker) Read(b []byte) (int, error) {
	if p.Room == 0 {
		panic(p.Boom)
	}
	n := min(len(b), p.Room)
	for i := range b[:n] {
		b[i] = 'r'
	}
	p.Room -= n
	return n, nil
}

// Write takes b while Room lasts, then panics.
func (p *Panicker) Write(b []byte) (int, error) {
	if len(b) > p.Room {
		panic(p.Boom)
	}
	p.Room -= len(b)
	return len(b), nil
}

// WaitFor polls until cond holds, for what only shows from outside (a
// file another process makes); after [HangTimeout] it fails t, saying what
// it waited for.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(HangTimeout); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting %v for %s", HangTimeout, what)
		}
	}
}
