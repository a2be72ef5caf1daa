package ioadapt

import "testing"

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
