package shm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// nameMax is the longest name in bytes, NAME_MAX on Linux: the name is a
// file name in the shared-memory directory.
const nameMax = 255

// Segment is a shared-memory segment mapped into this process.
//
// Its io methods are those of the embedded [*ioadapt.IO], promoted
// unchanged, with the rules of package ioadapt: [ioadapt.IO.ReadAt],
// [ioadapt.IO.Read], [ioadapt.IO.ReadByte], [ioadapt.IO.UnreadByte],
// [ioadapt.IO.WriteAt], [ioadapt.IO.Write], [ioadapt.IO.WriteString],
// [ioadapt.IO.WriteByte], [ioadapt.IO.Seek], [ioadapt.IO.WriteTo],
// [ioadapt.IO.ReadFrom], [ioadapt.IO.Section], [ioadapt.IO.Access],
// [ioadapt.IO.Bytes], [ioadapt.IO.Size], [ioadapt.IO.Name],
// [ioadapt.IO.Writable], [ioadapt.IO.Truncate], [ioadapt.IO.Sync] and
// [ioadapt.IO.Close]. For a segment:
//   - its size is fixed: a write past the end writes what fits and returns
//     an error wrapping [ioadapt.ErrFixedSize], and Truncate always returns
//     one (the io core has it for Regions that can grow, as [os.File] has
//     it for files that cannot);
//   - Sync returns nil at once: shared memory has no backing store, and
//     every store is visible to the other processes when it is made;
//   - Name returns the segment's name without a leading "/"; "anonymous"
//     for [CreateAnonymous], and the file's name for [FromFile];
//   - Close unmaps the segment and closes its descriptor or handle; it does
//     not unlink the name (see [Segment.Unlink]). Other processes that have
//     the segment mapped keep it. After Close every method returns an error
//     matching [fs.ErrClosed], those of Segment's own included.
//
// A Segment is safe for concurrent use by multiple goroutines.
type Segment struct {
	*ioadapt.IO
	r    *segment
	anon bool
}

func newSegment(r *segment, anon bool) *Segment {
	return &Segment{IO: ioadapt.New(r.region(anon)), r: r, anon: anon}
}

// how tells openNamed what to do with the name.
type how int

const (
	createExcl   how = iota // create; fail if the name exists
	openExisting            // open; fail if the name does not exist
	openOrCreate            // open if the name exists, else create
)

// Create creates a new segment of size bytes, zero-filled, and maps it for
// reading and writing. It fails with an error wrapping [fs.ErrExist] if the
// name is taken: creation is exclusive, so a segment planted in advance by
// someone else is never adopted. The segment gets the permissions of
// [Mode], 0600 by default, whatever the umask.
//
// On Linux the whole size is reserved in the shared-memory file system
// before mapping (fallocate(2)), so touching the memory later cannot fail
// with SIGBUS: when the file system is too small, Create fails with an error
// wrapping [ioadapt.ErrNoSpace] that names the size and the free space, and
// removes the name.
//
// A leading "/" in name is accepted and ignored, so "/demo" and "demo" are
// the same segment, as for shm_open(3). See [ErrInvalidName] for the names
// refused.
func Create(name string, size int64, opts ...Option) (*Segment, error) {
	return openSegment("create", name, createExcl, size, opts)
}

// Open maps an existing segment, for reading and writing unless
// [ReadOnly] is given, and fails with an error wrapping [fs.ErrNotExist] if
// there is none. It never changes the segment's size: with [ExpectSize] it
// checks it. With [RequireSecure] it refuses a segment that another user
// could have made or may read. On Linux it never follows a symbolic link
// in the shared-memory directory (O_NOFOLLOW): such a name fails with an
// error wrapping [ErrInsecure] and [syscall.ELOOP].
//
// A segment that another process is still creating has size 0 until its
// pages are reserved: with ExpectSize, Open then fails with
// [ioadapt.ErrSizeMismatch] and may be retried. Tell peers the name once Create has
// returned, or let them use [OpenOrCreate], which waits.
func Open(name string, opts ...Option) (*Segment, error) {
	return openSegment("open", name, openExisting, 0, opts)
}

// OpenOrCreate opens the segment if the name exists, as [Open] does with
// ExpectSize(size), and otherwise creates it, as [Create] does. An existing
// segment of another size is an error wrapping [ioadapt.ErrSizeMismatch]; it is
// never resized. Any number of processes may call it at once for the same
// name: one creates the segment and the others open it, on Linux waiting
// (up to 2 s) while the creator is still reserving its pages.
func OpenOrCreate(name string, size int64, opts ...Option) (*Segment, error) {
	return openSegment("open", name, openOrCreate, size, opts)
}

// CreateUnique creates a segment, as [Create] does, under a name made of
// prefix and 32 random hexadecimal digits from [crypto/rand], so that no
// other process can predict or take it first. Segment.Name tells the name
// to pass to the peers.
func CreateUnique(prefix string, size int64, opts ...Option) (*Segment, error) {
	if _, err := cleanName("create", prefix+"x"); err != nil {
		return nil, err
	}
	var err error
	for range 8 {
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails: see crypto/rand.Read
		var s *Segment
		s, err = Create(prefix+hex.EncodeToString(b[:]), size, opts...)
		if !errors.Is(err, fs.ErrExist) {
			return s, err
		}
	}
	return nil, err
}

func openSegment(op, name string, h how, size int64, opts []Option) (*Segment, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	name, err = cleanName(op, name)
	if err != nil {
		return nil, err
	}
	if h != openExisting {
		if err := checkSize(op, name, size); err != nil {
			return nil, err
		}
	}
	if c.expectSet {
		if err := checkSize(op, name, c.expectSize); err != nil {
			return nil, err
		}
	}
	r, err := openNamed(op, c.dir, name, h, size, c)
	if err != nil {
		return nil, err
	}
	return newSegment(r, false), nil
}

// CreateAnonymous creates a segment of size bytes that has no name: only
// descriptors can reach it. Hand it to a child process with [Segment.File]
// and [os/exec.Cmd.ExtraFiles]; the child maps it with [FromFile].
//
// On Linux it is a memfd (memfd_create(2)) whose pages are reserved and
// which is sealed against shrinking and growing (F_SEAL_SHRINK,
// F_SEAL_GROW, F_SEAL_SEAL), so no process that shares it can make another's
// mapping fault. It lives until the last descriptor and mapping are gone.
// Other systems return an error wrapping [ioadapt.ErrUnsupported].
func CreateAnonymous(size int64, opts ...Option) (*Segment, error) {
	const op = "create"
	c, err := newConfig(opts)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: anonName, Err: err}
	}
	if err := checkSize(op, anonName, size); err != nil {
		return nil, err
	}
	r, err := createAnon(op, size, c)
	if err != nil {
		return nil, err
	}
	return newSegment(r, true), nil
}

// FromFile maps the segment behind f, typically a descriptor inherited
// from the parent process (os.NewFile(3, "shm") for the first of
// [os/exec.Cmd.ExtraFiles]). It duplicates the descriptor, so f may be
// closed afterwards. It refuses, with an error wrapping [ErrInsecure], a
// file that is not sealed against shrinking (as [CreateAnonymous] seals
// it): another process could truncate it under the mapping. [ExpectSize]
// checks the size and [ReadOnly] maps it read-only; writing needs f to be
// open for writing. Name returns f.Name(). Windows returns an error wrapping
// [ioadapt.ErrUnsupported].
//
// A tmpfs memfd sealed against shrinking cannot fault. A hugetlbfs one
// (memfd_create MFD_HUGETLB) can, unless it is also sealed against
// writes (F_SEAL_WRITE or F_SEAL_FUTURE_WRITE): a peer may punch a hole
// in it (fallocate PUNCH_HOLE), and once the huge page pool is empty, a
// touch of the hole has no page. Reads and writes of such a segment then
// return an error wrapping [ioadapt.ErrFault], as for a named segment.
func FromFile(f *os.File, opts ...Option) (*Segment, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: f.Name(), Err: err}
	}
	if c.expectSet {
		if err := checkSize("open", f.Name(), c.expectSize); err != nil {
			return nil, err
		}
	}
	r, err := fromFile("open", f, c)
	if err != nil {
		return nil, err
	}
	return newSegment(r, true), nil
}

// Unlink removes the name of a segment, as shm_unlink(3) does: later opens
// fail with [fs.ErrNotExist], while processes that have it mapped or open
// keep using it until they close it; then its memory is freed. A missing
// name is an error wrapping fs.ErrNotExist. Windows returns an error
// wrapping [ioadapt.ErrUnsupported]: there a segment lives exactly as long
// as a handle to it is open.
func Unlink(name string) error {
	name, err := cleanName("unlink", name)
	if err != nil {
		return err
	}
	return unlinkName("", name)
}

// Unlink removes the segment's name, as the package-level [Unlink] does,
// but only if the name still refers to this segment: when another process
// has unlinked it and made a new segment under the same name, Unlink leaves
// that one alone and returns an error wrapping [fs.ErrNotExist]. An
// anonymous segment has no name: Unlink returns an error wrapping
// [ioadapt.ErrUnsupported]. After Close it returns an error wrapping
// [fs.ErrClosed].
func (s *Segment) Unlink() error {
	return region.Access(s.IO, "unlink", func([]byte) error {
		if s.anon {
			return &fs.PathError{Op: "unlink", Path: s.Name(), Err: errs.Detail(ioadapt.ErrUnsupported, "an anonymous segment has no name to unlink")}
		}
		return s.r.unlink()
	})
}

// File returns a new [*os.File] for the segment's descriptor (a duplicate
// of it, close-on-exec), to hand to a child process through
// [os/exec.Cmd.ExtraFiles], where [FromFile] maps it. The caller closes it;
// closing it does not affect the segment. After Close it returns an error
// wrapping [fs.ErrClosed]. Windows returns an error wrapping
// [ioadapt.ErrUnsupported].
func (s *Segment) File() (*os.File, error) {
	var f *os.File
	err := region.Access(s.IO, "file", func([]byte) (err error) {
		f, err = s.r.dup()
		return err
	})
	return f, err
}

// Stat describes the segment as [List] does: its name, size, owner and
// permissions as the system records them now. After Close it returns an
// error wrapping [fs.ErrClosed].
func (s *Segment) Stat() (Info, error) {
	var info Info
	err := region.Access(s.IO, "stat", func([]byte) (err error) {
		info, err = s.r.stat()
		return err
	})
	return info, err
}

// Anonymous reports whether the segment has no name: it was made by
// [CreateAnonymous] or mapped by [FromFile].
func (s *Segment) Anonymous() bool { return s.anon }

// Info describes a segment.
type Info struct {
	Name    string      // the name, without a leading "/"
	Size    int64       // size in bytes
	UID     int         // owner's user ID; -1 where unknown (Windows)
	Mode    fs.FileMode // permission bits
	ModTime time.Time   // last change of size or of data written with write(2)
}

// List returns the segments in this machine's shared-memory namespace that
// this process can see, sorted by name: on Linux the regular files of the
// shared-memory directory (usually /dev/shm), without glibc's named
// semaphores, which live there as files named "sem." and the semaphore's
// name; no segment can have such a name (see [ErrInvalidName]). Windows
// cannot enumerate named objects and returns an error wrapping
// [ioadapt.ErrUnsupported].
func List() ([]Info, error) { return listDir("") }

// RemoveStale unlinks the segments whose names start with prefix, that
// belong to the effective user, that were last modified more than olderThan
// ago, and that no process has open or mapped, as far as this process can
// see (on Linux it reads /proc/*/fd and /proc/*/maps; processes of other
// users are visible only to root). It returns the names it removed.
//
// It is meant for segments whose creator died before unlinking them. Use a
// prefix that only your program uses, and an age well above the lifetime of
// a normal run: the modification time of a shared-memory file changes with
// ftruncate(2) and write(2), but not with stores through a mapping. An
// empty prefix is an error wrapping [ErrInvalidName]. Windows returns an
// error wrapping [ioadapt.ErrUnsupported].
func RemoveStale(prefix string, olderThan time.Duration) ([]string, error) {
	return removeStaleIn("", prefix, olderThan)
}

func removeStaleIn(dir, prefix string, olderThan time.Duration) ([]string, error) {
	const op = "removestale"
	if prefix == "" {
		return nil, &fs.PathError{Op: op, Path: prefix, Err: errs.Detail(ErrInvalidName, "empty prefix would match every segment")}
	}
	if _, err := cleanName(op, prefix); err != nil {
		return nil, err
	}
	prefix = strings.TrimPrefix(prefix, "/")
	busy, err := inUse(dir)
	if err != nil {
		return nil, err
	}
	infos, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	cutoff := time.Now().Add(-olderThan)
	euid := os.Geteuid()
	var removed []string
	for _, in := range infos {
		if !strings.HasPrefix(in.Name, prefix) || in.UID != euid || !in.ModTime.Before(cutoff) || busy[in.Name] {
			continue
		}
		if err := unlinkName(dir, in.Name); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed by someone else meanwhile
			}
			return removed, err
		}
		removed = append(removed, in.Name)
	}
	return removed, nil
}

// cleanName checks name against the rules of [ErrInvalidName] and returns
// it without its leading "/". Each message quotes the name as given and
// says what is wrong with it.
func cleanName(op, name string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", &fs.PathError{Op: op, Path: name, Err: errs.Detail(ErrInvalidName, format, args...)}
	}
	n, lead := strings.CutPrefix(name, "/")
	switch {
	case name == "":
		return bad("empty name")
	case n == "":
		return bad("name %q is empty after the leading slash", name)
	case n == "." || n == "..":
		return bad("name %q names a directory", name)
	case strings.Contains(n, "/"):
		what := "a slash"
		if lead {
			what = "a slash after the leading one"
		}
		if slices.Contains(strings.Split(n, "/"), "..") {
			return bad("name %q contains %s and a \"..\" element: a name is one file in the shared-memory directory, it cannot reach outside it", name, what)
		}
		return bad("name %q contains %s: a name is one file in the shared-memory directory", name, what)
	case strings.IndexByte(n, 0) >= 0:
		return bad("name %q contains a NUL byte", name)
	case len(n) > nameMax:
		return bad("name is %d bytes long, more than %d", len(n), nameMax)
	case strings.HasPrefix(n, semPrefix):
		return bad("name %q starts with %q, the prefix of glibc's named semaphores (sem_open) in the same directory", name, semPrefix)
	}
	// The system's own rules are the same with and without the leading
	// slash; given the name as written, its message quotes that.
	if err := checkNameOS(name); err != nil {
		return "", &fs.PathError{Op: op, Path: name, Err: err}
	}
	return n, nil
}

// semPrefix begins the file names of glibc's named POSIX semaphores:
// sem_open("/x") makes the file sem.x in the shared-memory directory
// (__shm_get_name in glibc's posix/shm-directory.c), where
// shm_open("/sem.x") would find it too. Names with it are refused on every
// platform, so that a segment is never a semaphore and a name that works on
// one system works on all: List and RemoveStale skip such files without
// hiding any segment.
const semPrefix = "sem."

// checkSize refuses a size that is negative or does not fit in memory.
func checkSize(op, name string, size int64) error {
	switch {
	case size < 0:
		return &fs.PathError{Op: op, Path: name, Err: errs.Detail(ioadapt.ErrInvalidSize, "negative size %d", size)}
	case size > maxSize():
		return &fs.PathError{Op: op, Path: name, Err: errs.Detail(ioadapt.ErrTooLarge,
			"size %d is larger than the address space allows (%d)", size, maxSize())}
	}
	return nil
}

// maxSize is the largest size a segment may have: what a slice can index,
// and at most 128 TiB, the user address space of x86-64 and arm64.
func maxSize() int64 { return min(int64(math.MaxInt), 1<<47) }

// anonName is the name of a segment without one, in errors and Name.
const anonName = "anonymous"
