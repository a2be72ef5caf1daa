package sys

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations (linux/futex.h). The _PRIVATE variants (op|128) are
// never used: the kernel keys private futexes by (mm, address), so a
// waiter and a waker in different processes would never meet; shared ones
// are keyed by (inode, page, offset) for file-backed memory (tmpfs, memfd,
// System V segments, regular files) and meet at any address.
const (
	futexWait       = 0
	futexWake       = 1
	futexWaitBitset = 9
	futexBitsetAny  = 0xffffffff
)

// FutexWait sleeps while the 32-bit word at addr holds val, until a
// [FutexWake] on the same word (in any process that maps it), or until
// deadline, an absolute time on the [Now] clock (0: no deadline). It
// returns timedOut when the deadline passed, and nil when woken or when
// the word no longer held val (EAGAIN): either way the caller re-checks
// what it waits for, since wake-ups may be spurious.
//
// Signals interrupt the wait (Go's runtime sends SIGURG for preemption):
// it restarts after EINTR with the same absolute deadline, so that
// repeated interruptions never stretch it. FUTEX_WAIT_BITSET without
// FUTEX_CLOCK_REALTIME measures deadlines on CLOCK_MONOTONIC.
//
// It blocks the calling goroutine's thread in the kernel (a Syscall, not a
// RawSyscall, so the runtime hands the P to another thread). addr must be
// 4-byte aligned (EINVAL otherwise); memory that is no longer mapped, or
// whose file was truncated under it, returns an error wrapping EFAULT
// instead of faulting.
func FutexWait(addr *uint32, val uint32, deadline int64) (timedOut bool, err error) {
	var ts *unix.Timespec
	var t unix.Timespec
	op := uintptr(futexWait)
	if deadline != 0 {
		t = unix.NsecToTimespec(deadline)
		ts = &t
		op = futexWaitBitset
	}
	for {
		_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), op, uintptr(val),
			uintptr(unsafe.Pointer(ts)), 0, futexBitsetAny)
		switch e {
		case 0, unix.EAGAIN:
			return false, nil
		case unix.EINTR:
			continue
		case unix.ETIMEDOUT:
			return true, nil
		}
		return false, os.NewSyscallError("futex wait", e)
	}
}

// FutexWake wakes up to n waiters (n < 0: all) sleeping in [FutexWait]
// (or FUTEX_WAIT from C) on the word at addr, in any process, and returns
// how many it woke. It never blocks. Memory that is no longer mapped
// returns an error wrapping EFAULT.
func FutexWake(addr *uint32, n int) (int, error) {
	if n < 0 || n > 1<<31-1 {
		n = 1<<31 - 1
	}
	r, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
	if e != 0 {
		return 0, os.NewSyscallError("futex wake", e)
	}
	return int(r), nil
}

// base and monoBase tie Go's monotonic clock to CLOCK_MONOTONIC: the
// runtime reads CLOCK_MONOTONIC through the vDSO for time.Now's monotonic
// reading, so time.Since(base) plus the offset measured once here is
// CLOCK_MONOTONIC without a system call (x/sys's ClockGettime is a real
// one).
var base, monoBase = func() (time.Time, int64) {
	var ts unix.Timespec
	t := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic("sys: clock_gettime(CLOCK_MONOTONIC): " + err.Error())
	}
	return t, ts.Nano()
}()

// Now returns CLOCK_MONOTONIC in nanoseconds: the clock of [FutexWait]'s
// deadlines. It is always positive.
func Now() int64 { return monoBase + int64(time.Since(base)) }

// Lock requests on single bytes. An open file description (OFD) lock
// belongs to the open file description, not to the process: the kernel
// drops it when the last descriptor of that description closes, which a
// process's death always does, however it dies; unlike a classic POSIX
// lock it does not vanish when the process closes some other descriptor of
// the same file, and two descriptions in one process conflict like two
// processes. A description shared with a child (an inherited descriptor)
// shares its locks: use [Reopen] for a description of one's own.
func flock(typ int16, off int64) unix.Flock_t {
	return unix.Flock_t{Type: typ, Whence: 0, Start: off, Len: 1}
}

// LockByte takes a write lock on the byte at off of fd's file, without
// waiting. It returns false when another open file description holds a
// lock on it. off may lie past the end of the file.
func LockByte(fd int, off int64) (bool, error) {
	lk := flock(unix.F_WRLCK, off)
	err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk)
	switch err {
	case nil:
		return true, nil
	case unix.EAGAIN, unix.EACCES:
		return false, nil
	}
	return false, os.NewSyscallError("fcntl F_OFD_SETLK", err)
}

// UnlockByte releases a lock that [LockByte] took on the byte at off.
func UnlockByte(fd int, off int64) error {
	lk := flock(unix.F_UNLCK, off)
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
		return os.NewSyscallError("fcntl F_OFD_SETLK", err)
	}
	return nil
}

// ByteLocked reports whether an open file description other than fd's
// holds a lock on the byte at off (F_OFD_GETLK). fd's own locks do not
// count.
func ByteLocked(fd int, off int64) (bool, error) {
	lk := flock(unix.F_WRLCK, off)
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &lk); err != nil {
		return false, os.NewSyscallError("fcntl F_OFD_GETLK", err)
	}
	return lk.Type != unix.F_UNLCK, nil
}

// Reopen opens the file behind fd again, through /proc/self/fd, for
// reading and writing and close-on-exec: a new open file description, so
// that locks taken through it belong to it alone. It works for memfds and
// deleted files too. It needs /proc.
func Reopen(fd int) (int, error) {
	path := "/proc/self/fd/" + strconv.Itoa(fd)
	nfd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return nfd, nil
}

// FileID returns the device and inode numbers of fd's file, which tell
// whether two descriptors reach the same file.
func FileID(fd int) (dev, ino uint64, err error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, 0, os.NewSyscallError("fstat", err)
	}
	return uint64(st.Dev), uint64(st.Ino), nil
}

// FileSize returns the size of fd's file now.
func FileSize(fd int) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, os.NewSyscallError("fstat", err)
	}
	return st.Size, nil
}

// Pidfd is a process's pidfd (pidfd_open(2), Linux 5.3; non-blocking
// since 5.10), registered with Go's network poller: [Pidfd.Wait] parks
// the goroutine there, holding no thread, until the process exits.
type Pidfd struct{ f *os.File }

// OpenPidfd opens a pidfd for pid. A pid with no process returns an error
// wrapping [fs.ErrNotExist] (ESRCH); a kernel without pidfd_open, one
// wrapping [errors.ErrUnsupported]. A PID means a process only in the
// caller's PID namespace, and may have been reused: compare [ProcStat]'s
// start time after opening, which rules the reuse out, since the pidfd
// keeps referring to the process it was opened for.
func OpenPidfd(pid int) (*Pidfd, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err == unix.EINVAL {
		// Before 5.10 PIDFD_NONBLOCK is refused; poll works on any pidfd.
		if fd, err = unix.PidfdOpen(pid, 0); err == nil {
			err = unix.SetNonblock(fd, true)
			if err != nil {
				unix.Close(fd)
			}
		}
	}
	switch err {
	case nil:
	case unix.ESRCH:
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, fs.ErrNotExist)
	case unix.ENOSYS:
		return nil, fmt.Errorf("pidfd_open: %w", errors.ErrUnsupported)
	default:
		return nil, os.NewSyscallError("pidfd_open", err)
	}
	return &Pidfd{f: os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid))}, nil
}

// Wait blocks until the process has exited (nil), or until Close (an
// error wrapping [os.ErrClosed]). It may be called once.
func (p *Pidfd) Wait() error {
	rc, err := p.f.SyscallConn()
	if err != nil {
		return err
	}
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		// A pidfd polls readable once the process has exited.
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			return false
		}
		if err != nil {
			perr = os.NewSyscallError("poll", err)
			return true
		}
		return n > 0
	})
	if err != nil {
		// The only way out of the poller but readiness is Close.
		return &fs.PathError{Op: "wait", Path: p.f.Name(), Err: os.ErrClosed}
	}
	return perr
}

// Close closes the pidfd; a Wait in progress returns.
func (p *Pidfd) Close() error { return p.f.Close() }

// ProcStat returns the start time of process pid, in clock ticks since
// boot (field 22 of /proc/PID/stat), and its state letter (field 3: 'R',
// 'S', ..., 'Z' for a zombie, which has exited but not been reaped and
// still has its start time). A PID with no process returns an error
// wrapping [fs.ErrNotExist]. The pair (pid, start time) names one process
// for the life of the machine's boot.
func ProcStat(pid int) (start uint64, state byte, err error) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	var buf [512]byte
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err == unix.ESRCH {
		err = syscall.ENOENT // the process exited between open and read
	}
	if err != nil {
		return 0, 0, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return parseStat(path, buf[:n])
}

// parseStat reads the state and start time from the text of a
// /proc/PID/stat file. The command name (field 2) is in parentheses and
// may itself hold spaces and parentheses: the fields after it start after
// the last ')'.
func parseStat(path string, b []byte) (start uint64, state byte, err error) {
	bad := func(what string) (uint64, byte, error) {
		return 0, 0, &fs.PathError{Op: "parse", Path: path, Err: fmt.Errorf("%s in %q", what, b)}
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return bad("no ')' after the command name")
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state); field 22 (starttime) is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return bad("fewer than 22 fields")
	}
	start, perr := strconv.ParseUint(string(fields[19]), 10, 64)
	if perr != nil {
		return bad("start time " + strconv.Quote(string(fields[19])) + " is not a number")
	}
	return start, fields[0][0], nil
}

// PidNamespace returns the inode number of the calling process's PID
// namespace (/proc/self/ns/pid): processes that report the same number
// see the same PIDs.
func PidNamespace() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return 0, &fs.PathError{Op: "stat", Path: "/proc/self/ns/pid", Err: err}
	}
	return st.Ino, nil
}
