// Package ioadapt is the io core of mmapkit: the [Region] contract that every
// kind of mapped memory satisfies, and [IO], the one implementation of Go's io
// interfaces over any Region.
//
// A Region is a run of bytes with a lifetime: a file mapping (package mmfile),
// a POSIX shared-memory segment (package shm), a System V segment (package
// sysv), an anonymous mapping ([NewAnonymous]) or a plain byte slice
// ([NewMemory]). [New] wraps a Region in an [IO], which adds
// [io.ReaderAt], [io.WriterAt], [io.Reader], [io.Writer], [io.Seeker],
// [io.WriterTo], [io.ReaderFrom], [io.ByteScanner], [io.ByteWriter] and
// [io.StringWriter] with the semantics of [bytes.Reader], [io.SectionReader]
// and [os.File], and [IO.Section] cuts a view of a sub-range that is itself a
// Region.
//
// # Semantics
//
// Reads return [io.EOF], unwrapped, only at the end of the data; ReadAt,
// Write and WriteAt never return a count below len(p) without an error
// (Read may, as [bytes.Reader.Read] does). ReadAt and WriteAt never move the
// seek position. Seeking past the end is allowed; a read there returns 0,
// io.EOF. A write past the end of a Region that cannot grow writes what fits
// and returns an error wrapping [ErrFixedSize]; a Region that implements
// [Resizer] grows instead, as a file does.
//
// # Concurrency
//
// All methods are safe for concurrent use. ReadAt, WriteAt, Sync, Bytes
// and Size run in parallel with each other; Read, Write, Seek and the
// other methods that use the seek position are serialised among themselves,
// like those of [os.File]. Parallel writes to overlapping ranges race on the
// bytes, as they would in a shared file: the last store wins, byte by byte.
//
// # Close
//
// Close waits for the calls in flight to return, then releases the Region;
// on a Region that implements [Retirer] (file mappings and POSIX segments
// on Unix, heap memory), ReadAt, WriteAt, Read and Write are not waited
// for: they hold no lock, and each completes on the memory it started
// with or returns an error matching fs.ErrClosed, since the memory they
// may be copying from is retired, never unmapped under them. A WriteAt or
// Write that returns an error matching fs.ErrClosed because Close ran
// during it may have written part of p (its message says that it raced
// Close); one that started after Close wrote nothing. Every later
// call returns an error for which errors.Is(err, fs.ErrClosed)
// holds, and so does a second Close. The slice returned by [IO.Bytes] is the
// one exception: it aliases the mapping, and after Close (or after a call
// that resized the Region) its memory may be unmapped under it: a read of
// the slice then crashes the process or sees whatever is mapped there
// since, and a write may land in another mapping. Use [IO.Access] to work
// on the raw bytes safely.
//
// A Region that becomes unreachable without Close is synced and closed by a
// cleanup ([runtime.AddCleanup]) as a safety net; do not rely on it for
// timing or for errors.
//
// # Faults
//
// Mapped memory can fault: the file behind it shrank in another process,
// its tmpfs is full, or its storage failed. Where plain code would die with
// SIGBUS or SIGSEGV (on Windows, EXCEPTION_IN_PAGE_ERROR or
// EXCEPTION_ACCESS_VIOLATION), every method of IO and the function given to
// [IO.Access] return an error wrapping [ErrFault] instead, using
// [debug.SetPanicOnFault]. Only faults at addresses inside the Region are
// turned into errors; any other fault stays the crash it would have been.
// The error says what happened where it can be known: a store into a
// Region that is not writable (the page reads fine, so the store faulted);
// otherwise what the Region tells, if it implements [FaultExplainer] (a
// file mapping says the file shrank, and to what size, or that its file
// system has no space left for the page).
// The runtime does this only for faults in Go code: a fault inside a
// system call (write(2) reading from the mapping) is that call's EFAULT,
// which [IO.WriteTo] reports as the same ErrFault. So the mapped memory
// is handed only to the kernel: WriteTo and ReadFrom give every other
// peer a copy, and a fault can never surface in a peer's goroutine or
// unwind through a peer's code.
//
// # Peers and locks
//
// No lock of an IO is held while code outside this package runs: the
// Write of WriteTo's peer, the Read of ReadFrom's, so a peer may be the
// same Region ([io.Copy] of a file onto itself, through an
// [io.OffsetWriter] or an [io.SectionReader]) and may take locks of its
// own. The one exception is the function given to [IO.Access], which runs
// with the Region pinned: it must not call the IO's Close, Truncate or a
// growing write, which wait for it. WriteTo to a descriptor holds the
// Region open for one write(2) of at most 1 MiB at a time, so a Close or
// a growth waits for a slow pipe to take that much.
package ioadapt
