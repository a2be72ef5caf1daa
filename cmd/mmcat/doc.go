// Command mmcat concatenates files and shared memory to standard output, like
// GNU cat, reading them through memory maps.
//
// Usage:
//
//	mmcat [OPTION]... [SOURCE]...
//
// A SOURCE is a file path, "-" for standard input (the default), shm:NAME for
// a POSIX shared-memory segment (the NAME Python's
// multiprocessing.shared_memory.SharedMemory(name=NAME) uses), sysv:KEY for a
// System V segment by key (decimal, or hexadecimal after 0x, as ipcs -m
// prints it) or sysv-id:ID for one by id. Files are mapped read-only with
// package mmfile and written out straight from the mapping, so the bytes are
// copied once; into a regular file, a file is not even mapped (see Speed).
// Standard input, pipes, FIFOs, devices, files that report a
// size of 0, every file of the kernel's own filesystems (/proc, /sys,
// debugfs and the like, whose contents are made as they are read) and any
// file whose mapping fails are read instead, with the same output.
//
// # Compatibility with GNU cat
//
// The options -A -b -e -E -n -s -t -T -u -v and their long forms produce
// byte-identical output to GNU cat 9, across files: one formatter serves
// the whole invocation, so line numbers and -s carry from one SOURCE to the
// next. With none of them, the formatter is bypassed. A SOURCE that fails is
// reported as "mmcat: SOURCE: reason" and the others are still copied; the
// exit status is then 1. Messages name the command as it was invoked
// (argv[0], as GNU tools do): installed or linked as cat, it says "cat: ".
// The command line is parsed as glibc's getopt_long parses cat's: options
// after operands (unless POSIXLY_CORRECT is set), long options abbreviated
// to any unique prefix, and a mistake gets getopt's message, the hint to
// try --help and exit status 1. As GNU cat does, mmcat refuses to copy a
// non-empty file onto itself when standard output is that file ("input
// file is output file"). A failure to write standard output, --help and
// --version included, is a "write error" with exit status 1, and so is a
// failure to close it at the end. Unlike cat, mmcat prints a name in a
// message as it was given, where cat quotes one that holds a space, a
// colon or a shell metacharacter ("cat: 'my file': ...").
//
// One difference cannot be helped: cat reports a closed standard stream
// ("cat - <&-", "cat F >&-") with EBADF, and mmcat does not. The Go
// runtime opens /dev/null, read-write, on each of descriptors 0, 1 and 2
// that is closed when a program starts, and what mmcat then finds is, to
// the kernel's every description of it, a descriptor its parent opened on
// /dev/null read-write, as Python's subprocess.DEVNULL does, where cat
// reads nothing and succeeds. So "mmcat - <&-" reads an empty input, and
// "mmcat F >&-" writes F into /dev/null, both with status 0.
//
// # Signals
//
// A signal whose default action ends cat ends mmcat too, whether it writes
// standard output or -o DEST (which first removes what it was making, see
// Output): SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
// SIGVTALRM and SIGXCPU, and on Linux SIGIO, SIGPWR, SIGSTKFLT and the
// real-time signals. The Go runtime would ignore most of them, and answer
// SIGQUIT with a dump of every goroutine. On Linux mmcat restores each
// one's default action and dies of it as cat does, so that a parent
// reading the wait status sees the signal, and SIGQUIT, SIGXCPU and
// SIGXFSZ dump core where ulimit -c allows one. On the other unixes only
// SIGHUP, SIGINT and SIGTERM kill mmcat so; for the rest it exits with the
// status a shell shows for the death, 128 plus the signal's number.
//
// A signal blocked when mmcat starts (by the mask of a parent that
// blocks it) stays blocked on Linux, as it does for cat: sent, it waits
// pending, and mmcat carries on to the end of its input; with SIGPIPE or
// SIGXFSZ blocked, a broken pipe or a write past ulimit -f is reported as
// an error, as cat reports it. The runtime unblocks some signals before
// mmcat runs, though, and keeps no record that they were blocked: SIGHUP,
// SIGINT, SIGQUIT, SIGTERM and SIGSTKFLT, signals 32 and 34, and the
// signals of faults (SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV and
// SIGSYS, which end it with the runtime's dump of its goroutines). Those
// end mmcat where cat waits, as a blocked signal of any kind does on the
// other unixes.
//
// Three more differences come from the runtime. A signal ignored when
// mmcat starts (nohup, or a shell's trap of it) stays ignored for SIGHUP
// and SIGINT only: the runtime installs its handler over an inherited
// SIG_IGN of any other signal and keeps no record of it, so mmcat ends
// where cat would carry on. With SIGPIPE ignored, a broken standard output
// still ends mmcat with SIGPIPE, where cat reports EPIPE ("write error:
// Broken pipe") and exits 1: the runtime decides that for descriptors 1
// and 2 whatever was inherited. And a write past the file size limit
// (ulimit -f) into standard output ends mmcat by SIGXFSZ, as it ends cat,
// even with SIGXFSZ ignored, where cat reports "File too large"; -o into a
// regular file reports that error instead and leaves DEST as it was.
//
// # Buffering
//
// With a formatting option the output goes through a buffer, as cat's
// does, and is written out at the end of each SOURCE and after each read
// of a stream: what is formatted never waits for the next SOURCE, which
// may be a pipe, a FIFO or a terminal that keeps mmcat waiting, as GNU
// cat writes what it holds before a read that finds no input pending. A
// '\r' at the end of what was read is held back under -E until the next
// byte shows whether it ends a line, as cat holds it.
//
// # Files that change while they are copied
//
// As with cat, a file is copied as it is when mmcat gets to it: one that
// shrank between the size check and the mapping is read instead, and one
// that grows while it is copied is copied to its end as it is once the
// mapped part is done (the growth is read with pread(2)). A file that
// shrinks under the mapping while it is copied cannot be read past the
// cut: mmcat writes everything before the first page that is gone,
// reports the file once ("Bad address: the file shrank or its storage
// failed while it was being copied", also said of a page its storage
// failed to read), exits with status 1 in the end, and goes on with the
// next SOURCE, line numbers and -s carried on as cat carries them. cat,
// which reads, just sees the file end there. With a formatting option the
// bytes are copied out of the mapping before they are formatted, and the
// output then ends exactly where the file now ends; without one, write(2)
// copies straight from the mapping, and a cut in the middle of a page can
// leave zeros up to the end of that page in the output, one more reason
// for the message. A file copied into a regular file by copy_file_range(2)
// (see Speed) is copied exactly up to where it now ends, and reported as
// "the file shrank from N to M bytes while it was being copied".
//
// # Ranges
//
// --offset N and --length N copy bytes [N, N+length) of each SOURCE. Sizes
// are bytes, or take a suffix K, M or G (powers of 1024). A length that runs
// past the end stops at the end. An offset past the end of a SOURCE (an
// offset equal to its size copies nothing) is an error for that SOURCE,
// whose message gives the offset and the size; a streamed SOURCE has the
// offset skipped by reading, and fails the same way when it ends first.
// Standard input that is a regular file is skipped by seeking from its
// current position (the size in the message is what was left from there).
//
// # Output
//
// -o DEST writes to DEST instead of standard output, so that a user who
// swaps cat A B > DEST for mmcat -o DEST A B loses nothing that cat
// keeps. DEST is first opened for writing as the shell's > opens it (but
// without truncating it), so whatever cat would be refused is refused,
// with the same message: the kernel follows the symbolic links and
// applies its protections of sticky directories (fs.protected_symlinks,
// protected_regular, protected_fifos). A DEST that does not exist (no
// file, or a dangling link's target, which that open creates and mmcat
// removes again at once) gets the new file under its name once the file
// is whole. What happens then:
//
//   - A DEST that is not a regular file (a FIFO, a character or block
//     device, a terminal, /dev/null), a DEST named through a descriptor
//     (/dev/stdout, /dev/fd/N, /proc/PID/fd/N: symbolic links of /proc
//     name an open file, not a place in a directory), and a file of a
//     kernel file system (procfs, sysfs, cgroupfs and the like) are
//     written in place, through the code that writes standard output:
//     this is cat > DEST, truncation of a regular file included.
//   - A regular file, found through the symbolic links that DEST names, is
//     replaced atomically: the output goes into a new file in the target's
//     directory, which has no name (O_TMPFILE) until it takes the target's
//     place, and which gets the target's owner, group, extended
//     attributes (ACLs among them), file flags (lsattr) and mode through
//     its descriptor, never by name, before anything is written. On Linux
//     the two files swap names in one step (renameat2 RENAME_EXCHANGE),
//     and the old one's name is then removed; elsewhere, and where the
//     file system cannot swap, the new file is renamed over the target. A
//     reader, or a crash of mmcat, sees the old file or the new one at
//     DEST, never a part; processes that have the old file open keep
//     reading it. Its cached pages are dropped before the copy, when none
//     is dirty and it is no SOURCE: they would go at the rename anyway.
//     Where a new file cannot keep what cat keeps, nothing is written and
//     the message says what could not be kept; --in-place then writes DEST
//     as cat does.
//
// DEST, side by side (--in-place does what the cat column says):
//
//	DEST                          cat > DEST                     mmcat -o DEST
//	----------------------------  -----------------------------  ------------------------------------
//	does not exist                created, 0666 less the umask   the same, made whole then renamed in
//	                              (and the default ACL)
//	regular file                  truncated, rewritten in place  replaced, keeping mode, owner, group,
//	                                                             ACLs, xattrs and lsattr flags
//	symbolic link (chain) to one  the target is written          the target is replaced; links stay
//	dangling symbolic link        the target is created          the same, made whole then renamed in
//	                                                             where the kernel's open created it
//	set-user-ID / set-group-ID    kept for root (CAP_FSETID);    the same rule
//	                              others lose set-user-ID, and
//	                              set-group-ID if group-exec
//	file capabilities             dropped by the kernel          dropped (security.capability)
//	trusted.* attributes          kept                           kept by root; hidden from others,
//	                                                             who cannot see them to keep them
//	FIFO, device, terminal,       opened and written             the same, in place (--mode refused)
//	/dev/null
//	FIFO whose reader leaves      killed by SIGPIPE; with it     killed by SIGPIPE, ignored or not,
//	                              ignored, a write error         as Go programs are on stdout
//	/dev/stdout, /dev/fd/N,       the open file behind it,       the same, in place
//	/proc/PID/fd/N                truncated if regular
//	/proc, /sys, cgroup files     written in place               the same
//	hard links (more than one)    all names see the output       refused: "it has N hard links"
//	bind-mounted file             written through the mount      refused: a mount point
//	another user's file (writable written, owner kept            refused unless root: a new file can
//	to you, or a sticky /tmp)                                    only be yours; same for a group you
//	                                                             are not in
//	directory you cannot write    written                        refused: no file can be made there
//	file you cannot write (0444   refused: Permission denied     refused, the same message; nothing
//	for a user, immutable, append (or Operation not permitted,   changes
//	only, read-only mount)        Read-only file system)
//	writable through an ACL       written                        replaced, when the rows above allow
//	running program               refused: Text file busy        replaced; the program runs on
//	a directory                   refused: Is a directory        refused: Is a directory
//	DEST is also a SOURCE         truncated before it is read:   the old contents are read:
//	                              its bytes are lost             mmcat -o f f g appends g to f
//	name of 236-255 bytes         written                        the same (a short temporary name)
//	disk space                    DEST's size                    room for a second copy until the
//	                                                             rename
//	SIGINT, SIGTERM, SIGHUP,      DEST partly written; killed    DEST untouched; the new file removed;
//	SIGQUIT, SIGUSR1 and the      by the signal                  killed by the signal (see Signals)
//	rest (see Signals),
//	timeout(1)
//	ulimit -f exceeded            DEST partly written; killed    DEST untouched; "File too large",
//	                              by SIGXFSZ                     exit status 1
//	SIGKILL                       DEST partly written            DEST old or new, whole; a named
//	                                                             temporary file (see below), holding
//	                                                             the new contents or, killed just
//	                                                             after the swap, the old ones, is
//	                                                             removed by the next -o to DEST of
//	                                                             its owner (mmfile.RemoveLeftovers)
//	--sync                        -                              writeback started as the copy goes
//	                                                             (sync_file_range), fsync, swap (or
//	                                                             rename), fsync of the directory (or,
//	                                                             of one you may not list, syncfs(2))
//	--mode MODE                   -                              the new file's permissions (fchmod)
//	inode number, birth time,     kept                           new: it is another file
//	project ID, others' locks
//
// On a file system without O_TMPFILE (NFS, FUSE, vfat) the new file has a
// name from the start, the one mmfile.Pending gives its own: a dot, DEST's
// name, ".mmfile-pending-" and 16 hexadecimal digits (for a name too
// long for that, "mmcat-" and 16 hexadecimal digits of a hash of DEST's
// name stand in DEST's name's place), locked with flock(2)
// while mmcat lives, which is how RemoveLeftovers tells a dead writer's
// file from a live one's. It is still changed only through its
// descriptor, and if another process swaps the name for something else
// before the rename, mmcat says so rather than claim that DEST holds the
// output. Like cat > DEST, -o does not wait for the disk, and a crash of
// the machine soon after it can leave DEST as cat's can: short or empty
// (the new file's name may reach the disk before its data, which the
// kernel writes back later), or the old file. --sync does wait, so that
// the replace also survives a crash of the machine: the new file's data
// reach the disk before it takes DEST's place, and that step before
// mmcat exits. When some SOURCE fails, the others are still written and
// DEST replaced; when writing DEST fails, DEST is left as it was. SOURCEs
// are opened one at a time, as cat opens them, whatever ulimit -n is.
//
// shm:NAME and sysv:KEY destinations are created for the output, mode
// 0600 unless --mode says otherwise, and refused when they exist already,
// unless --force, which removes the existing segment first (its current
// users keep the old one). Shared memory lives in RAM, or swap: the output
// may take what the system has available (MemAvailable and free swap) or
// what the memory cgroup of mmcat (or an ancestor) has left, whichever is
// less, minus a reserve of an eighth (at least 16 MiB); beyond that, or
// when /dev/shm is full, -o stops with an error that says which limit it
// met, and removes the segment, rather than be killed by the OOM killer.
// Streamed SOURCEs are never held in mmcat's heap: a POSIX segment grows
// as the output comes, and a System V segment, whose size is fixed when
// it is made, is filled from a spool in memory (a memfd) once the output
// is complete, which halves what it may take. A System V segment cannot be
// empty, so an empty output to sysv:KEY is an error. A segment is visible
// by its name while it is filled; a catchable signal removes it, SIGKILL
// leaves it partly written.
//
// A progress bar (bytes, rate, time left) is drawn on standard error while
// writing to DEST when standard error is a terminal; --progress forces it,
// also for standard output, and --no-progress turns it off.
//
// # Speed
//
// Into a regular file (the new file of -o DEST, a DEST written in place,
// or standard output) and with no formatting option, a file is copied as
// GNU cat 9 copies it: by copy_file_range(2) from its descriptor, which
// copies inside the kernel, from page cache to page cache, until the file
// ends (its growth included, or the end of --length). It is not mapped:
// writing from a fresh mapping makes the kernel map every page on its
// first touch, most of the time of such a copy. Where copy_file_range
// cannot serve (across file systems: EXDEV; standard output opened to
// append: EBADF; and any other error, after a partial copy too), the rest
// goes the mapped way below. Holes of a sparse file come out as the zeros
// they read as, as from cat, which keeps no holes either.
//
// A sparse file of tmpfs or hugetlbfs (a file in /dev/shm, /tmp or /run on
// many systems, a memfd, a shm:NAME segment), or of an overlay, which may
// lie on tmpfs (live systems, containers), is read with read(2), not
// mapped: a read through a mapping allocates a page for each hole it
// touches there, which would fill the file system and stay after mmcat
// exits, where read(2) copies the zero page and allocates nothing. A file
// counts as sparse when it holds fewer blocks (st_blocks) than its size.
//
// Other mapped bytes reach the output with at most one copy, never through
// a buffer of mmcat's: write(2) copies them straight from the mapping (into
// a file DEST, pwrite(2) through its descriptor). When standard output is a pipe, mmcat
// raises its capacity on Linux (F_SETPIPE_SZ, up to
// /proc/sys/fs/pipe-max-size) and writes a pipe's capacity at a time,
// which halves the wake-ups between writer and reader against GNU cat's
// 128 KiB. When standard output is a character device such as /dev/null
// the mapping is not prefaulted, since write(2) may never touch it.
// scripts/bench-cli.sh measures all of this against GNU cat.
//
// A pipe gets copies, never references to a file's pages. vmsplice(2) of
// the mapping, or splice(2) from the file, would spare that copy, but the
// pipe would then hold the page cache's own pages, and its reader would
// copy them when it reads: a change made to the file after mmcat had
// exited with status 0 would still reach the reader, which cat's reader
// never sees. No rule on the writer's side closes that: a reader that
// passes the pages on with splice(2) (as pv does) keeps them out of
// mmcat's sight for as long as it likes. So the rule is the one write(2)
// gives: the reader gets the bytes as they were when mmcat wrote them.
//
// One kind of file keeps that rule with references too, and only it is
// spliced into a pipe: a memfd (memfd_create(2), as /dev/fd/N or
// /proc/PID/fd/N) sealed with both F_SEAL_WRITE and F_SEAL_SHRINK. Its
// pages can never change again: the seals forbid writes and shared
// writable mappings, truncation (which would zero the tail of its last
// page in place) and punched holes, and cannot be removed. Nothing else
// qualifies: a read-only mount can be remounted writable, an immutable
// file (chattr +i) made mutable again, a file sealed with
// F_SEAL_FUTURE_WRITE alone still written through a mapping made before,
// and a change after mmcat exited would then reach the reader.
//
// # Platforms
//
// Linux is the reference. On Windows, files and shm: work through the
// libraries, and sysv: reports that the platform does not support it.
package main
