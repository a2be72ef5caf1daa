// Package shm maps POSIX shared memory that other programs can join: the
// segments that C's shm_open("/demo", ...) and Python's
// multiprocessing.shared_memory.SharedMemory(name="demo") open, and the
// reverse. A [Segment] embeds an [ioadapt.IO], so it is an [io.ReaderAt],
// [io.WriterAt], [io.ReadWriteSeeker] and the rest, over memory that every
// process mapping the segment sees at once.
//
// # Named segments
//
// [Create] makes a new segment (exclusively: an existing name is an error
// wrapping [fs.ErrExist]), [Open] maps an existing one, [OpenOrCreate]
// does either, [CreateUnique] makes one under an unpredictable name, and
// [Unlink] removes a name. A name is a single path element; a leading "/"
// is accepted and means the same, as for shm_open(3). Names that start
// with "sem." are refused: glibc keeps its named semaphores (sem_open(3))
// in the same directory under such names, and a segment that shared one
// would be a semaphore's memory, hidden from [List] and [RemoveStale].
//
// On Linux, as in glibc, a segment is a file in the tmpfs mounted at
// /dev/shm (found in /proc/mounts), opened with O_NOFOLLOW and O_CLOEXEC
// (and O_CREAT|O_EXCL to create), and mapped MAP_SHARED.
//
// # Security
//
// Creation is exclusive and never follows a symbolic link, so a name
// planted by another user is never adopted. New segments get mode 0600
// unless [Mode] asks for more, applied with fchmod(2) so that the umask does
// not change it. Names cannot reach outside the shared-memory directory
// (see [ErrInvalidName]). [RequireSecure] makes Open refuse a segment that
// belongs to another user or grants more than asked. Names are visible to
// every process on the machine; for data only your own processes should
// see, use [CreateUnique] or, better, [CreateAnonymous].
//
// # Sizes and faults
//
// A segment's size is fixed. Opening never changes it: [ExpectSize] checks
// it instead. Create reserves every page at once (fallocate(2)), so a full
// /dev/shm (64 MiB in a default Docker container) makes Create fail with
// an error wrapping [ioadapt.ErrNoSpace] instead of killing the process with
// SIGBUS at the first touch. A peer that truncates a named segment can
// still make this process's mapping fault; the methods of [ioadapt.IO]
// then return an error wrapping [ioadapt.ErrFault] rather than crash.
// Anonymous segments are sealed so that this cannot happen; so is a tmpfs
// memfd that [FromFile] maps, but not a hugetlbfs one without a seal
// against writes, in which a peer can punch a hole that an empty huge
// page pool cannot fill: its faults are errors too.
//
// # Anonymous segments
//
// [CreateAnonymous] makes a segment no name can reach (a sealed memfd on
// Linux). Pass it to a child process with [Segment.File] and
// [os/exec.Cmd.ExtraFiles]; the child maps it with [FromFile].
//
// # Who unlinks, and when
//
// A name outlives every process: a segment that nobody unlinks stays in
// memory until reboot. The process that creates a segment owns its name
// and should unlink it once the peers have opened it (they keep their
// mappings), or when the work is done; Close alone never unlinks. Peers
// that only open a segment should not unlink it. [List] shows what is left
// on the machine and [RemoveStale] removes what crashed programs left
// behind.
//
// Python's multiprocessing (before 3.13) breaks this rule: its resource
// tracker registers every SharedMemory, even one that only attached
// (create=False), and unlinks it when the interpreter exits, so a segment
// made by Go disappears when a Python peer ends (CPython gh-82300, formerly bpo-38119).
// On Python 3.13 and later open it with SharedMemory(name, track=False);
// on older versions unregister it right after attaching:
//
//	from multiprocessing import resource_tracker, shared_memory
//	shm = shared_memory.SharedMemory(name="demo")
//	resource_tracker.unregister(shm._name, "shared_memory")
//
// # Concurrency
//
// A Segment is safe for concurrent use within a process, as [ioadapt.IO]
// describes. Across processes there is no locking: the bytes are shared
// and the processes must agree on a protocol (a pipe, a lock file, atomic
// flags in the memory) for who writes what when.
//
// # Close and Sync
//
// Close unmaps the segment and closes its descriptor; it does not unlink
// it. Sync does nothing, since shared memory has no backing store: every
// store is visible to the other processes at once.
//
// # Platforms
//
// Linux has everything above. Windows has named segments only, as
// paging-file-backed named file mappings in the session's Local\ namespace,
// or Global\ with [Global]; there the differences are:
//   - there is no unlink: a segment lives exactly while some process holds
//     a handle to it or a view of it, so [Unlink] and [Segment.Unlink]
//     return an error wrapping [ioadapt.ErrUnsupported]; close every Segment to
//     free it;
//   - Windows records sizes in whole pages: a Segment reports the size it
//     was created with or the one given to [ExpectSize], and otherwise the
//     page-rounded size;
//   - a size of 0 is refused, and so are [Mode] and [RequireSecure] (the
//     object gets the default security of the creating process, which no
//     mode describes);
//   - [CreateAnonymous], [FromFile], [Segment.File], [List] and
//     [RemoveStale] return an error wrapping [ioadapt.ErrUnsupported].
//
// [Global] is Windows's alone: Linux refuses it.
//
// On other systems (macOS, the BSDs) shm_open is reachable only through
// libc or system calls that golang.org/x/sys/unix does not wrap; without
// cgo every function returns an error wrapping [ioadapt.ErrUnsupported].
package shm
