//go:build linux

package bench

// Benchmarks of ipc.Mutex against the baselines of the same run:
//
//	BenchmarkMutexUncontended  Lock+Unlock by one goroutine (impl=ipc, in
//	                           a POSIX segment; impl=ipc-memfd, in an
//	                           anonymous segment, a sealed memfd;
//	                           impl=ipc-heap, in heap memory; the last two
//	                           need no fault guard; impl=sync.Mutex)
//	BenchmarkMutexHandoff      the hand-off of a contended mutex between
//	                           two processes: the holder waits until the
//	                           other is blocked in Lock, stores the time and
//	                           unlocks; the other measures how long its Lock
//	                           took to return (p50-ns, p99-ns). impl=ipc
//	                           (Go processes), impl=pthread-robust (a glibc
//	                           process-shared robust mutex, by a C program:
//	                           testdata/pthread_mutex.c, built with gcc)
//	BenchmarkMutexRecovery     from the SIGKILL of the holder to the return
//	                           of the Lock blocked in another process
//	                           (ErrOwnerDead; EOWNERDEAD for pthread):
//	                           p50-ns and max-ns over the rounds
//
// Run with -benchtime 20000x for the hand-off and 50x for the recovery.

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/ipc"
	"github.com/mmapkit/mmapkit/shm"
	"golang.org/x/sys/unix"
)

// The segment of the mutex benchmarks: the mutex at 0, the words of the
// hand-off protocol after it.
const (
	mutexSegSize  = 8192
	offT0         = 4096 // the time the holder unlocked, in UnixNano
	offT1         = 4104 // the time the other's Lock returned
	offSeq        = 4112 // hand-offs to the child so far
	offTurn       = 4120 // hand-offs back to the parent so far
	offSleepersLE = 140  // the mutex's sleepers mask (docs/ipc-layout.md, 8.4)
)

func word(b []byte, off int) *int64 { return (*int64)(unsafe.Pointer(&b[off])) }

// awaitBit polls until bit is set in the mutex's sleepers mask: the
// slot's process waits in Lock.
func awaitBit(b []byte, bit uint32) {
	sleepers := (*uint32)(unsafe.Pointer(&b[offSleepersLE]))
	poll(func() bool { return atomic.LoadUint32(sleepers)&bit != 0 })
}

// awaitAtLeast polls until the word at off of b reaches want.
func awaitAtLeast(b []byte, off int, want int64) {
	poll(func() bool { return atomic.LoadInt64(word(b, off)) >= want })
}

// pollSpin is how long poll watches before it yields, as the pthread
// baseline's poll does (testdata/pthread_mutex.c). A poller that yields at
// once sees a change late, by a sched_yield (microseconds where system
// calls are slow) or the time slice of whatever thread it yielded to, and
// so the hand-off it starts late finds the waiter asleep whatever the
// waiter did: the latencies would be those of the harness.
const pollSpin = 50 * time.Microsecond

// poll returns once done reports true: it watches for pollSpin, then
// yields between looks, so that on a busy machine the waiting process
// gives up its CPU.
func poll(done func() bool) {
	end := time.Now().Add(pollSpin)
	for !done() {
		if time.Now().After(end) {
			yield()
		}
	}
}

// yield gives the CPU to another thread by sched_yield, as the pthread
// baseline does, and does nothing else. runtime.Gosched alone would keep
// the thread on its CPU, so that on a busy machine the waiting process
// holds a CPU that the other one needs; Gosched before the sched_yield
// wakes other threads of the Go runtime (three times the context
// switches), which then compete with the two processes for the CPUs and
// lengthen the hand-offs measured.
func yield() {
	unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}

var mutexJobs = map[string]func(arg string) error{
	// The child of the hand-off: the parent holds the mutex at first.
	"mutex-handoff": func(name string) error {
		seg, err := shm.Open(name)
		if err != nil {
			return err
		}
		m, err := ipc.OpenMutex(seg, 0)
		if err != nil {
			return err
		}
		b := seg.Bytes()
		for i := int64(1); ; i++ {
			if err := m.Lock(); err != nil {
				return err
			}
			atomic.StoreInt64(word(b, offT1), time.Now().UnixNano())
			atomic.StoreInt64(word(b, offSeq), i)
			awaitBit(b, 1<<0) // the parent (slot 0) waits in Lock
			atomic.StoreInt64(word(b, offT0), time.Now().UnixNano())
			if err := m.Unlock(); err != nil {
				return err
			}
			awaitAtLeast(b, offTurn, i)
		}
	},
	// Lock, say so, hold until killed.
	"mutex-hold": func(name string) error {
		m, err := ipc.OpenNamedMutex(name)
		if err != nil {
			return err
		}
		if err := m.Lock(); err != nil && !errors.Is(err, ipc.ErrOwnerDead) {
			return err
		}
		fmt.Println("locked")
		for {
			time.Sleep(time.Hour)
		}
	},
}

func mutexSeg(b *testing.B) (*shm.Segment, *ipc.Mutex, string) {
	b.Helper()
	name := pipeName()
	seg, err := shm.Create(name, mutexSegSize)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { seg.Close(); shm.Unlink(name) })
	m, err := ipc.CreateMutex(seg, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return seg, m, name
}

func BenchmarkMutexUncontended(b *testing.B) {
	b.Run("impl=ipc", func(b *testing.B) {
		_, m, _ := mutexSeg(b)
		lockUnlock(b, m)
	})
	// In an anonymous segment, a memfd sealed against shrinking, which
	// other processes share through its descriptor: the Mutex maps its
	// words for itself and skips the fault guard.
	b.Run("impl=ipc-memfd", func(b *testing.B) {
		seg, err := shm.CreateAnonymous(mutexSegSize)
		if err != nil {
			b.Skipf("no memfd here: %v", err)
		}
		b.Cleanup(func() { seg.Close() })
		m, err := ipc.CreateMutex(seg, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		lockUnlock(b, m)
	})
	// Over heap memory, which cannot fault, the fast path needs no
	// fault guard: the floor of the API's cost (one process only).
	b.Run("impl=ipc-heap", func(b *testing.B) {
		m, err := ipc.CreateMutex(ioadapt.NewMemory(make([]byte, ipc.ObjectSize(ipc.MaxParticipants))), 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		lockUnlock(b, m)
	})
	b.Run("impl=sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		b.ReportAllocs()
		for b.Loop() {
			m.Lock()
			m.Unlock()
		}
	})
}

// lockUnlock is the loop of the uncontended benchmarks.
func lockUnlock(b *testing.B, m *ipc.Mutex) {
	b.ReportAllocs()
	for b.Loop() {
		m.Lock()
		m.Unlock()
	}
}

// quantiles reports p50-ns and p99-ns (or max-ns) of lat.
func quantiles(b *testing.B, lat []int64, top string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))]) }
	b.ReportMetric(q(0.5), "p50-ns")
	if top == "max" {
		b.ReportMetric(float64(lat[len(lat)-1]), "max-ns")
	} else {
		b.ReportMetric(q(0.99), "p99-ns")
	}
}

// pthreadHelper builds testdata/pthread_mutex.c, or skips without gcc.
//
//go:embed testdata/pthread_mutex.c
var pthreadSource []byte

func pthreadHelper(b *testing.B) string {
	b.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		b.Skip("no gcc on this machine for the pthread baseline")
	}
	dir := b.TempDir()
	src, bin := filepath.Join(dir, "pthread_mutex.c"), filepath.Join(dir, "pthread_mutex")
	// From the embedded copy: scripts/bench.sh runs the test binary
	// away from the source tree.
	if err := os.WriteFile(src, pthreadSource, 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-O2", "-o", bin, src, "-lpthread").CombinedOutput(); err != nil {
		b.Fatalf("building the pthread helper: %v\n%s", err, out)
	}
	return bin
}

// runHelper runs the pthread helper for n rounds and returns the
// latencies it prints.
func runHelper(b *testing.B, bin, mode string, n int) []int64 {
	b.Helper()
	out, err := exec.Command(bin, mode, strconv.Itoa(n)).Output()
	if err != nil {
		b.Fatalf("pthread helper: %v", err)
	}
	var lat []int64
	for _, f := range strings.Fields(string(out)) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, v)
	}
	return lat
}

func BenchmarkMutexHandoff(b *testing.B) {
	b.Run("impl=ipc", func(b *testing.B) {
		seg, m, name := mutexSeg(b)
		mem := seg.Bytes()
		if err := m.Lock(); err != nil {
			b.Fatal(err)
		}
		ipcPeer(b, "mutex-handoff", name)
		lat := make([]int64, 0, 2*b.N)
		i := int64(0)
		for b.Loop() {
			i++
			awaitBit(mem, 1<<1) // the child (slot 1) waits in Lock
			atomic.StoreInt64(word(mem, offT0), time.Now().UnixNano())
			if err := m.Unlock(); err != nil {
				b.Fatal(err)
			}
			awaitAtLeast(mem, offSeq, i)
			lat = append(lat, atomic.LoadInt64(word(mem, offT1))-atomic.LoadInt64(word(mem, offT0)))
			if err := m.Lock(); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Now().UnixNano()-atomic.LoadInt64(word(mem, offT0)))
			atomic.StoreInt64(word(mem, offTurn), i)
		}
		quantiles(b, lat, "p99")
	})
	b.Run("impl=pthread-robust", func(b *testing.B) {
		bin := pthreadHelper(b)
		b.ResetTimer() // the build is not a round: b.N would stay 1
		// The helper does the b.N rounds itself.
		lat := runHelper(b, bin, "handoff", b.N)
		quantiles(b, lat, "p99")
	})
}

func BenchmarkMutexRecovery(b *testing.B) {
	b.Run("impl=ipc", func(b *testing.B) {
		var lat []int64
		for b.Loop() {
			name := pipeName()
			m, err := ipc.CreateNamedMutex(name)
			if err != nil {
				b.Fatal(err)
			}
			cmd, out := ipcPeer(b, "mutex-hold", name)
			if s, _ := out.ReadString('\n'); s != "locked\n" {
				b.Fatalf("holder: %q", s)
			}
			errc := make(chan error, 1)
			go func() { errc <- m.Lock() }()
			awaitSleeper(name)
			t0 := time.Now()
			cmd.Process.Signal(syscall.SIGKILL)
			err = <-errc
			lat = append(lat, int64(time.Since(t0)))
			if !errors.Is(err, ipc.ErrOwnerDead) {
				b.Fatalf("Lock after the holder's SIGKILL: %v", err)
			}
			cmd.Wait()
			m.MarkConsistent()
			m.Unlock()
			m.Close()
		}
		quantiles(b, lat, "max")
	})
	b.Run("impl=pthread-robust", func(b *testing.B) {
		bin := pthreadHelper(b)
		b.ResetTimer() // the build is not a round: b.N would stay 1
		// The helper does the b.N rounds itself.
		lat := runHelper(b, bin, "recover", b.N)
		quantiles(b, lat, "max")
	})
}

// awaitSleeper waits until this process (slot 0 of the named mutex) has
// announced itself asleep in Lock, reading the segment through its file.
func awaitSleeper(name string) {
	f, err := os.Open("/dev/shm/" + name)
	if err != nil {
		return
	}
	defer f.Close()
	var buf [4]byte
	for {
		if _, err := f.ReadAt(buf[:], offSleepersLE); err != nil || buf[0]&1 != 0 {
			return
		}
		runtime.Gosched()
	}
}
