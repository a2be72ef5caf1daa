package ipc

import (
	"context"
	"errors"
	"io/fs"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
	"github.com/mmapkit/mmapkit/sysv"
)

// A closableSegment is a segment of one of the kinds the tests close
// under the objects: POSIX (shm) or System V.
type closableSegment interface {
	ioadapt.Region
	Bytes() []byte
}

// TestFaultMutexRegionClosedFirst: goroutines Lock and Unlock through two
// handles while the segment (POSIX, anonymous or System V) is closed under
// them, before the handles.
// No call may crash, hang or report a fault: each ends with fs.ErrClosed
// (or goes on, on a memfd, whose memory stays mapped while a handle
// holds it). While the handles live, the segment's old addresses are
// not mapped again: fresh segments mapped after a collection never land
// there, so a stray lock word cannot be written into them.
func TestFaultMutexRegionClosedFirst(t *testing.T) {
	kinds := map[string]func() (closableSegment, error){
		"named":     func() (closableSegment, error) { return shm.Create(segName(t), lockSegSize) },
		"anonymous": func() (closableSegment, error) { return shm.CreateAnonymous(lockSegSize) },
		"sysv": func() (closableSegment, error) {
			s, err := sysv.CreatePrivate(lockSegSize)
			if err == nil {
				t.Cleanup(func() { _ = s.Remove() })
			}
			return s, err
		},
	}
	for kind, create := range kinds {
		t.Run(kind, func(t *testing.T) {
			if kind != "anonymous" {
				skipFaultingAtomics(t)
			}
			for round := range 10 {
				regionClosedRound(t, create, round)
			}
		})
	}
}

func regionClosedRound(t *testing.T, create func() (closableSegment, error), round int) {
	seg, err := create()
	if errors.Is(err, unix.ENOSYS) {
		t.Skipf("no memfd_create on this kernel: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	m1, err := CreateMutex(seg, 0, Participants(4))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := OpenMutex(seg, 0)
	if err != nil {
		t.Fatal(err)
	}
	old := seg.Bytes()
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(old)))
	hi := lo + uintptr(len(old))

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		m := m1
		if g%2 == 1 {
			m = m2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := m.Lock()
				if errors.Is(err, ErrOwnerDead) {
					err = m.MarkConsistent()
				}
				if err == nil {
					err = m.Unlock()
				}
				if errors.Is(err, fs.ErrClosed) {
					return
				}
				if err != nil && !errors.Is(err, ErrNotOwner) {
					errs <- err
					return
				}
			}
		}()
	}
	time.Sleep(time.Duration(round%4) * time.Millisecond)
	if err := seg.Close(); err != nil {
		t.Fatal(err)
	}
	// Try to have the old addresses taken: collect, then map segments of
	// the same size.
	runtime.GC()
	var fresh []*shm.Segment
	for range 16 {
		s, err := shm.CreateAnonymous(lockSegSize)
		if err != nil {
			t.Fatal(err)
		}
		fresh = append(fresh, s)
	}
	time.Sleep(2 * time.Millisecond)
	done := make(chan struct{})
	go func() { m1.Close(); m2.Close(); wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(hang):
		t.Fatalf("round %d: Lock and Unlock Close or the calls under way still running after %v", round, hang)
	}
	close(errs)
	for err := range errs {
		t.Errorf("round %d: a call ended with %v, want fs.ErrClosed", round, err)
	}
	for i, s := range fresh {
		b := s.Bytes()
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if p < hi && p+uintptr(len(b)) > lo {
			t.Errorf("round %d: fresh segment %d was mapped at %#x, inside the closed segment's %#x-%#x while its handles were alive", round, i, p, lo, hi)
		}
		for off, c := range b {
			if c != 0 {
				t.Errorf("round %d: fresh segment %d has %#x at offset %d: written through a stale handle", round, i, c, off)
				break
			}
		}
		s.Close()
	}
}

// TestFaultObjectsRegionClosedFirst: a call asleep in an Event, a Semaphore
// or a Mutex's LockContext when its named segment is closed, one that
// starts after, and a context cancelled after, each end with an error
// (fs.ErrClosed, or the context's) rather than crash the process on the
// retired memory.
func TestFaultObjectsRegionClosedFirst(t *testing.T) {
	type sleeper struct {
		name  string
		setup func(seg *shm.Segment) (wait func(ctx context.Context) error, closeAll func())
	}
	sleepers := []sleeper{
		{"event", func(seg *shm.Segment) (func(context.Context) error, func()) {
			e, err := CreateEvent(seg, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			return e.Wait, func() { e.Close() }
		}},
		{"semaphore", func(seg *shm.Segment) (func(context.Context) error, func()) {
			s, err := CreateSemaphore(seg, 0, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error { return s.Acquire(ctx, 1) }, func() { s.Close() }
		}},
		{"mutex", func(seg *shm.Segment) (func(context.Context) error, func()) {
			m1, err := CreateMutex(seg, 0)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := OpenMutex(seg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := m1.Lock(); err != nil {
				t.Fatal(err)
			}
			return m2.LockContext, func() { m2.Close(); m1.Close() }
		}},
	}
	skipFaultingAtomics(t)
	for _, sl := range sleepers {
		t.Run(sl.name, func(t *testing.T) {
			seg, err := shm.Create(segName(t), lockSegSize)
			if err != nil {
				t.Fatal(err)
			}
			wait, closeAll := sl.setup(seg)
			defer closeAll()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			asleep := make(chan error, 1)
			go func() { asleep <- wait(ctx) }()
			time.Sleep(20 * time.Millisecond) // let it sleep
			if err := seg.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-asleep:
				if !errors.Is(err, fs.ErrClosed) {
					t.Errorf("the call asleep at the segment's Close: %v, want fs.ErrClosed", err)
				}
			case <-time.After(hang):
				t.Fatalf("the call asleep at the segment's Close still waits after %v", hang)
			}
			after := make(chan error, 1)
			ctx2, cancel2 := context.WithCancel(context.Background())
			go func() { after <- wait(ctx2) }()
			time.Sleep(5 * time.Millisecond)
			cancel2() // its AfterFunc kicks the retired memory
			select {
			case err := <-after:
				if !errors.Is(err, fs.ErrClosed) && !errors.Is(err, context.Canceled) {
					t.Errorf("a call after the segment's Close: %v, want fs.ErrClosed", err)
				}
			case <-time.After(hang):
				t.Fatalf("a call after the segment's Close still waits after %v", hang)
			}
			cancel()
			time.Sleep(5 * time.Millisecond)
		})
	}
}

// skipFaultingAtomics skips a test whose atomic operations fault on
// retired memory, under the race detector: it runs sync/atomic on the
// system stack, where a fault cannot be recovered and kills the process.
func skipFaultingAtomics(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector runs sync/atomic on the system stack, where a memory fault cannot be recovered")
	}
}
