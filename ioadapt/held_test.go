package ioadapt

import (
	"errors"
	"testing"
)

// unheldRegion is heap memory that says it retires, and records whether
// IO told it that no call holds its memory before its Close.
type unheldRegion struct {
	*Memory
	unheld bool
}

func (*unheldRegion) Retired() [][]byte { return nil }
func (*unheldRegion) StopRetiring()     {}
func (r *unheldRegion) Unheld()         { r.unheld = true }

// TestHeldAgainstClose checks both halves of the protocol between a
// lock-free call's first touch of a view (hold) and Close: a call that
// loaded the view before Close and holds it only after must be sent
// back (the memory may be gone), and a Close after a call held the view
// must not let the Region unmap at once.
func TestHeldAgainstClose(t *testing.T) {
	for _, heldFirst := range []bool{false, true} {
		r := &unheldRegion{Memory: NewMemory(make([]byte, 4096))}
		c := New(r)
		v := c.s.cur.Load() // a call's load of the view, before Close
		if heldFirst && !c.s.hold(v) {
			t.Fatal("hold of the current view failed")
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		switch {
		case heldFirst && r.unheld:
			t.Error("Close told the Region that no call holds memory that a call held")
		case !heldFirst && !r.unheld:
			t.Error("Close of memory that no call held did not tell the Region")
		case !heldFirst && c.s.hold(v):
			t.Error("a call that loaded the view before Close may still copy after Close found it unheld")
		}
	}
}

// shrinkingRegion is an unheldRegion whose backing store another process
// may shrink: its Refresh keeps the memory where it is and only lowers
// the size, as a file mapping's does.
type shrinkingRegion struct {
	unheldRegion
	store int64
}

func (r *shrinkingRegion) Bytes() []byte             { return r.Memory.b }
func (r *shrinkingRegion) StoreSize() (int64, error) { return r.store, nil }
func (r *shrinkingRegion) Refresh() error            { r.Memory.b = r.Memory.b[:r.store]; return nil }

// TestHeldAcrossShrink: a call holds a view; the backing store shrinks,
// which publishes a new view over the same memory. Close must see the
// call's hold through the new view and not let the Region unmap at once.
func TestHeldAcrossShrink(t *testing.T) {
	r := &shrinkingRegion{unheldRegion: unheldRegion{Memory: NewMemory(make([]byte, 8192))}, store: 8192}
	c := New(r)
	v := c.s.cur.Load()
	if !c.s.hold(v) {
		t.Fatal("hold of the current view failed")
	}
	r.store = 100
	if _, err := c.refresh(); err != nil {
		t.Fatal(err)
	}
	if c.s.cur.Load() == v || c.s.cur.Load().base != v.base {
		t.Fatal("the shrink did not publish a new view over the same memory")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r.unheld {
		t.Error("Close let the Region unmap at once memory that a call holds through an older view")
	}
}

// TestHoldAfterUnheldClose: two calls loaded the view before a Close that
// found it unheld; the first is sent back by hold, and so must be the
// second, although the first left the view marked held.
func TestHoldAfterUnheldClose(t *testing.T) {
	r := &unheldRegion{Memory: NewMemory(make([]byte, 4096))}
	c := New(r)
	v := c.s.cur.Load()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !r.unheld {
		t.Fatal("Close of an unheld view did not tell the Region")
	}
	if c.s.hold(v) {
		t.Fatal("the first late call may copy from memory Close unmapped")
	}
	if c.s.hold(v) {
		t.Error("the second late call may copy from memory Close unmapped")
	}
}

// TestHoldMemory: a hold is taken only where the Region retires what it
// drops, and tells when the IO closed.
func TestHoldMemory(t *testing.T) {
	if _, _, err := HoldMemory(NewMemory(make([]byte, 64))); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("HoldMemory of a Region that is not an IO: %v, want ErrUnsupported", err)
	}
	c := New(NewMemory(make([]byte, 64)))
	b, h, err := HoldMemory(c)
	if err != nil || len(b) != 64 {
		t.Fatalf("HoldMemory: %d bytes, %v", len(b), err)
	}
	if h.Closed() {
		t.Fatal("Closed before Close")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !h.Closed() {
		t.Fatal("not Closed after Close")
	}
	if _, _, err := HoldMemory(c); !errors.Is(err, ErrClosed) {
		t.Fatalf("HoldMemory after Close: %v, want ErrClosed", err)
	}
}
