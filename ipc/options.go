package ipc

import (
	"fmt"
	"io/fs"
	"os"
	"time"
)

// An Option changes how a pipe is created, opened or attached. Each
// function that takes options says which ones it uses; it ignores the
// others.
type Option interface {
	apply(*config)
}

type config struct {
	capacity     int64 // 0: the largest power of two that fits
	messages     bool
	wait         WaitMode
	lockFile     *os.File
	readyTimeout time.Duration
}

func newConfig(opts []Option) config {
	c := config{readyTimeout: 2 * time.Second}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Capacity sets the size in bytes of a new pipe's ring, a power of two
// from 64 to 2^40, for [CreatePipe]. Without it the ring takes the largest
// power of two that fits in the Region after the 4096-byte header;
// [PipeSize] gives the Region size for a capacity.
func Capacity(n int64) Option { return optionFunc(func(c *config) { c.capacity = n }) }

// Messages makes [CreatePipe] and [CreateNamedPipe] lay out a message
// pipe: each Write is one record that the reader gets back whole, in one
// Read. See the package documentation.
func Messages() Option { return optionFunc(func(c *config) { c.messages = true }) }

// LockFile gives the file whose byte-range locks record who is attached
// (see docs/ipc-layout.md, section 5), for a Region that cannot give its
// own: a file mapping from package mmfile (pass the mapped file, opened
// for writing), or a side file that all participants open, for a System V
// segment. A Region with a File method (package shm's segments) needs no
// LockFile. Without a lock file, liveness rests on the process id and its
// start time, which works only within one PID namespace.
//
// [CreatePipe] records the file's identity; [OpenPipe] refuses a file
// that is not the same one. The pipe opens its own descriptions of f
// (through /proc/self/fd), so f stays the caller's to close once the
// Pipe is made. Windows, which has no such locks, refuses it with an
// error wrapping [ErrUnsupported].
func LockFile(f *os.File) Option { return optionFunc(func(c *config) { c.lockFile = f }) }

// ReadyTimeout sets how long [OpenPipe] waits for a pipe that another
// process is still creating (2 s by default) before it gives up with an
// error wrapping [ErrInvalidHeader].
func ReadyTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.readyTimeout = d })
}

// WaitMode is how a pipe end waits when it cannot go on: for data (the
// reader) or for room (the writer).
type WaitMode int

const (
	// Adaptive polls the ring for up to 50 µs, while the peer is
	// attached and not itself asleep on the pipe, then sleeps on a
	// futex. It spins only while that pays: it stops for a while (1 ms,
	// growing to 100 ms) when spins keep failing, for at least 20 ms when
	// a spin finds itself preempted (the machine is oversubscribed, and
	// spinning would take the CPU from the peer), and as long as
	// wake-ups from its sleeps are quick (under 10 µs on average: the
	// CPUs are busy, a sleep costs little, and a spin would take CPU
	// from the peer). The default.
	Adaptive WaitMode = iota
	// SleepOnly sleeps on the futex at once: the least CPU, and a wake-up
	// latency of a few microseconds on every wait.
	SleepOnly
	// SpinOnly never sleeps: it polls the shared memory, yielding the
	// processor to other goroutines now and then, and burns a CPU for as
	// long as it waits. It is for a process pinned to a core of its own;
	// anywhere else it is slower than the others.
	SpinOnly
)

// String returns the mode's name: adaptive, sleep-only or spin-only.
func (m WaitMode) String() string {
	switch m {
	case Adaptive:
		return "adaptive"
	case SleepOnly:
		return "sleep-only"
	case SpinOnly:
		return "spin-only"
	}
	return fmt.Sprintf("WaitMode(%d)", int(m))
}

// WithWaitMode sets the [WaitMode] of the ends that [Pipe.Writer] and
// [Pipe.Reader] attach; given to CreatePipe, OpenPipe or their named
// forms, it becomes the default of that Pipe's ends. A mode other than
// [Adaptive], [SleepOnly] and [SpinOnly] makes the call given it fail
// with an error wrapping [fs.ErrInvalid].
func WithWaitMode(m WaitMode) Option { return optionFunc(func(c *config) { c.wait = m }) }

// check refuses a WaitMode that is none of the modes, which an option
// cannot do itself when it is made.
func (m WaitMode) check() error {
	switch m {
	case Adaptive, SleepOnly, SpinOnly:
		return nil
	}
	return detail(fs.ErrInvalid, "wait mode %d is not %d (adaptive), %d (sleep-only) or %d (spin-only)", int(m), Adaptive, SleepOnly, SpinOnly)
}
