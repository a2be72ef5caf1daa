//go:build windows

package sys

import (
	"fmt"
	"io/fs"
	"os"
	"sync"

	"golang.org/x/sys/windows"
)

// Processes on Windows, with the contracts of the Linux functions of the
// same names: a process handle stands for the pidfd, and the creation time
// (GetProcessTimes) for the start time of /proc/PID/stat.

// processAccess is what liveness needs of a process: waiting for its exit
// and reading its times, both granted to any process of the same user.
const processAccess = windows.SYNCHRONIZE | windows.PROCESS_QUERY_LIMITED_INFORMATION

// openProcess opens pid; a pid with no process (OpenProcess answers
// ERROR_INVALID_PARAMETER) is an error wrapping [fs.ErrNotExist].
func openProcess(pid int) (windows.Handle, error) {
	if pid <= 0 || pid > 1<<31-1 {
		return 0, fmt.Errorf("process %d: %w", pid, fs.ErrNotExist)
	}
	h, err := windows.OpenProcess(processAccess, false, uint32(pid))
	if err == windows.ERROR_INVALID_PARAMETER {
		return 0, fmt.Errorf("process %d: %w", pid, fs.ErrNotExist)
	}
	if err != nil {
		return 0, os.NewSyscallError("OpenProcess", err)
	}
	return h, nil
}

// Pidfd is a handle of a process, opened for waiting on its exit.
type Pidfd struct {
	h      windows.Handle // the process
	cancel windows.Handle // manual-reset event that Close sets to end a Wait

	mu      sync.Mutex // guards waiting and closed
	waiting bool       // a Wait is in WaitForMultipleObjects: it closes the handles
	closed  bool
}

// OpenPidfd opens a handle of process pid (OpenProcess with SYNCHRONIZE
// and PROCESS_QUERY_LIMITED_INFORMATION). A pid with no process returns an
// error wrapping [fs.ErrNotExist]. The pid may have been reused: compare
// [ProcStat]'s start time after opening; the handle keeps referring to
// the process it was opened for, as a pidfd does.
func OpenPidfd(pid int) (*Pidfd, error) {
	h, err := openProcess(pid)
	if err != nil {
		return nil, err
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		windows.CloseHandle(h)
		return nil, os.NewSyscallError("CreateEvent", err)
	}
	return &Pidfd{h: h, cancel: ev}, nil
}

// Wait blocks until the process exits, and returns nil then. It holds a
// thread while it waits (WaitForMultipleObjects on the process and on the
// event of Close). Close makes it return an error wrapping
// [fs.ErrClosed]; so does a Wait after Close.
func (p *Pidfd) Wait() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("process handle: %w", fs.ErrClosed)
	}
	p.waiting = true
	p.mu.Unlock()
	ev, err := windows.WaitForMultipleObjects([]windows.Handle{p.h, p.cancel}, false, windows.INFINITE)
	p.mu.Lock()
	p.waiting = false
	closed := p.closed
	if closed {
		// Close left the handles to us, so that none was closed while
		// a wait used it.
		p.release()
	}
	p.mu.Unlock()
	switch {
	case err != nil:
		return os.NewSyscallError("WaitForMultipleObjects", err)
	case ev == windows.WAIT_OBJECT_0 && !closed:
		return nil
	}
	return fmt.Errorf("process handle: %w", fs.ErrClosed)
}

// Close ends a Wait in progress and closes the handle; it is safe to
// call more than once.
func (p *Pidfd) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.waiting {
		return os.NewSyscallError("SetEvent", windows.SetEvent(p.cancel))
	}
	p.release()
	return nil
}

func (p *Pidfd) release() {
	windows.CloseHandle(p.h)
	windows.CloseHandle(p.cancel)
}

// ProcStat returns the creation time of process pid (GetProcessTimes, in
// 100 ns units since 1601, never 0) and a state letter: 'X' when it has
// exited (its object lives on while a handle is open), 'R' otherwise. A
// pid with no process returns an error wrapping [fs.ErrNotExist].
func ProcStat(pid int) (start uint64, state byte, err error) {
	h, err := openProcess(pid)
	if err != nil {
		return 0, 0, err
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return 0, 0, os.NewSyscallError("GetProcessTimes", err)
	}
	start = uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime)
	ev, err := windows.WaitForSingleObject(h, 0)
	if err != nil {
		return 0, 0, os.NewSyscallError("WaitForSingleObject", err)
	}
	state = 'R'
	if ev == windows.WAIT_OBJECT_0 {
		state = 'X'
	}
	return start, state, nil
}

// PidNamespace returns 0: Windows has one space of process ids.
func PidNamespace() (uint64, error) { return 0, nil }
