package sys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The test binary runs itself as a child process with childEnv set to the
// job; the shared file, if any, is descriptor 3.
const childEnv = "MMAPKIT_SYS_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "wake":
		// Map the file, set the word to 1 and wake its waiter.
		b, err := unix.Mmap(3, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		w := (*uint32)(unsafe.Pointer(&b[64]))
		atomic.StoreUint32(w, 1)
		if _, err := FutexWake(w, -1); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "lock":
		// Take the lock on byte 1<<62 of a fresh description, report, hold.
		fd, err := Reopen(3)
		if err == nil {
			var ok bool
			ok, err = LockByte(fd, 1<<62)
			fmt.Println(ok)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sleepForever()
	case "inherited-lock":
		// Report whether descriptor 3's locks count as another's.
		locked, err := ByteLocked(3, 1<<62)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(locked)
		os.Exit(0)
	case "sleep":
		sleepForever()
	}
	os.Exit(2)
}

func child(t *testing.T, job string, extra ...*os.File) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+job, noExitSleep)
	cmd.ExtraFiles = extra
	cmd.Stderr = os.Stderr
	return cmd
}

// sharedFile returns a 4096-byte file on the shared-memory tmpfs, mapped
// here, and its descriptor.
func sharedFile(t *testing.T) (*os.File, []byte) {
	t.Helper()
	f, err := os.CreateTemp("/dev/shm", "mmapkit-systest-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	os.Remove(f.Name())
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(4096); err != nil {
		t.Fatal(err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return f, b
}

// TestFutexAcrossProcesses: a waiter here is woken by a process that
// maps the same file at another address.
func TestFutexAcrossProcesses(t *testing.T) {
	f, b := sharedFile(t)
	w := (*uint32)(unsafe.Pointer(&b[64]))
	cmd := child(t, "wake", f)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := Now() + int64(30*time.Second)
	for atomic.LoadUint32(w) == 0 {
		timedOut, err := FutexWait(w, 0, deadline)
		if err != nil {
			t.Fatal(err)
		}
		if timedOut {
			t.Fatal("not woken within 30 s")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestFutexDeadline: an absolute deadline on CLOCK_MONOTONIC is kept
// despite signals (each an EINTR), and a changed word returns at once.
func TestFutexDeadline(t *testing.T) {
	var w uint32
	if timedOut, err := FutexWait(&w, 1, Now()+int64(time.Hour)); timedOut || err != nil {
		t.Fatalf("wait on a word that differs = %v, %v; want an immediate return", timedOut, err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				syscall.Kill(os.Getpid(), syscall.SIGUSR1)
			}
		}
	}()
	start := time.Now()
	timedOut, err := FutexWait(&w, 0, Now()+int64(50*time.Millisecond))
	if err != nil || !timedOut {
		t.Fatalf("FutexWait = %v, %v; want a timeout", timedOut, err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("timed out after %v, before the 50 ms deadline", d)
	}
	// A deadline already past.
	if timedOut, err := FutexWait(&w, 0, 1); !timedOut || err != nil {
		t.Fatalf("past deadline: %v, %v", timedOut, err)
	}
}

// TestFutexFault: a wait on memory whose file was truncated away is
// EFAULT, not SIGBUS; so is a wake.
func TestFutexFault(t *testing.T) {
	f, b := sharedFile(t)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	w := (*uint32)(unsafe.Pointer(&b[64]))
	_, err := FutexWait(w, 0, Now()+int64(time.Second))
	if !errors.Is(err, syscall.EFAULT) {
		t.Fatalf("wait on truncated memory: %v, want EFAULT", err)
	}
	if _, err := FutexWake(w, 1); err != nil && !errors.Is(err, syscall.EFAULT) {
		t.Fatalf("wake on truncated memory: %v", err)
	}
	var mis [8]byte
	_, err = FutexWait((*uint32)(unsafe.Pointer(&mis[1])), 0, 1)
	if !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("wait on a misaligned word: %v, want EINVAL", err)
	}
}

// TestNow: the clock is CLOCK_MONOTONIC, as clock_gettime reads it.
func TestNow(t *testing.T) {
	var ts unix.Timespec
	for range 100 {
		a := Now()
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		c := Now()
		if m := ts.Nano(); m < a-int64(time.Millisecond) || m > c+int64(time.Millisecond) {
			t.Fatalf("Now %d..%d, CLOCK_MONOTONIC %d", a, c, m)
		}
	}
}

// TestLocks: OFD locks conflict between descriptions, also in one process
// and across processes; a reopened description has its own; an inherited
// one shares its parent's; a killed holder's lock is dropped.
func TestLocks(t *testing.T) {
	f, _ := sharedFile(t)
	fd := int(f.Fd())
	const off = 1 << 62
	a, err := Reopen(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a)
	if ok, err := LockByte(a, off); !ok || err != nil {
		t.Fatalf("first lock: %v, %v", ok, err)
	}
	if ok, err := LockByte(fd, off); ok || err != nil {
		t.Fatalf("a second description took the held byte: %v, %v", ok, err)
	}
	if held, err := ByteLocked(fd, off); !held || err != nil {
		t.Fatalf("ByteLocked from another description: %v, %v", held, err)
	}
	if held, err := ByteLocked(a, off); held || err != nil {
		t.Fatalf("ByteLocked from the holder: %v, %v; its own lock does not count", held, err)
	}
	if ok, _ := LockByte(fd, off+1); !ok {
		t.Fatal("the next byte is taken too")
	}
	UnlockByte(fd, off+1)

	// A child that inherits the holder's descriptor shares its lock.
	out, err := child(t, "inherited-lock", os.NewFile(uintptr(a), "a")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(out)) != "false" {
		t.Fatalf("through an inherited descriptor the child sees the lock as another's (%q)", out)
	}

	if err := UnlockByte(a, off); err != nil {
		t.Fatal(err)
	}
	cmd := child(t, "lock", f)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	n, _ := stdout.Read(buf)
	if strings.TrimSpace(string(buf[:n])) != "true" {
		t.Fatalf("child could not lock: %q", buf[:n])
	}
	if held, _ := ByteLocked(fd, off); !held {
		t.Fatal("the child's lock is not seen")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if held, _ := ByteLocked(fd, off); held {
		t.Fatal("the killed child's lock is still held")
	}
	if _, err := Reopen(-1); err == nil {
		t.Fatal("Reopen(-1) succeeded")
	}
}

// TestPidfd: Wait returns when the process exits, Close ends a Wait, and
// a pid without a process is fs.ErrNotExist.
func TestPidfd(t *testing.T) {
	cmd := child(t, "sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPidfd(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned while the process lives: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	cmd.Process.Kill()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return after the kill")
	}
	cmd.Wait()

	q, err := OpenPidfd(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- q.Wait() }()
	time.Sleep(5 * time.Millisecond)
	q.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Wait after Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not end Wait")
	}
	if _, err := OpenPidfd(cmd.Process.Pid); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("pidfd of a reaped process: %v", err)
	}
}

// TestProcStat checks start times and states against ps(1)'s view, via
// Python's reading of /proc, for this process and a zombie child.
func TestProcStat(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to read /proc independently")
	}
	oracle := func(pid int) (uint64, string) {
		out, err := exec.Command(py, "-c", fmt.Sprintf(
			"f=open('/proc/%d/stat').read().rpartition(')')[2].split(); print(f[19], f[0])", pid)).Output()
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.Fields(string(out))
		st, _ := strconv.ParseUint(fields[0], 10, 64)
		return st, fields[1]
	}
	st, state, err := ProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := oracle(os.Getpid()); st != want || state != 'R' && state != 'S' {
		t.Fatalf("this process: start %d state %c; Python reads start %d", st, state, want)
	}
	cmd := child(t, "sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	cmd.Process.Kill()
	for i := 0; ; i++ {
		st, state, err := ProcStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if state == 'Z' {
			if want, wstate := oracle(pid); st != want || wstate != "Z" {
				t.Fatalf("zombie: start %d; Python reads %d %s", st, want, wstate)
			}
			break
		}
		if i > 30000 {
			t.Fatal("the killed child never became a zombie")
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Wait()
	if _, _, err := ProcStat(pid); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ProcStat of a reaped process: %v", err)
	}
	if ns, err := PidNamespace(); err != nil || ns == 0 {
		t.Fatalf("PidNamespace = %d, %v", ns, err)
	}
}

// TestParseStat: command names with spaces and parentheses, and broken
// files.
func TestParseStat(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20 21\n"
	for _, comm := range []string{"go", "a b", "a) (b", ")", "((", "x) S 1 2"} {
		st, state, err := parseStat("stat", []byte("123 ("+comm+")"+tail))
		if err != nil || st != 4242 || state != 'S' {
			t.Errorf("comm %q: %d %c %v", comm, st, state, err)
		}
	}
	for _, bad := range []string{"", "123 go S 1", "123 (go) S 1 2 3", "123 (go) S" + strings.Repeat(" 1", 18) + " x 1"} {
		if _, _, err := parseStat("stat", []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// sleepForever blocks until the process is killed. A bare select{} would
// not: the runtime ends a process whose goroutines are all blocked.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// noExitSleep spares a race-enabled child the second the race runtime
// sleeps at exit (GORACE atexit_sleep_ms), which adds up over hundreds of
// children; without -race it does nothing.
const noExitSleep = "GORACE=atexit_sleep_ms=0"
