//go:build linux || windows

package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// memRegion is heap memory for objects of one process: n bytes.
func memRegion(n int64) *ioadapt.Memory { return ioadapt.NewMemory(make([]byte, n)) }

// memMutex makes a mutex at offset 0 of heap memory and opens more
// handles to it; all are closed when the test ends.
func memMutex(t testing.TB, handles int) []*Mutex {
	t.Helper()
	mem := memRegion(ObjectSize(MaxParticipants))
	m, err := CreateMutex(mem, 0)
	if err != nil {
		t.Fatal(err)
	}
	ms := []*Mutex{m}
	for range handles - 1 {
		o, err := OpenMutex(mem, 0)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, o)
	}
	t.Cleanup(func() {
		for _, m := range ms {
			m.Close()
		}
	})
	return ms
}

// TestMutexExcludes: goroutines of several handles, and several
// goroutines of one handle, increment a plain counter under the mutex;
// the race detector sees the mutex's ordering, and the total is exact.
func TestMutexExcludes(t *testing.T) {
	ms := memMutex(t, 4)
	var counter int
	const perG = 2000
	var wg sync.WaitGroup
	for i := range 8 {
		m := ms[i%len(ms)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perG {
				var err error
				switch j % 3 {
				case 0:
					err = m.Lock()
				case 1:
					err = m.LockContext(context.Background())
				case 2:
					err = m.LockDeadline(time.Now().Add(time.Hour))
				}
				if err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := m.Unlock(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	within(t, "goroutines taking turns", wg.Wait)
	if counter != 8*perG {
		t.Fatalf("counter %d, want %d", counter, 8*perG)
	}
}

// TestMutexErrors: every misuse is an error naming what is wrong.
func TestMutexErrors(t *testing.T) {
	ms := memMutex(t, 2)
	a, b := ms[0], ms[1]
	wantErr(t, a.Unlock(), ErrNotOwner, "the mutex is not locked")
	if err := a.Lock(); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of a held mutex: %v, %v", ok, err)
	}
	if ok, err := a.TryLock(); ok || err != nil {
		t.Fatalf("TryLock through the holding handle: %v, %v", ok, err)
	}
	wantErr(t, b.Unlock(), ErrNotOwner, "held by slot 0", "not by this handle (slot 1")
	wantErr(t, b.MarkConsistent(), ErrNotOwner, "held by slot 0")
	if err := a.MarkConsistent(); err != nil {
		t.Fatalf("MarkConsistent of a consistent mutex held: %v", err)
	}
	wantErr(t, b.LockDeadline(time.Now().Add(20*time.Millisecond)), os.ErrDeadlineExceeded)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	wantErr(t, b.LockContext(ctx), context.DeadlineExceeded)
	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.LockContext(ctx) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	within(t, "a Lock whose context was cancelled", func() { wantErr(t, <-errc, context.Canceled) })
	go func() { errc <- b.Lock() }()
	time.Sleep(10 * time.Millisecond)
	b.Close()
	within(t, "a Lock whose handle closed", func() { wantErr(t, <-errc, fs.ErrClosed) })
	wantErr(t, b.Close(), fs.ErrClosed)
	wantErr(t, b.Lock(), fs.ErrClosed)
	wantErr(t, b.Unlock(), fs.ErrClosed)
	if _, err := b.TryLock(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("TryLock after Close: %v", err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// TestMutexAbandoned: a handle closed while it holds the mutex abandons
// it; the next Lock gets it with ErrOwnerDead, and Unlock without
// MarkConsistent makes it unrecoverable for every handle.
func TestMutexAbandoned(t *testing.T) {
	for _, mark := range []bool{true, false} {
		ms := memMutex(t, 3)
		a, b, c := ms[0], ms[1], ms[2]
		if err := a.Lock(); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { errc <- b.Lock() }()
		time.Sleep(10 * time.Millisecond)
		a.Close()
		var err error
		within(t, "a Lock waiting when the holder closed", func() { err = <-errc })
		wantErr(t, err, ErrOwnerDead, "slot 0", "closed its handle", "MarkConsistent")
		if ok, err := c.TryLock(); ok || err != nil {
			t.Fatalf("TryLock while the new owner holds it: %v %v", ok, err)
		}
		if mark {
			if err := b.MarkConsistent(); err != nil {
				t.Fatal(err)
			}
			if err := b.Unlock(); err != nil {
				t.Fatal(err)
			}
			if err := c.Lock(); err != nil {
				t.Fatalf("Lock after MarkConsistent: %v", err)
			}
			c.Unlock()
			continue
		}
		wantErr(t, b.Unlock(), ErrNotRecoverable, "without MarkConsistent")
		wantErr(t, c.Lock(), ErrNotRecoverable, "cannot be locked again")
		if ok, err := c.TryLock(); ok || !errors.Is(err, ErrNotRecoverable) {
			t.Fatalf("TryLock of an unrecoverable mutex: %v %v", ok, err)
		}
		wantErr(t, b.Lock(), ErrNotRecoverable)
		wantErr(t, c.Unlock(), ErrNotRecoverable, "unrecoverable")
	}
}

// TestObjectSizes: the slots of a mutex, semaphore and event start at
// byte 256, one 128-byte line each, as section 8 of the doc says
// (TestLayoutMatchesDoc checks their fields).
func TestObjectSizes(t *testing.T) {
	if objSlotStride != lineSize || offObjSlots != 2*lineSize || ObjectSize(MaxParticipants) != 4352 {
		t.Errorf("slots at %d, %d bytes apart, %d bytes for %d: the doc says 256, 128 and 4352", offObjSlots, objSlotStride, ObjectSize(MaxParticipants), MaxParticipants)
	}
}

// TestObjectWaitID: every kind of object gets a wait_id of its own, never
// 0, in a header of version 1.2 (section 2 of the layout): on Windows it
// names the slots' wait events, and objects that shared one would wake
// each other's sleepers.
func TestObjectWaitID(t *testing.T) {
	size := ObjectSize(2)
	mem := memRegion(6 * size)
	b := mem.Bytes()
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for i := range int64(6) {
		var err error
		var c func() error
		switch i % 3 {
		case 0:
			var m *Mutex
			m, err = CreateMutex(mem, i*size, Participants(2))
			c = func() error { return m.Close() }
		case 1:
			var s *Semaphore
			s, err = CreateSemaphore(mem, i*size, 1, 1, Participants(2))
			c = func() error { return s.Close() }
		case 2:
			var e *Event
			e, err = CreateEvent(mem, i*size, false, Participants(2))
			c = func() error { return e.Close() }
		}
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, c)
	}
	seen := map[uint64]int64{}
	for i := range int64(6) {
		h := b[i*size:]
		if minor := binary.LittleEndian.Uint16(h[10:]); minor != 2 {
			t.Errorf("object %d: version_minor %d, want 2", i, minor)
		}
		id := binary.LittleEndian.Uint64(h[80:])
		if id == 0 {
			t.Errorf("object %d (kind %d): wait_id 0", i, binary.LittleEndian.Uint32(h[16:]))
		}
		if j, ok := seen[id]; ok {
			t.Errorf("objects %d and %d share the wait_id %#x", j, i, id)
		}
		seen[id] = i
	}
}

func memSemaphore(t testing.TB, initial, max, handles int) []*Semaphore {
	t.Helper()
	mem := memRegion(ObjectSize(MaxParticipants))
	s, err := CreateSemaphore(mem, 0, initial, max)
	if err != nil {
		t.Fatal(err)
	}
	ss := []*Semaphore{s}
	for range handles - 1 {
		o, err := OpenSemaphore(mem, 0)
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, o)
	}
	t.Cleanup(func() {
		for _, s := range ss {
			s.Close()
		}
	})
	return ss
}

// TestSemaphoreBounds: goroutines of several handles hold permits at
// once; never more than the maximum, and every permit comes back.
func TestSemaphoreBounds(t *testing.T) {
	const max = 5
	ss := memSemaphore(t, max, max, 4)
	var inUse, peak atomic.Int64
	var wg sync.WaitGroup
	for g := range 12 {
		s := ss[g%len(ss)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				n := 1 + (g+i)%3
				var err error
				if i%2 == 0 {
					err = s.Acquire(context.Background(), n)
				} else {
					err = s.AcquireDeadline(time.Now().Add(time.Hour), n)
				}
				if err != nil {
					t.Error(err)
					return
				}
				v := inUse.Add(int64(n))
				for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
				}
				inUse.Add(-int64(n))
				if err := s.Release(n); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	within(t, "goroutines sharing permits", wg.Wait)
	if p := peak.Load(); p > max {
		t.Errorf("%d permits held at once, past the maximum %d", p, max)
	}
	if a := ss[0].Available(); a != max {
		t.Errorf("%d available after every release, want %d", a, max)
	}
	for i, s := range ss {
		if s.Held() != 0 {
			t.Errorf("handle %d holds %d after releasing all", i, s.Held())
		}
	}
}

// TestSemaphoreErrors: bad counts, a release past the maximum, calls
// after Close, a Close that gives permits back.
func TestSemaphoreErrors(t *testing.T) {
	mem := memRegion(ObjectSize(4))
	for _, c := range []struct {
		initial, max int64
		want         string
	}{
		{0, 0, "maximum 0 is not from 1 to 2147483647"},
		{0, -1, "maximum -1 is not"},
		{0, 1 << 31, "maximum 2147483648 is not"}, // not an int where int has 32 bits
		{-1, 3, "initial count -1 is not from 0 to the maximum 3"},
		{4, 3, "initial count 4 is not from 0 to the maximum 3"},
	} {
		if int64(int(c.max)) != c.max {
			continue
		}
		_, err := CreateSemaphore(mem, 0, int(c.initial), int(c.max), Participants(4))
		wantErr(t, err, fs.ErrInvalid, c.want)
	}
	ss := memSemaphore(t, 1, 3, 2)
	a, b := ss[0], ss[1]
	for _, n64 := range []int64{0, -2, 4, 1 << 40} {
		n := int(n64)
		if int64(n) != n64 {
			continue // not an int where int has 32 bits
		}
		wantErr(t, a.Acquire(context.Background(), n), fs.ErrInvalid, "count "+strconv.Itoa(n)+" is not from 1 to the maximum 3")
		_, err := a.TryAcquire(n)
		wantErr(t, err, fs.ErrInvalid, "count "+strconv.Itoa(n))
		wantErr(t, a.Release(n), fs.ErrInvalid, "count "+strconv.Itoa(n))
	}
	wantErr(t, a.Release(3), fs.ErrInvalid, "releasing 3 permits would raise the count 1 past the maximum 3")
	if ok, err := a.TryAcquire(1); !ok || err != nil {
		t.Fatalf("TryAcquire(1) of 1: %v %v", ok, err)
	}
	if ok, err := b.TryAcquire(1); ok || err != nil {
		t.Fatalf("TryAcquire(1) of 0: %v %v", ok, err)
	}
	wantErr(t, b.AcquireDeadline(time.Now().Add(20*time.Millisecond), 1), os.ErrDeadlineExceeded)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	wantErr(t, b.Acquire(ctx, 1), context.DeadlineExceeded)
	errc := make(chan error, 1)
	go func() { errc <- b.Acquire(context.Background(), 2) }()
	time.Sleep(10 * time.Millisecond)
	if err := a.Close(); err != nil { // gives its permit back: 1 available
		t.Fatal(err)
	}
	if err := b.Release(1); err != nil { // a gift: 2 available
		t.Fatal(err)
	}
	within(t, "an Acquire woken by a Close and a Release", func() {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
	if b.Held() != 2 {
		t.Fatalf("held %d, want 2", b.Held())
	}
	wantErr(t, a.Release(1), fs.ErrClosed)
	wantErr(t, a.Acquire(context.Background(), 1), fs.ErrClosed)
	wantErr(t, a.Close(), fs.ErrClosed)
	go func() { errc <- b.Acquire(context.Background(), 3) }()
	time.Sleep(10 * time.Millisecond)
	b.Close()
	within(t, "an Acquire whose handle closed", func() { wantErr(t, <-errc, fs.ErrClosed) })
}

// TestSemaphoreCloseRace: a handle's Acquire and Release race its Close,
// many times over. Each call either fails with fs.ErrClosed having moved
// nothing, or comes before Close, which gives its permits back: once the
// handle is closed every permit is available again.
func TestSemaphoreCloseRace(t *testing.T) {
	rounds := 1000
	if raceEnabled {
		rounds = 300
	}
	for i := range rounds {
		mem := memRegion(ObjectSize(4))
		b, err := CreateSemaphore(mem, 0, 2, 2, Participants(4))
		if err != nil {
			t.Fatal(err)
		}
		a, err := OpenSemaphore(mem, 0)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				var err error
				if i%2 == 0 {
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Microsecond)
					err = a.Acquire(ctx, 1)
					cancel()
				} else {
					_, err = a.TryAcquire(1)
				}
				if err == nil {
					err = a.Release(1)
				}
				if err != nil && !errors.Is(err, fs.ErrClosed) && !errors.Is(err, context.DeadlineExceeded) {
					done <- err
					return
				}
			}
		}()
		time.Sleep(time.Duration(i%20) * 50 * time.Microsecond)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if got := b.Available(); got != 2 || a.Held() != 0 {
			t.Fatalf("round %d: %d permits available and %d held by the closed handle after its Close, want 2 and 0", i, got, a.Held())
		}
		b.Close()
	}
}

// TestEvent: manual-reset events let every waiter through until Reset;
// auto-reset ones one Wait per Set.
func TestEvent(t *testing.T) {
	mem := memRegion(2 * ObjectSize(MaxParticipants))
	manual, err := CreateEvent(mem, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer manual.Close()
	auto, err := CreateEvent(mem, ObjectSize(MaxParticipants), true)
	if err != nil {
		t.Fatal(err)
	}
	defer auto.Close()
	if manual.AutoReset() || !auto.AutoReset() || manual.IsSet() {
		t.Fatal("modes or state wrong after creation")
	}
	errc := make(chan error, 8)
	for range 4 {
		go func() { errc <- manual.Wait(context.Background()) }()
	}
	time.Sleep(10 * time.Millisecond)
	manual.Set()
	within(t, "waiters of a manual-reset event", func() {
		for range 4 {
			if err := <-errc; err != nil {
				t.Error(err)
			}
		}
	})
	if err := manual.WaitDeadline(time.Now()); err != nil {
		t.Fatalf("Wait of a set manual event: %v", err)
	}
	manual.Reset()
	wantErr(t, manual.WaitDeadline(time.Now().Add(10*time.Millisecond)), os.ErrDeadlineExceeded)

	other, err := OpenEvent(mem, ObjectSize(MaxParticipants))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var woken atomic.Int32
	for range 3 {
		go func() {
			err := other.Wait(context.Background())
			woken.Add(1)
			errc <- err
		}()
	}
	time.Sleep(10 * time.Millisecond)
	for i := range 3 {
		auto.Set()
		within(t, "an auto-reset Wait", func() {
			if err := <-errc; err != nil {
				t.Error(err)
			}
		})
		time.Sleep(5 * time.Millisecond)
		if n := woken.Load(); n != int32(i+1) {
			t.Fatalf("%d waits through after %d sets", n, i+1)
		}
	}
	auto.Set() // kept for the next Wait
	if err := auto.WaitDeadline(time.Now()); err != nil {
		t.Fatalf("Wait after a Set nobody waited for: %v", err)
	}
	if auto.IsSet() {
		t.Fatal("auto-reset event still set after its Wait")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { errc <- auto.Wait(ctx) }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	within(t, "a Wait cancelled", func() { wantErr(t, <-errc, context.Canceled) })
	other.Close()
	wantErr(t, other.Set(), fs.ErrClosed)
	wantErr(t, other.Wait(context.Background()), fs.ErrClosed)
}

// TestObjectBadInput: misplaced objects, regions too small, foreign,
// corrupt or half-made headers, kinds mixed up: each an error naming the
// value, and nothing waits past ObjectReadyTimeout.
func TestObjectBadInput(t *testing.T) {
	size := ObjectSize(MaxParticipants)
	mem := memRegion(2 * size)
	_, err := CreateMutex(mem, 4)
	wantErr(t, err, fs.ErrInvalid, "offset 4 of the mutex is not a non-negative multiple of 8")
	_, err = CreateMutex(mem, -8)
	wantErr(t, err, fs.ErrInvalid, "offset -8")
	_, err = CreateMutex(mem, size+8)
	wantErr(t, err, fs.ErrInvalid, "too small for a mutex of 4352 bytes at offset 4360")
	_, err = CreateMutex(memRegion(100), 0)
	wantErr(t, err, fs.ErrInvalid, "region of 100 bytes is too small")
	_, err = CreateMutex(mem, 0, Participants(33))
	wantErr(t, err, fs.ErrInvalid, "participants 33 is not from 1 to 32")
	_, err = CreateMutex(mem, 0, Participants(0))
	wantErr(t, err, fs.ErrInvalid, "participants 0")
	_, err = OpenMutex(mem, 0, ObjectReadyTimeout(20*time.Millisecond))
	wantErr(t, err, ErrInvalidHeader, "state 0 (empty)", "no mutex was created")

	m, err := CreateMutex(mem, 0, Participants(2))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = CreateMutex(mem, 0)
	wantErr(t, err, fs.ErrExist, "already holds an ipc object")
	_, err = OpenSemaphore(mem, 0)
	wantErr(t, err, ErrInvalidHeader, "kind 3 is not a semaphore (4)")
	_, err = OpenPipe(mem)
	wantErr(t, err, ErrInvalidHeader, "kind 3 is not a pipe")
	m2, err := OpenMutex(mem, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	_, err = OpenMutex(mem, 0)
	wantErr(t, err, ErrInUse, "all 2 participant slots of the mutex are attached")

	b := mem.Bytes()
	for _, c := range []struct {
		off   int
		value uint32
		want  string
	}{
		{offMajor, 2, "version_major 2"},
		{offSlotCount, 0, "slot_count 0 is not from 1 to 32"},
		{offSlotCount, 40, "slot_count 40"},
		{offHeaderSize, 1152, "header_size 1152, want 512 for a mutex of 2 slots"},
		{offLineSize, 64, "line_size 64"},
		{offFlags, 6, "flags 0x6 has unknown bits 0x6"},
		{offCapacity, 64, "capacity 64 and data_offset 0, want 0 and 0"},
		{offState, 7, "state 7"},
	} {
		saved := append([]byte(nil), b[:lineSize]...)
		if c.off == offMajor {
			binary.LittleEndian.PutUint16(b[c.off:], uint16(c.value))
		} else {
			binary.LittleEndian.PutUint32(b[c.off:], c.value)
		}
		_, err := OpenMutex(mem, 0)
		wantErr(t, err, ErrInvalidHeader, c.want)
		copy(b, saved)
	}
	copy(b, "NOTMMKIT")
	_, err = OpenMutex(mem, 0)
	wantErr(t, err, ErrInvalidHeader, `magic "NOTMMKIT"`)
	copy(b, "MMKITIPC")
	// A lock word that names no slot is corruption, not a hang.
	atomic.StoreUint64(u64(b, offMutexLock), lockWord(lockHeld, 1, 9))
	_, err = m.TryLock()
	wantErr(t, err, ErrCorrupt, "names state 1, slot 9 of 2")
	atomic.StoreUint64(u64(b, offMutexLock), 0)

	// A header left half-made by a creator that died.
	half := memRegion(size)
	atomic.StoreUint32(u32(half.Bytes(), offState), stateInit)
	_, err = OpenEvent(half, 0, ObjectReadyTimeout(20*time.Millisecond))
	wantErr(t, err, ErrInvalidHeader, "state 1 (init)", "half-made")
	_, err = CreateEvent(half, 0, false)
	wantErr(t, err, fs.ErrExist, "not zeroed")
}

// TestObjectWordsChecked: a joiner refuses a semaphore's maximum or an
// event's mode that no creator writes, naming the value, as it refuses
// the header's own fields.
func TestObjectWordsChecked(t *testing.T) {
	size := ObjectSize(2)
	mem := memRegion(size)
	s, err := CreateSemaphore(mem, 0, 1, 3, Participants(2))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := mem.Bytes()
	for _, v := range []uint32{0, 1 << 31, 1<<32 - 1} {
		atomic.StoreUint32(u32(b, offSemMax), v)
		_, err := OpenSemaphore(mem, 0)
		wantErr(t, err, ErrInvalidHeader, "max "+strconv.FormatUint(uint64(v), 10)+" of the semaphore is not from 1 to 2147483647")
	}
	atomic.StoreUint32(u32(b, offSemMax), 3)
	s2, err := OpenSemaphore(mem, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Max() != 3 {
		t.Errorf("Max() = %d after the header was mended, want 3", s2.Max())
	}
	s2.Close()

	emem := memRegion(size)
	e, err := CreateEvent(emem, 0, true, Participants(2))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	eb := emem.Bytes()
	atomic.StoreUint32(u32(eb, offEventMode), 2)
	_, err = OpenEvent(emem, 0)
	wantErr(t, err, ErrInvalidHeader, "mode 2 of the event is not 0 (manual reset) or 1 (auto-reset)")
	atomic.StoreUint32(u32(eb, offEventMode), eventManual)
	_, err = CreateEvent(memRegion(100), 0, false)
	wantErr(t, err, fs.ErrInvalid, "too small for an event")
	e2, err := OpenEvent(emem, 0)
	if err != nil {
		t.Fatal(err)
	}
	if e2.AutoReset() {
		t.Error("AutoReset() of an event whose mode word says manual reset")
	}
	e2.Close()
}

// movingRegion is heap memory that Resize replaces with a fresh slice,
// as a file's mapping that cannot retire its old range moves: the
// Region of Windows' file views, or of a File that stopped retiring.
type movingRegion struct{ b []byte }

func (r *movingRegion) Bytes() []byte  { return r.b }
func (r *movingRegion) Size() int64    { return int64(len(r.b)) }
func (r *movingRegion) Writable() bool { return true }
func (r *movingRegion) Name() string   { return "moving" }
func (r *movingRegion) Sync() error    { return nil }
func (r *movingRegion) Close() error   { return nil }
func (r *movingRegion) Resize(size int64) error {
	b := make([]byte, size)
	copy(b, r.b)
	r.b = b
	return nil
}

// TestObjectsRefuseMovingMemory: an object keeps pointers into its
// Region's memory and touches it through them, outside the Region's lock,
// so it needs memory that stays where it is, or a Region that keeps the
// old addresses reserved when it moves (ioadapt.HoldMemory). A Region
// that can move its memory without that is refused, naming why, where
// the handle's Lock would have written wherever the memory had been.
func TestObjectsRefuseMovingMemory(t *testing.T) {
	r := ioadapt.New(&movingRegion{b: make([]byte, ObjectSize(2))})
	defer r.Close()
	_, err := CreateMutex(r, 0, Participants(2))
	wantErr(t, err, ErrUnsupported, "a mutex needs memory that stays where it is", "can be resized")
	_, err = CreateSemaphore(r, 0, 1, 1, Participants(2))
	wantErr(t, err, ErrUnsupported, "a semaphore needs memory that stays where it is")
	_, err = OpenEvent(r, 0)
	wantErr(t, err, ErrUnsupported, "an event needs memory that stays where it is")
}
