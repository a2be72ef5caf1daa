//go:build linux || windows

package ipc

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// lostWake is how long a wake-up may take before the test calls it lost:
// a sleeper whose wake went astray only returns at its re-check,
// objRecheckWatched later; a wake that arrives takes microseconds.
const lostWake = objRecheckWatched * 7 / 10

// TestEventWakesNotLost: two auto-reset events passed back and forth
// between this goroutine and the goroutines of several handles (two per
// handle), round after round; each Set must reach a waiter long before
// the re-check would, or a wake was lost.
func TestEventWakesNotLost(t *testing.T) {
	mem := memRegion(2 * ObjectSize(8))
	ping, err := CreateEvent(mem, 0, true, Participants(8))
	if err != nil {
		t.Fatal(err)
	}
	defer ping.Close()
	pong, err := CreateEvent(mem, ObjectSize(8), true, Participants(8))
	if err != nil {
		t.Fatal(err)
	}
	defer pong.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 8)
	for range 3 {
		pi, err := OpenEvent(mem, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer pi.Close()
		po, err := OpenEvent(mem, ObjectSize(8))
		if err != nil {
			t.Fatal(err)
		}
		defer po.Close()
		for range 2 {
			go func() {
				for {
					if err := pi.Wait(ctx); err != nil {
						errc <- err
						return
					}
					if err := po.Set(); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
	}
	const rounds = 200
	var worst time.Duration
	for r := range rounds {
		start := time.Now()
		if err := ping.Set(); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(context.Background(), hang)
		err := pong.Wait(wctx)
		wcancel()
		if err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("%d rounds, the slowest %v", rounds, worst)
	if worst > lostWake {
		t.Errorf("a round took %v, past %v: a wake was lost and the re-check found the event", worst, lostWake)
	}
	cancel()
	for range 6 {
		if err := <-errc; err == nil {
			t.Error("a waiter returned nil after its context ended")
		}
	}
}

// TestMutexHandoffNotLost: while one handle holds the mutex, the
// goroutines of several other handles go to sleep in Lock; each Unlock
// wakes one of them (section 8.3), who unlocks in turn, so that all get
// the mutex one after another, long before any re-check.
func TestMutexHandoffNotLost(t *testing.T) {
	ms := memMutex(t, 5)
	sleepers := u32(ms[0].o.mem, offMutexSleepers)
	var worst time.Duration
	for r := range 30 {
		if err := ms[0].Lock(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 8)
		for _, m := range ms[1:] {
			for range 2 {
				go func() {
					err := m.Lock()
					if err == nil {
						err = m.Unlock()
					}
					done <- err
				}()
			}
		}
		deadline := time.Now().Add(hang)
		for atomic.LoadUint32(sleepers) != 0b11110 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: sleepers %#b, want 0b11110", r, atomic.LoadUint32(sleepers))
			}
			time.Sleep(100 * time.Microsecond)
		}
		start := time.Now()
		if err := ms[0].Unlock(); err != nil {
			t.Fatal(err)
		}
		for range 8 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("round %d: %v", r, err)
				}
			case <-time.After(hang):
				t.Fatalf("round %d: a Lock still blocked %v after the unlock", r, hang)
			}
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("the slowest handoff of 8 sleepers took %v", worst)
	if worst > lostWake {
		t.Errorf("8 handoffs took %v, past %v: a wake was lost and a re-check found the mutex free", worst, lostWake)
	}
}
