package ipc

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/shm"
	"golang.org/x/sys/unix"
)

// The Mutex over an anonymous segment, a memfd sealed against shrinking:
// its fast paths run on the Mutex's own mapping of its words, without the
// fault guard.

// anonSegment makes an anonymous segment and returns it with its memfd's
// inode number, by which /proc/self/maps names its mappings. It skips
// only where the kernel has no memfd_create.
func anonSegment(t *testing.T) (*shm.Segment, uint64) {
	t.Helper()
	seg, err := shm.CreateAnonymous(lockSegSize)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("no memfd on this kernel: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := seg.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return seg, st.Ino
}

// memfdMutex makes an anonymous segment with a mutex at its start, and a
// descriptor of the segment for the children; all are closed when the
// test ends.
func memfdMutex(t *testing.T) (*shm.Segment, *os.File, *Mutex) {
	t.Helper()
	seg, _ := anonSegment(t)
	t.Cleanup(func() { seg.Close() })
	m, err := CreateMutex(seg, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	f, err := seg.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if m.fast.Load() == nil {
		t.Fatal("the Mutex in a sealed memfd keeps the fault guard: the test would not test the unguarded path")
	}
	return seg, f, m
}

// memfdChild is a command doing job on the anonymous segment of f, which
// it inherits as descriptor 3.
func memfdChild(job string, f *os.File, env ...string) *exec.Cmd {
	cmd := testkit.Command(job, append([]string{lockSegEnv + "=fd:3", noExitSleep}, env...)...)
	cmd.ExtraFiles = []*os.File{f}
	return cmd
}

// TestMutexMemfdProcesses: processes that inherit the memfd increment a
// plain counter under the mutex, all starting at once, so that they
// contend; the total is exact.
func TestMutexMemfdProcesses(t *testing.T) {
	seg, f, m := memfdMutex(t)
	const procs, each = 6, 20000
	at := time.Now().Add(500 * time.Millisecond)
	var cmds []*exec.Cmd
	for range procs {
		cmds = append(cmds, memfdChild("mutex-count", f, lockArgsEnv+"=n="+strconv.Itoa(each)+",at="+strconv.FormatInt(at.UnixNano(), 10)))
	}
	started := make(chan (<-chan error), 1) // this process takes part too
	time.AfterFunc(time.Until(at), func() { started <- countUnder(m, seg.Bytes(), each) })
	if err := testkit.RunAll(cmds); err != nil {
		t.Fatal(err)
	}
	if err := <-<-started; err != nil {
		t.Fatal(err)
	}
	checkCount(t, m, seg.Bytes(), procs+1, each)
}

// TestMutexMemfdOwnerDeath: a child takes the mutex by the unguarded fast
// path and is killed holding it; the Lock waiting here gets ErrOwnerDead,
// and the mutex works on once marked consistent.
func TestMutexMemfdOwnerDeath(t *testing.T) {
	_, f, m := memfdMutex(t)
	c := runChildCmd(t, memfdChild("mutex-hold", f, lockArgsEnv+"="))
	c.expect("locked")
	errc := make(chan error, 1)
	go func() { errc <- m.Lock() }()
	time.Sleep(20 * time.Millisecond) // let it sleep
	pid := strconv.Itoa(c.pid())
	c.kill()
	select {
	case err := <-errc:
		wantErr(t, err, ErrOwnerDead, "pid "+pid, "died")
	case <-time.After(hang):
		t.Fatalf("Lock still blocked %v after the holder's SIGKILL", hang)
	}
	if err := m.MarkConsistent(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := m.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := m.Lock(); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// TestMutexMemfdCloseRace: goroutines Lock and Unlock, without the guard,
// while the Mutex and then its segment are closed under them. No call may
// crash; after Close each fails with fs.ErrClosed; and once the handle
// and the segment are garbage, no mapping of the memfd is left: the
// Mutex's own mapping is unmapped by its cleanup, not leaked.
func TestMutexMemfdCloseRace(t *testing.T) {
	for round := range 20 {
		ino := closeRaceRound(t, round)
		mapped := func() int { return mappingsOf(t, ino) }
		deadline := time.Now().Add(hang)
		for mapped() != 0 && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(5 * time.Millisecond)
		}
		if n := mapped(); n != 0 {
			t.Fatalf("round %d: %d mappings of the memfd (inode %d) left %v after everything was closed and collected", round, n, ino, hang)
		}
	}
}

// closeRaceRound is one round of TestMutexMemfdCloseRace; it returns the
// memfd's inode, with nothing of the round left reachable.
func closeRaceRound(t *testing.T, round int) uint64 {
	seg, ino := anonSegment(t)
	m, err := CreateMutex(seg, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := mappingsOf(t, ino); n != 2 {
		t.Fatalf("%d mappings of the memfd, want 2: the segment's and the Mutex's own", n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if err := m.Lock(); err != nil {
					if !errors.Is(err, fs.ErrClosed) {
						errs <- err
					}
					return
				}
				if err := m.Unlock(); err != nil {
					if !errors.Is(err, fs.ErrClosed) {
						errs <- err
					}
					return
				}
			}
		}()
	}
	time.Sleep(time.Duration(round%5) * time.Millisecond)
	m.Close()
	seg.Close()
	within(t, "goroutines ending after Close", wg.Wait)
	close(errs)
	for err := range errs {
		t.Errorf("round %d: %v", round, err)
	}
	return ino
}

// mappingsOf counts this process's mappings of the file with inode ino.
func mappingsOf(t *testing.T, ino uint64) int {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	defer f.Close()
	n, want := 0, strconv.FormatUint(ino, 10)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		if fields := strings.Fields(sc.Text()); len(fields) >= 6 && fields[4] == want && strings.Contains(fields[5], "memfd:") {
			n++
		}
	}
	return n
}

// TestClosedHandleLetsSegmentGo: a closed handle that the program keeps
// reachable does not keep the memory of its segment, closed too, mapped:
// Close drops the handle's hold on the Region's addresses.
func TestClosedHandleLetsSegmentGo(t *testing.T) {
	for _, kind := range []string{"mutex", "event"} {
		t.Run(kind, func(t *testing.T) {
			seg, ino := anonSegment(t)
			var h io.Closer
			if kind == "mutex" {
				m, err := CreateMutex(seg, 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.Lock(); err != nil {
					t.Fatal(err)
				}
				if err := m.Unlock(); err != nil {
					t.Fatal(err)
				}
				h = m
			} else {
				e, err := CreateEvent(seg, 0, false)
				if err != nil {
					t.Fatal(err)
				}
				if err := e.Set(); err != nil {
					t.Fatal(err)
				}
				h = e
			}
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			if err := seg.Close(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(hang)
			for mappingsOf(t, ino) != 0 && time.Now().Before(deadline) {
				runtime.GC()
				time.Sleep(5 * time.Millisecond)
			}
			if n := mappingsOf(t, ino); n != 0 {
				t.Fatalf("%d mappings of the closed segment (inode %d) left after %v, while its closed %s is reachable", n, ino, hang, kind)
			}
			runtime.KeepAlive(h)
		})
	}
}
