// Package sysv maps System V shared memory: segments that unrelated
// processes find by a numeric [Key] (shmget(2), shmat(2)), read and written
// through the same io core as every other Region of mmapkit.
//
// A [Segment] embeds [*ioadapt.IO], so it is an [io.ReaderAt],
// [io.WriterAt], [io.ReadWriteSeeker], [io.WriterTo] and [io.ReaderFrom]
// with the semantics of [bytes.Reader] and [os.File], and
// [ioadapt.IO.Access] gives its raw memory. [Create] makes a segment by key
// (exclusively, mode 0600, unless told otherwise), [Open] attaches an
// existing one, [OpenOrCreate] does whichever is needed, [CreatePrivate]
// makes one without a key and [AttachID] attaches one by the id that
// ipcs -m prints. [Ftok] derives a key from a path exactly as C's ftok(3).
// [ParseKey] reads a key in every form util-linux's ipcrm -M takes (hex as
// ipcs -m prints it, unsigned or negative decimal, octal), and
// [Key.String] prints it as ipcs -m does, in errors too.
//
// # Lifetime: who removes a segment, and when
//
// A System V segment belongs to the system, not to a process: it outlives
// the process that made it, every process that attached it, and Close,
// until someone removes it, or the machine restarts. Forgotten segments
// keep their memory and count against the system's limits (shmmni, shmall)
// until then. [List] shows them (so does ipcs -m) and ipcrm -m ID removes
// one by hand.
//
// [Segment.Remove] marks a segment for removal (IPC_RMID). The kernel frees
// it only when the last process detaches; until then the processes that
// have it attached keep using it. On Linux its key is freed at once, so a
// new [Open] by key fails and a new [Create] makes a new segment.
//
// The process that creates a segment owns it and should remove it when the
// exchange it serves is over: as soon as every peer has attached (the
// memory is then freed by the last Close, even if a process dies), or at
// the latest when the creator is done with it. Peers that only [Open] a
// segment should Close it and leave removal to the creator. A creator that
// may crash should be able to find and remove its segment on restart
// ([Open] with the same key, then Remove).
//
// # Guarantees
//
// Sizes are fixed at creation and never change; a segment starts zeroed.
// Sizes above 2 GiB work on 64-bit platforms. Stores are visible to every
// process that has the segment attached, with no ordering between processes
// beyond what the hardware gives: synchronise with something else (a pipe,
// a lock) before reading what another process wrote. Close detaches and
// never removes; Sync does nothing, as there is no backing store, and
// nothing survives a restart.
//
// Every method of a [Segment] is safe for concurrent use; after Close they
// return errors matching [fs.ErrClosed], except ID, Key and Remove. The
// slice from Bytes aliases the attachment: touching it after Close crashes
// the process (SIGSEGV), so prefer [ioadapt.IO.Access].
//
// Errors are [*fs.PathError] values naming the key ("key 0x0000abcd") or id,
// with messages that give the size asked and the limit that refused it,
// read from /proc/sys/kernel/shmmax, shmmni and shmall on Linux. They wrap
// the kernel's errno, so [errors.Is] with [fs.ErrNotExist], [fs.ErrExist]
// and [fs.ErrPermission] works, and this package's sentinels (see
// errors.go).
//
// # Platforms
//
// Linux is the reference platform. macOS works through the same calls,
// except [List] (use ipcs -m there); its default limits are small (4 MiB
// per segment). Everywhere else, Windows and the BSDs included, every
// function returns an error wrapping [ioadapt.ErrUnsupported] ([errors.ErrUnsupported]),
// except [ParseKey], which works everywhere, and [Ftok], which works on every
// Unix.
package sysv
