package ipc

import (
	"errors"
	"fmt"
	"io/fs"
)

// Sentinel errors. Functions and methods return them wrapped in an
// [*fs.PathError] whose Op names the call and whose Path is the Region's
// name, with a message that gives the values involved: test with
// [errors.Is].
//
// Besides these, calls return errors matching [fs.ErrClosed] (after
// Close), [os.ErrDeadlineExceeded] (a deadline passed),
// [context.Canceled] or [context.DeadlineExceeded] (from a context),
// [syscall.EPIPE] (a write after the reader closed), [io.ErrShortBuffer]
// (a record longer than the buffer, in message mode), [fs.ErrInvalid] (a
// bad argument), [fs.ErrExist] (creating over an object) and
// [ioadapt.ErrFault] (the shared memory faulted: its segment was
// truncated).
var (
	// ErrPeerDead is returned when the process at the other end died
	// without closing its end: the reader gets it once it has read every
	// byte the writer committed, the writer at its next write. It is not
	// sticky: when another process takes the dead peer's place (opens the
	// same end of the pipe), calls go on.
	ErrPeerDead = errors.New("peer process died")

	// ErrInvalidHeader is returned by [OpenPipe] for a region that holds
	// no pipe of this version: a foreign magic, another major version, a
	// field out of range, a region too small or misaligned, a header left
	// half-made. The message names the field and its value.
	ErrInvalidHeader = errors.New("invalid ipc header")

	// ErrCorrupt is returned when the ring's positions or a message frame
	// are impossible: another program wrote over the shared memory. The
	// message names the offset and the value found.
	ErrCorrupt = errors.New("corrupt ipc ring")

	// ErrInUse is returned when attaching an end of a pipe that a live
	// process has attached already: a pipe has one writer and one reader.
	// The message gives that process's pid.
	ErrInUse = errors.New("pipe end already attached")

	// ErrTooLarge is returned in message mode for a record longer than
	// [Pipe.MaxMessage].
	ErrTooLarge = errors.New("message too large")

	// ErrOwnerDead is returned by the Lock calls of a [Mutex] that
	// acquired the mutex from a holder that can no longer release it:
	// its process died while holding it, or closed its handle. The
	// caller holds the mutex: it repairs the data the mutex guards, then
	// calls [Mutex.MarkConsistent] and Unlock. Acquiring it again from a
	// dead holder before MarkConsistent returns it again.
	ErrOwnerDead = errors.New("mutex owner died")

	// ErrNotRecoverable is returned by every Lock call of a [Mutex]
	// after a holder that got [ErrOwnerDead] unlocked it without
	// [Mutex.MarkConsistent]: the data it guards is given up for lost.
	ErrNotRecoverable = errors.New("mutex not recoverable")

	// ErrNotOwner is returned by [Mutex.Unlock] and
	// [Mutex.MarkConsistent] from a handle that does not hold the mutex.
	// The message says who does.
	ErrNotOwner = errors.New("mutex not held by this handle")

	// ErrClosed is [fs.ErrClosed]: every method returns it after Close.
	ErrClosed = fs.ErrClosed

	// ErrUnsupported is [errors.ErrUnsupported], returned for everything
	// on systems other than Linux, and on big-endian machines.
	ErrUnsupported = errors.ErrUnsupported
)

// detailError gives one or more sentinels a message that carries the
// values involved, while errors.Is still finds each of them.
type detailError struct {
	msg  string
	errs []error
}

func (e *detailError) Error() string   { return e.msg }
func (e *detailError) Unwrap() []error { return e.errs }

// detail returns an error that reads as the formatted message and wraps
// sentinel.
func detail(sentinel error, format string, args ...any) error {
	return &detailError{msg: fmt.Sprintf(format, args...), errs: []error{sentinel}}
}

// details is detail with more than one sentinel.
func details(sentinels []error, format string, args ...any) error {
	return &detailError{msg: fmt.Sprintf(format, args...), errs: sentinels}
}

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}
