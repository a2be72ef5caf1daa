// Package ipc passes bytes between processes through shared memory: a
// one-way [Pipe] over any shared [ioadapt.Region] (a segment from package
// shm or sysv, a file mapping from mmfile, or plain memory for goroutines
// of one process), with the semantics of an OS pipe, without its copy
// through the kernel and without its system call per write, and with
// the death of the peer process reported rather than waited on forever.
//
// The bytes in the Region follow a written layout, docs/ipc-layout.md, so
// that programs in C or Python can join a pipe that Go made, and the
// reverse.
//
// # Making a pipe
//
// One process lays out the pipe with [CreatePipe] (or [CreateNamedPipe],
// which also makes the shared-memory segment), the other joins it with
// [OpenPipe] (or [OpenNamedPipe]); each then attaches its end with
// [Pipe.Writer] or [Pipe.Reader]:
//
//	p, err := ipc.CreateNamedPipe("jobs", 1<<20) // a 1 MiB ring
//	w, err := p.Writer()
//	io.Copy(w, file)
//	w.Close()
//
//	p, err := ipc.OpenNamedPipe("jobs")
//	r, err := p.Reader()
//	io.Copy(os.Stdout, r) // until the writer's Close
//
// A [Writer] is an [io.Writer], [io.ReaderFrom] and [io.StringWriter]; a
// [Reader] an [io.Reader], [io.WriterTo] and [io.ByteReader]; io.Copy in
// either direction copies each byte once, straight into or out of the
// ring. [Writer.Reserve] with [Writer.Commit], and [Reader.Peek] with
// [Reader.Release], let the caller write and read the ring in place.
//
// # Messages
//
// A pipe created with [Messages] carries records instead of a stream:
// each Write (or Commit) is one record, and each Read (or Peek) returns
// one record whole, never part of one and never two. Records are
// length-prefixed frames; the ring pads to its end rather than split a
// record, so that [Reader.Peek] always sees one contiguously. A record
// holds at most [Pipe.MaxMessage] bytes, half the ring.
//
// # End of stream, broken pipe, dead peers
//
// As with an OS pipe, the writer's Close lets the reader drain the ring
// and then read [io.EOF]; the reader's Close makes the writer's next call
// fail with an error matching [syscall.EPIPE]. When a peer's process
// dies without closing (SIGKILL, a crash), the survivor is told: a
// blocked or later call returns an error wrapping [ErrPeerDead], the
// reader only after it has read every byte the dead writer committed.
// The pidfd watch below makes that a matter of milliseconds; a sleeper
// also re-checks its peer every second (every 50 ms when it cannot watch
// it: a peer in another PID namespace, a kernel without pidfds), which
// bounds the wait in any case. Nothing half-written is ever seen: the
// writer publishes a write, or a record, with one store of the ring's
// tail after the bytes are in place.
//
// Liveness never rests on threads (goroutines move between them) or on
// the kernel's robust futex lists, which are per thread. Each end,
// while attached, holds an open file description lock on one byte of
// the Region's file (past its end), which the kernel drops when the
// process dies however it dies; and a sleeper watches its peer through a
// pidfd, which wakes it when the peer exits. Regions without a file (a
// System V segment without [LockFile], plain memory) fall back on the
// peer's pid and start time, which works within one PID namespace.
//
// An end left by a dead process is taken over by the next process that
// attaches that end; a live one is refused with [ErrInUse].
//
// # Waiting
//
// A call that cannot go on (the reader with nothing to read, the writer
// with a full ring) waits on the shared memory itself, with a futex in
// the Region (a shared futex, which processes mapping the same file
// meet): it checks, spins for up to 50 µs while the peer is running,
// announces itself, checks again, and sleeps. When nobody
// sleeps, reads and writes make no system call at all. [WithWaitMode]
// chooses [Adaptive] (the default), [SleepOnly] or [SpinOnly]. A sleeping
// call holds its OS thread, as any blocking system call does.
//
// # Deadlines and contexts
//
// [Writer.SetWriteDeadline] and [Reader.SetReadDeadline] (and
// SetDeadline) work as on an [os.File] or a [net.Conn]: a blocking call
// past the deadline fails with an error wrapping
// [os.ErrDeadlineExceeded], a deadline set while a call is blocked
// applies to it, and one in the past makes calls fail at once. The
// Context forms of the blocking calls ([Writer.WriteContext],
// [Reader.ReadContext], [Writer.ReserveContext], [Reader.PeekContext])
// also give up when their context is done, with an error matching
// ctx.Err().
//
// # Close and concurrency
//
// The methods of a Writer or a Reader are safe for concurrent use and
// run one at a time. Close may be called at any time from any goroutine:
// a call in progress completes or returns an error wrapping
// [fs.ErrClosed], every later call returns one, and so does a second
// Close. Close the ends (or the Pipe, which closes its ends) before the
// Region; a pipe made by [CreateNamedPipe] or [OpenNamedPipe] closes its
// segment itself. An end dropped without Close stays attached, and its
// peer sees it alive, until the process exits.
//
// # Faults
//
// A segment truncated under a pipe (by another process, or through a
// file mapping) turns the next access to the lost memory into an error
// wrapping [ioadapt.ErrFault], through the io core's fault handling,
// never into SIGBUS. A sleeping call touches only the header: it finds
// out at its next re-check, at most a second later, when the Region's
// file has shrunk below its size at attach. The zero-copy slices of
// Reserve and Peek are the exception: touching them is plain memory
// access.
//
// A truncation to a size that ends inside a page the pipe or an object
// uses is no fault at all: the kernel zeroes the rest of that page and
// leaves it mapped, so what it held reads as zeros: a ring gives back
// zeros until a sleeping end's re-check finds the file smaller than at
// attach, and a Mutex's or Semaphore's slots read as free, which nothing
// checks. Do not resize a segment while
// participants are attached; where other processes cannot be trusted
// with it, use an anonymous segment ([shm.CreateAnonymous]), whose memfd
// is sealed against shrinking.
//
// # Mutex, Semaphore and Event
//
// [Mutex], [Semaphore] and [Event] are synchronisation objects in shared
// memory, at an offset of any shared Region that the caller chooses
// ([CreateMutex], [OpenMutex] and the like), or each in a small segment
// of its own ([CreateNamedMutex], ...). Section 8 of docs/ipc-layout.md
// lays them out, and C and Python programs take part.
//
//	m, err := ipc.CreateNamedMutex("accounts")
//	err = m.Lock()
//	if errors.Is(err, ipc.ErrOwnerDead) {
//		repair()             // the last holder died half-way
//		m.MarkConsistent()
//	} else if err != nil {
//		return err
//	}
//	defer m.Unlock()
//
// Each handle (a *Mutex, *Semaphore or *Event) is one participant,
// holding one of the object's slots (up to [MaxParticipants]) for its
// liveness: the owner of a locked Mutex, and the holder of a Semaphore's
// permits, is a handle, not a goroutine or a thread. The death of its
// process, however it dies, is seen as for the ends of a pipe: the Mutex
// is taken by the next Lock with [ErrOwnerDead], as robust pthread
// mutexes do, and a Semaphore's permits come back. An uncontended Lock
// and Unlock make no system call: one compare-and-swap each.
//
// Close the handles before their Region. A handle whose Region was
// closed first fails with an error wrapping [fs.ErrClosed] (or, on an
// anonymous segment, works on in the memory it keeps), and until it is
// closed no other mapping takes the Region's addresses, so it never
// writes into one. A closed handle keeps nothing: the Region's memory
// goes once both are closed, however long the handle stays reachable.
// A Region that is resized (a file mapping grown or truncated) may map
// its memory afresh elsewhere: the handles of the objects in it then
// fail with an error wrapping [ioadapt.ErrFault] that says the memory
// moved, and the objects must be opened again. That needs a Region that
// keeps the old addresses reserved when its memory moves
// ([ioadapt.HoldMemory]); where a resizable Region cannot (a file on
// Windows, a file that stopped retiring after running out of address
// space), the constructors refuse it with an error wrapping
// [ErrUnsupported]. Windows views unmap at Close and cannot keep their
// addresses: there the order is the caller's to keep.
//
// # Platforms
//
// Pipes, Mutex, Semaphore and Event: Linux and Windows, little-endian.
// Elsewhere every constructor, of pipes and of the objects alike,
// returns an error wrapping [ErrUnsupported].
//
// On Windows (section 9 of docs/ipc-layout.md) the futexes are named
// auto-reset events, Local\mmapkit-ipc-<wait_id>-<offset>: for a pipe one
// for each wait word, which every end opens when it attaches; for a
// Mutex, Semaphore or Event one for each participant slot, which its
// handle opens when it attaches and which a waker sets for every slot
// whose sleepers bit is raised (one slot after an Unlock). In a handle,
// while any of its goroutines waits, one goroutine waits on the slot's
// event (holding an OS thread) and passes each wake on to all of them.
// The participants must share a session, as package shm's default
// Local\ segments do (an object in a [shm.Global] segment across
// sessions would not wake). An object made by a creator of layout 1.1
// or older (wait_id 0: a C or Python peer) cannot be joined there.
// There are no file locks: liveness rests on the pid and the process's
// creation time (GetProcessTimes), which a reused pid does not share,
// and a blocked call watches the process it waits for (a pipe's peer, a
// Mutex's holder) through its process handle, which is signalled when
// the process exits however it dies: the survivor learns within
// milliseconds. Each such watch holds an OS thread while it lasts.
// [LockFile] and [ObjectLockFile] are refused, and a named pipe's or
// object's Close leaves no name to unlink: the segment goes with its
// last handle.
package ipc
