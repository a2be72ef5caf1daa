// Package mmfile maps files into memory and reads and writes them through
// Go's io interfaces: a [File] is a buffer that is the file.
//
// The mapping holds the file's current contents from the moment it is
// opened. A byte written through it — by WriteAt, Write, or a store into
// the slice from Bytes or Access — is the file's byte, seen at once by
// every other process that maps or reads the file, with no write(2).
//
//	f, err := mmfile.OpenFile("data.bin", os.O_RDWR, 0)
//	...
//	f.WriteAt([]byte("a"), 1) // byte 1 of the file, in place
//	f.Sync()                  // durable
//	f.Close()
//
// # Reading and writing
//
// The io methods of [File] are those of the io core, [ioadapt.IO], so they
// follow its rules: reads return [io.EOF], unwrapped, only at the end of
// the file; ReadAt, Write and WriteAt return a short count only with an
// error; ReadAt and WriteAt never move the seek position and run in
// parallel; Seek past the end is allowed. Offsets run from 0 to the file's
// size; a negative offset is an error wrapping [ioadapt.ErrInvalidOffset].
// Every method, after Close, returns an error matching [fs.ErrClosed]
// before looking at its arguments, and on a nil *File one matching
// [os.ErrInvalid], as [os.File]'s methods do. Method by method:
//
//   - ReadAt(p, off): off from 0; at or past the size, 0, io.EOF; fewer
//     than len(p) bytes only with io.EOF. In parallel with everything;
//     never moves the position.
//   - Read(p), ReadByte(): from the position, advancing it; at or past the
//     size, 0, io.EOF. UnreadByte steps back one byte, and fails at 0.
//     Serialised with the other methods that use the position.
//   - WriteAt(p, off): off from 0 to any size; past the end the file grows
//     (a gap reads as zeros), unless the mapping cannot grow (read-only:
//     [ioadapt.ErrReadOnly]; Range or Private: what fits, then
//     [ioadapt.ErrFixedSize]). In parallel; never moves the position.
//   - Write(p), WriteString(s), WriteByte(b): as WriteAt at the position,
//     advancing it by what was written.
//   - Seek(off, whence): any resulting position from 0 up, also past the
//     end; negative or overflowing, an error that leaves it unchanged.
//   - WriteTo(w): everything from the position to the end the file has at
//     the call; straight from the mapping by write(2) when w is an
//     [*os.File] or a TCP or Unix socket, through a buffer for any other
//     w, which never sees the mapped memory (see [ioadapt.IO.WriteTo]).
//     ReadFrom(r): from r until io.EOF, each chunk written as it is read,
//     so the file grows only by what r returned.
//   - Section(off, n): a view of [off, off+n), itself a Region with its
//     own position, closed with the File.
//   - Access(fn): fn over the mapped bytes, pinned against Close and
//     remaps, with faults returned as [ioadapt.ErrFault].
//   - Bytes(): the mapped bytes, valid until Close or a resize; Size(): the
//     logical size, 0 after Close.
//   - Truncate(size), Sync(), Close(): see Growth and Durability below.
//
// # Growth
//
// A File opened for writing (O_RDWR, Create, or Map with [ReadWrite])
// grows as an [os.File] does: Write or WriteAt past the end extends the
// file, the gap reading as zeros, and Truncate grows or shrinks it. On
// Linux a write past the end goes to the file by pwrite(2), so the kernel
// extends the file exactly to the last byte written: the file's size is
// never ahead of its data, not while io.Copy runs, not after a write that
// failed, not after the writer was killed, and nothing but Truncate ever
// shortens the file, so bytes that other processes appended are kept.
// Nothing is reserved ahead of an append. A gap left by a write past the
// end has its blocks reserved once the write has landed, and the growth
// by Truncate before the size changes (fallocate, keeping the size), so a
// full disk is an error from the write that needed the space, never a
// SIGBUS at a later store; unlike an [os.File], a file grown far past its
// data is therefore not sparse, and needs the space. A write that fails
// for want of space leaves no blocks reserved past the end. The mapping's capacity is
// not the file's size: it runs ahead of it (doubling up to 1 GiB, then in
// whole GiB), so that appends rarely remap, and falls back to the size
// alone where the address space is limited (ulimit -v). ReadAt, WriteAt,
// Read and Write take no lock (on Unix): a remap or Close never waits for
// them, nor they for it, and never unmaps memory they may be copying from;
// it retires it (a PROT_NONE reservation of the same addresses, unmapped
// once no call holds it: [ioadapt.Retirer]), so a call in flight completes
// on the memory it started with, or runs again on the new mapping, or
// returns [fs.ErrClosed]. A remap grows the mapping in place where the
// addresses after it are free (mremap), and otherwise maps the file
// afresh; where that finds no address space for both ranges at once, the
// File goes back to a read lock on every call and moves the mapping
// (MREMAP_MAYMOVE), as it did before. On Windows every call takes the
// read lock, and a remap waits for the calls in flight. A [Range] or [Private] mapping, and a read-only one,
// never grows: writes past its end return an error wrapping
// [ioadapt.ErrFixedSize] or [ioadapt.ErrReadOnly].
//
// # Sharing a file with other processes
//
// Other processes may write, append to, grow or truncate the file while it
// is mapped. A store through the mapping, and every write, land in the
// page cache that they read; a File sees what they write at once. A File
// of the whole file (not [Range] or [Private]) looks at the file's size
// again (fstat) whenever a call asks where the data ends: Size, Seek with
// [io.SeekEnd], a Read or ReadAt that reaches the end it knew, WriteTo,
// and a write past the end on systems that grow by truncating. So a File
// reads what another process appended, at the old end, as an [os.File]
// does, and a File that another process truncated reads to the new end.
// Between those calls a File keeps the size it learned: a read inside it
// of bytes that were truncated away returns an error wrapping
// [ioadapt.ErrFault] (after the bytes before the hole), and a write there
// lands by pwrite(2), extending the file again, as an os.File write would.
// One case differs from an os.File: in the page that holds the new end,
// the mapping has no hole to fault on, so until a call looks at the size
// again, a read there returns zeros past the end, and a small write there
// goes to the page past the end and is lost, as a store through any
// shared mapping of a shortened file is.
//
// # Durability
//
// Sync writes the dirty pages back and waits (msync MS_SYNC), and fsyncs
// when the size changed, so that data and size survive a crash.
// [File.SyncRange] does the same for a range, and [File.SyncAsync] starts
// the write-back without waiting. A store through the mapping dirties the
// whole folio the page cache keeps its page in (up to 2 MiB for a file
// written in large chunks), and write-back writes all of it: to make a few
// bytes durable at once, [File.WriteAtSync] writes them by pwrite(2),
// which dirties only their blocks, and syncs their pages. Close unmaps, leaves the file at its
// logical size and closes the descriptor; like [os.File.Close] it does
// not sync, but what was written before it is in the page cache, visible
// to every reader, and the kernel writes it back in its own time. A File
// dropped without Close is synced and closed by a cleanup, as a safety
// net (see The slice from Bytes below).
//
// [NewPending] writes a whole new version of a file through a mapping and
// publishes it atomically: a reader or a crash sees the old file or the
// new, never a mix.
//
// # Concurrency and Close
//
// All methods are safe for concurrent use. After Close every method
// returns an error matching [fs.ErrClosed], even when Close races with
// calls in other goroutines (Close waits for them, but for ReadAt,
// WriteAt, Read and Write on Unix: see Growth), and a second Close says
// so too. A WriteAt or Write that returns an error matching fs.ErrClosed
// because Close ran during it may have written part of its bytes to the
// file, and its message says that it raced Close; one that started after
// Close wrote nothing. The one thing that can crash the process is
// touching the slice from Bytes after Close or after a resize (SIGSEGV),
// or after another process shrank the file (SIGBUS); [ioadapt.IO.Access]
// runs code over the bytes safely.
//
// # The slice from Bytes
//
// [File.Bytes] returns the mapped memory itself, which the garbage
// collector does not see: holding the slice does not keep the File
// reachable. A File that the program no longer references is closed by
// its cleanup at some later collection, even while its slice is in use,
// and the memory is unmapped under it: a read of the slice then crashes or
// sees whatever is mapped there since, a write may land in another
// mapping. Keep the File reachable until the last use of the slice, by
// closing it after that use or with [runtime.KeepAlive]:
//
//	f, err := mmfile.Open("data.bin")
//	...
//	defer f.Close() // f stays reachable until the function returns
//	b := f.Bytes()
//
//	g, err := mmfile.Open("index.bin") // kept open on purpose
//	...
//	sum := crc32.ChecksumIEEE(g.Bytes())
//	runtime.KeepAlive(g) // g, and so its bytes, stays mapped until here
//
// The cleanup still unmaps: it exists for Files that are forgotten, whose
// mappings (and, for a deleted file, its blocks) would otherwise be held
// until the process exits, and the slice is no safer for being leaked, as
// a resize moves it too.
//
// # Faults
//
// If another process truncates the file under the mapping, or its storage
// fails, the io methods return an error wrapping [ioadapt.ErrFault]
// naming the file, instead of SIGBUS. A fresh mapping works once the file
// is whole again. The error says what happened, from the file as it is
// when the fault is met: the file shrank to N bytes; no space left on the
// file system for the page (a store into a hole of a sparse file on a full
// tmpfs or disk; the error then matches ENOSPC too); the storage could not
// supply the page; or, from code given to Access, a store into a
// read-only mapping (matching [ioadapt.ErrReadOnly] too).
//
// # Errors
//
// Errors tied to the file are [*fs.PathError] whose Op names the call
// ("open", "mmap" for [Map], "write", "truncate", "sync", "madvise" for
// [File.Advise]...), wrapping the errno or a sentinel: a directory, FIFO
// or device gives [ErrNotRegular]; a range outside the file [ErrRange]; an
// open flag a mapping cannot honour [ErrBadFlag]; a negative size
// [ioadapt.ErrInvalidSize]; a file beyond the address space
// [ioadapt.ErrTooLarge]; an option or advice the platform lacks
// [ioadapt.ErrUnsupported], naming it and the platform. A call that fails
// after it changed something undoes it, and an error of the undoing is
// joined onto the first ([errors.Join]).
//
// # Platforms
//
// Linux is first-class. Other Unix systems map the same way, without
// MAP_POPULATE, huge pages or block reservation.
//
// Windows maps with CreateFileMapping and MapViewOfFile, read-only with
// PAGE_READONLY, for writing with PAGE_READWRITE and [Private] with
// PAGE_WRITECOPY (FILE_MAP_COPY). Views start at multiples of the 64 KiB
// allocation granularity, to which a [Range] is aligned internally. A
// view cannot extend past the end of the file, so every growth unmaps,
// resizes and remaps. No process can shrink a file while any process has
// a view of it (ERROR_USER_MAPPED_FILE): a File never loses its pages to
// another process's truncate, and Truncate to a smaller size fails while
// another File or process maps the file, leaving this File mapped as it
// was. Sync is FlushViewOfFile plus FlushFileBuffers, SyncAsync
// FlushViewOfFile alone. [Populate] and every [Advice] but Normal return
// an error wrapping [ioadapt.ErrUnsupported]; LockMemory is VirtualLock, which
// locks no more than the process's minimum working set
// (SetProcessWorkingSetSize raises it). The replace of [Pending] is
// MoveFileEx with MOVEFILE_WRITE_THROUGH, atomic on NTFS in practice but
// not by promise; and [RemoveLeftovers] cannot remove the temporary file
// of a Pending still open, so that Pending commits.
//
// Faults in a view are errors on Windows too. Touching a view whose file
// cannot be read or written (a remote file whose connection is lost, a
// full disk, a failing device) raises EXCEPTION_IN_PAGE_ERROR, which the Go
// runtime handles as it does EXCEPTION_ACCESS_VIOLATION
// (runtime/signal_windows.go, go.dev/issue/58457): under
// [runtime/debug.SetPanicOnFault], which the io core sets around every
// touch of the memory, the exception becomes a panic carrying the
// faulting address, and the io methods return an error wrapping
// [ioadapt.ErrFault]. Only a fault raised by Go code is recovered: the
// runtime turns no exception raised outside the Go binary (in a system
// DLL) into a panic. The tests provoke a fault in a view only
// under Wine, where a Unix process can shrink a mapped file and Wine
// raises EXCEPTION_ACCESS_VIOLATION for it; EXCEPTION_IN_PAGE_ERROR itself
// is not raised by any test.
package mmfile
