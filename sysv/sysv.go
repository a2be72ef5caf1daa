package sysv

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// Option changes how a segment is created or attached. Options come from
// [Mode], [ReadOnly] and [ExpectSize]; the interface is sealed, and a nil
// Option is ignored. An invalid option makes the call fail before any
// system call.
type Option interface {
	apply(*config)
}

type config struct {
	perm     fs.FileMode
	readOnly bool
	expect   int64 // -1: no expectation
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// newConfig applies opts and refuses invalid Mode bits.
func newConfig(opts []Option) (config, error) {
	c := config{perm: 0o600, expect: -1}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c, errs.CheckMode(c.perm)
}

// Mode sets the permission bits of a segment that is created (0600 when not
// given). They are used as given: System V IPC applies no umask. Only the
// permission bits (0777) are allowed; other bits make the call fail with an
// error wrapping [fs.ErrInvalid]. Opening an existing segment ignores it.
func Mode(perm fs.FileMode) Option { return optionFunc(func(c *config) { c.perm = perm }) }

// ReadOnly attaches the segment read-only (SHM_RDONLY): every write through
// the [Segment] returns an error wrapping [ioadapt.ErrReadOnly]. It needs
// only read permission on the segment.
func ReadOnly() Option { return optionFunc(func(c *config) { c.readOnly = true }) }

// ExpectSize makes [Open] and [AttachID] check that the segment's size is
// exactly n bytes, and fail with an error wrapping
// [ioadapt.ErrSizeMismatch] otherwise. The size is checked, never applied:
// a System V segment keeps the size it was created with. The calls that
// create take a size of their own, and refuse an n that differs from it
// before any system call.
func ExpectSize(n int64) Option { return optionFunc(func(c *config) { c.expect = n }) }

// Segment is an attached System V shared-memory segment.
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
//   - its size is fixed at creation: reads end with a bare [io.EOF] at the
//     size, a write past it writes what fits and returns an error wrapping
//     [ioadapt.ErrFixedSize], and Truncate always returns one (the io core
//     has it for Regions that can grow, as [os.File] has it for files that
//     cannot);
//   - Sync returns nil at once: the segment has no backing store, and every
//     store is visible to the processes that attach it when it is made;
//   - Name returns "key 0x0000abcd", or "id 42" for a segment without a
//     key;
//   - Close detaches the segment; it does not remove it (see the package
//     documentation for when to call [Segment.Remove]). After Close every
//     method returns an error matching [fs.ErrClosed], except ID, Key and
//     Remove. On Linux an inaccessible reservation takes the attachment's
//     place, as for the other Regions of mmapkit: a call under way at
//     Close, or an ipc object in the segment, then ends with
//     fs.ErrClosed, and no mapping made since can take those addresses
//     while they are in use. The io core unmaps the reservation once a
//     garbage collection finds that no call holds it; until then it takes
//     address space, and an attach collects first when much of it waits
//     (as mmapkit's other mappings do), so that under RLIMIT_AS closed
//     attachments that no call holds do not take the room of the next
//     one. Elsewhere Close calls shmdt, and waits for the calls under way.
//
// Every method is safe for concurrent use.
type Segment struct {
	*ioadapt.IO
	r *segment
}

// segment is the [ioadapt.Region] of one attachment. Its Label is "key
// 0x0000abcd", or "id 42" for a segment without a key; Sync does nothing,
// as System V shared memory has no backing store to make durable.
//
// It does not implement [ioadapt.FaultFree], though a System V segment can
// never shrink and IPC_RMID does not unmap attached segments: touching it
// can still fault. A segment made elsewhere with SHM_HUGETLB|SHM_NORESERVE
// raises SIGBUS when the huge page pool runs dry (see the kernel's
// Documentation/admin-guide/mm/hugetlbpage.rst), memory failure
// (hwpoison) raises SIGBUS, and a privileged process can open the
// segment's shmem file through /proc/PID/map_files and truncate it, after
// which touching the lost pages raises SIGBUS as for any shrunk file. The
// fault handling of [ioadapt.IO] costs little and turns those into errors.
type segment struct {
	region.Fixed
	key      Key
	id       int
	detached atomic.Bool
	detacher // how Close detaches (detach_linux.go, detach_other.go)

	rmu     sync.Mutex
	removed bool // guarded by rmu
}

// Close detaches the segment (see detach). The segment itself remains.
func (r *segment) Close() error {
	if r.detached.Swap(true) {
		return nil
	}
	b := r.Mem
	r.Mem = nil
	if err := r.detach(b); err != nil {
		return &fs.PathError{Op: "close", Path: r.Label, Err: err}
	}
	return nil
}

// ID returns the segment's identifier, the shmid column of ipcs(1) and
// /proc/sysvipc/shm, as [AttachID] takes it. It remains valid after Close.
func (s *Segment) ID() int { return s.r.id }

// Key returns the key the segment was created or opened with, or [Private]
// for one made by [CreatePrivate]. Unlike the key the kernel reports (see
// [Info]), it does not change when the segment is removed.
func (s *Segment) Key() Key { return s.r.key }

// Stat returns the kernel's view of the segment (IPC_STAT): its size,
// permissions, owner and creator, the pids of its creator and last user,
// its attach count and times. After Close it returns an error matching
// [fs.ErrClosed]; the segment may still exist, but this Segment no longer
// holds it.
func (s *Segment) Stat() (Info, error) {
	if s.r.detached.Load() {
		return Info{}, &fs.PathError{Op: "stat", Path: s.r.Label, Err: fs.ErrClosed}
	}
	info, err := shmStat(s.r.id)
	if err != nil {
		return Info{}, &fs.PathError{Op: "stat", Path: s.r.Label, Err: errs.New(fmt.Sprintf("id %d", s.r.id), err)}
	}
	return info, nil
}

// Remove marks the segment for removal (IPC_RMID). The kernel destroys it
// only when the last process detaches; until then every attachment,
// this one included, keeps reading and writing it, but no new [Open] finds
// it by its key (on Linux its key becomes [Private] at once; [AttachID]
// still works there until the last detach).
//
// Remove may be called before or after Close, and more than once: calls
// after the first successful one return nil. Removing a segment that is
// already gone returns an error matching [fs.ErrNotExist].
func (s *Segment) Remove() error {
	s.r.rmu.Lock()
	defer s.r.rmu.Unlock()
	if s.r.removed {
		return nil
	}
	if err := shmRemove(s.r.id); err != nil {
		if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EIDRM) {
			err = errs.New(fmt.Sprintf("id %d no longer exists", s.r.id), fs.ErrNotExist, err)
		} else {
			err = errs.New(fmt.Sprintf("id %d", s.r.id), err)
		}
		return &fs.PathError{Op: "remove", Path: s.r.Label, Err: err}
	}
	s.r.removed = true
	return nil
}

// Info describes a segment, as IPC_STAT and /proc/sysvipc/shm report it.
type Info struct {
	// Key is the segment's key, or Private for a segment made without one
	// or (on Linux) marked for removal.
	Key Key
	// ID is the segment's identifier, as AttachID takes it.
	ID int
	// Size is the segment's size in bytes, as created.
	Size int64
	// Mode holds the permission bits.
	Mode fs.FileMode
	// Removed reports that Remove (IPC_RMID) was called and the segment
	// waits for its last detach (Linux's SHM_DEST; always false on macOS).
	Removed bool
	// UID and GID own the segment; CreatorUID and CreatorGID made it.
	UID, GID               int
	CreatorUID, CreatorGID int
	// CreatorPID made the segment; LastPID last attached or detached it.
	CreatorPID, LastPID int
	// Attaches counts the attachments in every process (shm_nattch).
	Attaches int
	// AttachTime, DetachTime and ChangeTime are the last attach, detach
	// and change of permissions or creation; the zero Time for never.
	AttachTime, DetachTime, ChangeTime time.Time
}

// Limits are the system's limits on System V shared memory.
type Limits struct {
	// MaxSize is the largest segment in bytes (shmmax).
	MaxSize uint64
	// MaxSegments is the number of segments the system holds at most
	// (shmmni).
	MaxSegments uint64
	// MaxPages is the total of all segments, in pages (shmall).
	MaxPages uint64
	// PageSize is the size of a page in bytes.
	PageSize int
}

// SystemLimits reads the limits: on Linux from /proc/sys/kernel/shmmax,
// shmmni and shmall; on macOS from the kern.sysv sysctls.
func SystemLimits() (Limits, error) {
	l, err := systemLimits()
	if errors.Is(err, ioadapt.ErrUnsupported) {
		return Limits{}, &fs.PathError{Op: "limits", Path: "sysv", Err: err}
	}
	return l, err
}

// List returns the segments of this machine (of this IPC namespace, on
// Linux), ordered by id, as /proc/sysvipc/shm lists them: also those marked
// for removal that wait for their last detach. It needs no permission on
// the segments. On macOS it returns an error wrapping
// [ioadapt.ErrUnsupported].
//
// Segments outlive the processes that made them: List is how to find the
// ones left behind, and [AttachID] followed by [Segment.Remove], or
// ipcrm -m ID, removes them.
func List() ([]Info, error) {
	l, err := listSegments()
	if errors.Is(err, ioadapt.ErrUnsupported) {
		return nil, &fs.PathError{Op: "list", Path: "sysv", Err: err}
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	return l, nil
}

// Ftok derives a key from an existing file and a project id, as ftok(3)
// does in C, so that Go and C programs meet at the same segment: the key is
// projID<<24 | (st_dev&0xff)<<16 | (st_ino&0xffff). Different files can
// give the same key (only the low bits of the device and inode are used),
// and a file removed and made again usually gives another one.
func Ftok(path string, projID byte) (Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return 0, &fs.PathError{Op: "ftok", Path: path, Err: err}
	}
	dev, ino, ok := devIno(fi)
	if !ok {
		return 0, &fs.PathError{Op: "ftok", Path: path, Err: errs.Unsupported("device and inode numbers for ftok")}
	}
	return ftokKey(projID, dev, ino), nil
}

// ftokKey is the arithmetic of glibc's sysvipc/ftok.c (and of the BSDs').
func ftokKey(projID byte, dev, ino uint64) Key {
	return Key(int32(uint32(projID)<<24 | uint32(dev&0xff)<<16 | uint32(ino&0xffff)))
}

// Create creates a segment of size bytes with the key and attaches it. It is
// exclusive: when a segment already has the key it fails with an error
// matching [fs.ErrExist] (use [OpenOrCreate] to attach it instead). The
// permissions are 0600 unless [Mode] says otherwise. The memory starts
// zeroed.
//
// The size must be at least 1 and at most the system's shmmax; see
// [ioadapt.ErrInvalidSize], [ErrTooLarge], [ErrTooMany] and
// [ioadapt.ErrNoSpace].
func Create(key Key, size int64, opts ...Option) (*Segment, error) {
	return create("create", key, size, true, false, opts)
}

// OpenOrCreate attaches the segment with the key, creating it with size
// bytes if there is none. An existing segment must have exactly that
// size, or the call fails with [ioadapt.ErrSizeMismatch]. Several
// processes may race to call it: one creates, all attach the same
// segment. A call that made the segment and then cannot attach it (no
// room in the address space) leaves it for the others, which may have
// found it already, and its error names the segment's id.
func OpenOrCreate(key Key, size int64, opts ...Option) (*Segment, error) {
	return create("open", key, size, false, false, opts)
}

// CreatePrivate creates a segment of size bytes without a key
// (IPC_PRIVATE) and attaches it. Other processes reach it by its id
// ([Segment.ID], [AttachID]), typically passed to a child.
func CreatePrivate(size int64, opts ...Option) (*Segment, error) {
	return create("create", Private, size, true, true, opts)
}

// Open attaches the existing segment with the key, whatever its size (its
// size comes from IPC_STAT; give [ExpectSize] to check it). A missing key
// is an error matching [fs.ErrNotExist], and a segment the caller may not
// read (or, without [ReadOnly], write) one matching [fs.ErrPermission].
func Open(key Key, opts ...Option) (*Segment, error) {
	const op = "open"
	path := key.path()
	c, err := checkCommon(op, path, key, opts, false)
	if err != nil {
		return nil, err
	}
	id, err := shmGet(key, 0, false, false, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: explainGet(key, 0, false, c, err)}
	}
	return attach(op, path, key, id, c)
}

// AttachID attaches the segment with the given id, as ipcs -m and
// /proc/sysvipc/shm print it in the shmid column, or as [Segment.ID]
// returns it. An id that names no segment is an error matching
// [fs.ErrNotExist].
func AttachID(id int, opts ...Option) (*Segment, error) {
	const op = "attach"
	path := "id " + strconv.Itoa(id)
	c, err := newConfig(opts)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	}
	if id < 0 || id > math.MaxInt32 {
		return nil, &fs.PathError{Op: op, Path: path, Err: errs.New(fmt.Sprintf("invalid id %d: ids are from 0 to %d", id, math.MaxInt32), fs.ErrInvalid)}
	}
	key := Private
	info, err := shmStat(id)
	switch {
	case err == nil:
		key = info.Key
	case errors.Is(err, ioadapt.ErrUnsupported):
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	case errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EIDRM):
		return nil, &fs.PathError{Op: op, Path: path, Err: errs.New(fmt.Sprintf("no segment has id %d", id), fs.ErrNotExist, err)}
	}
	// Without read permission IPC_STAT fails; shmat below says why.
	if key != Private {
		path = key.path()
	}
	return attach(op, path, key, id, c)
}

// checkCommon applies opts and checks what every call by key checks
// before a system call.
func checkCommon(op, path string, key Key, opts []Option, private bool) (config, error) {
	c, err := newConfig(opts)
	switch {
	case err != nil:
	case key == Private && !private:
		err = errs.New("this key is IPC_PRIVATE, which names no segment: use CreatePrivate or AttachID", fs.ErrInvalid)
	case c.expect != -1 && c.expect <= 0:
		err = errs.Detail(ioadapt.ErrInvalidSize, "expected size %d: a segment holds at least 1 byte", c.expect)
	}
	if err != nil {
		return c, &fs.PathError{Op: op, Path: path, Err: err}
	}
	return c, nil
}

// create makes the segment, exclusively (IPC_EXCL) with excl, and
// attaches it; private allows the key IPC_PRIVATE.
func create(op string, key Key, size int64, excl, private bool, opts []Option) (*Segment, error) {
	path := key.path()
	c, err := checkCommon(op, path, key, opts, private)
	if err != nil {
		return nil, err
	}
	if err := checkSize(size); err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	}
	if c.expect != -1 && c.expect != size {
		return nil, &fs.PathError{Op: op, Path: path, Err: errs.Detail(ioadapt.ErrSizeMismatch,
			"expected size %d, where the segment is made or found with size %d", c.expect, size)}
	}
	id, created, err := getOrCreate(key, size, excl, c.perm)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: explainGet(key, size, true, c, err)}
	}
	s, err := attach(op, path, key, id, c)
	switch {
	case err == nil:
	case created && excl:
		return nil, errs.Rollback(err, removeUnjoined(op, path, id))
	case created:
		// Another OpenOrCreate of the key may have found the segment
		// and be about to attach it: removing it could split them onto
		// two segments. It stays, and the error says so.
		stays := "the segment (id %d) that this call made stays for the other processes of the key (remove it with Remove or ipcrm -m %d)"
		if pe, ok := err.(*fs.PathError); ok {
			return nil, &fs.PathError{Op: pe.Op, Path: pe.Path, Err: fmt.Errorf("%w; "+stays, pe.Err, id, id)}
		}
		return nil, fmt.Errorf("%w; "+stays, err, id, id)
	default:
		return nil, err
	}
	if got := s.Size(); got != size {
		err := &fs.PathError{Op: op, Path: path, Err: errs.New(fmt.Sprintf(
			"the segment (id %d) exists with size %d, not the %d asked", id, got, size), ioadapt.ErrSizeMismatch)}
		return nil, errs.Rollback(err, s.Close())
	}
	return s, nil
}

// getOrCreate makes the segment of key (IPC_CREAT|IPC_EXCL), or without
// excl finds the one that has it, and reports whether it made it, for
// the error of a failed attach. An exclusive try first, then
// an open, tells the two apart where IPC_CREAT alone would not; the loop
// covers a segment removed between the two. The error is the bare errno.
func getOrCreate(key Key, size int64, excl bool, perm fs.FileMode) (id int, created bool, err error) {
	for range 100 {
		id, err = shmGet(key, size, true, true, perm)
		if excl || err != syscall.EEXIST {
			return id, err == nil, err
		}
		id, err = shmGet(key, size, false, false, perm) // perm: the access asked, as IPC_CREAT alone checked it
		if err != syscall.ENOENT {
			return id, false, err
		}
	}
	return 0, false, err
}

// removeUnjoined removes segment id (IPC_RMID), which this call made,
// for a rollback, unless a process has attached it since: a segment with
// a key may have been found by another process meanwhile, which then
// keeps it. Its error says what failed.
func removeUnjoined(op, path string, id int) error {
	info, err := shmStat(id)
	if err == nil && (info.Attaches > 0 || !info.AttachTime.IsZero()) {
		return nil
	}
	return removeErr(op, path, id)
}

// removeErr removes segment id (IPC_RMID), for a rollback, and says so
// in its error.
func removeErr(op, path string, id int) error {
	if err := shmRemove(id); err != nil {
		return &fs.PathError{Op: op, Path: path, Err: errs.New(fmt.Sprintf("removing the segment (id %d) again", id), err)}
	}
	return nil
}

// checkSize checks a size for creation before any system call: what the
// kernel could misread (a negative size becomes a huge size_t) or round
// past the end of int64.
func checkSize(size int64) error {
	if size <= 0 {
		return errs.Detail(ioadapt.ErrInvalidSize, "size %d: a segment holds at least 1 byte", size)
	}
	page := int64(os.Getpagesize())
	if size > math.MaxInt64-page+1 {
		return errs.Detail(ioadapt.ErrInvalidSize, "size %d overflows when rounded up to whole %d-byte pages", size, page)
	}
	if uint64(size) > math.MaxInt {
		return errs.Detail(ioadapt.ErrTooLarge, "size %d is above the largest int on this platform, %d", size, math.MaxInt)
	}
	// shmmax is left to the kernel, which checks it anyway: reading the
	// limits costs more than the whole create, so explainGet reads them
	// only after a refusal.
	return nil
}

func attach(op, path string, key Key, id int, c config) (*Segment, error) {
	b, err := shmAttach(id, c.readOnly)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: explainAttach(id, c, err)}
	}
	name := path
	if key == Private {
		name = "id " + strconv.Itoa(id)
	}
	r := &segment{Fixed: region.Fixed{Mem: b, Label: name, CanWrite: !c.readOnly}, key: key, id: id}
	s := &Segment{IO: ioadapt.New(r.region()), r: r}
	if c.expect != -1 && int64(len(b)) != c.expect {
		err := &fs.PathError{Op: op, Path: path, Err: errs.New(fmt.Sprintf(
			"the segment (id %d) has size %d, not the %d expected", id, len(b), c.expect), ioadapt.ErrSizeMismatch)}
		return nil, errs.Rollback(err, s.Close())
	}
	return s, nil
}

// explainGet turns shmget's errno into an error that says which limit or
// which existing segment was in the way.
func explainGet(key Key, size int64, create bool, c config, errno error) error {
	switch {
	case errors.Is(errno, ioadapt.ErrUnsupported):
		return errno
	case errors.Is(errno, syscall.ENOENT):
		return errs.New("no segment has this key", errno)
	case errors.Is(errno, syscall.EEXIST):
		if info, ok := lookupKey(key); ok {
			return errs.New(fmt.Sprintf("the key is taken by id %d (size %d, mode %04o, uid %d)",
				info.ID, info.Size, info.Mode, info.UID), errno)
		}
		return errs.New("the key is taken", errno)
	case errors.Is(errno, syscall.EINVAL) && create:
		if info, ok := lookupKey(key); ok && key != Private {
			return errs.New(fmt.Sprintf("the segment (id %d) exists with size %d, smaller than the %d asked",
				info.ID, info.Size, size), ioadapt.ErrSizeMismatch, errno)
		}
		if l, err := systemLimits(); err == nil && uint64(size) > l.MaxSize {
			return errs.New(fmt.Sprintf("size %d is above shmmax %d (%s)",
				size, l.MaxSize, limitSource("shmmax")), ErrTooLarge, errno)
		}
		return errs.New(fmt.Sprintf("size %d refused", size), errno)
	case errors.Is(errno, syscall.ENOSPC):
		l, lerr := systemLimits()
		segs, serr := listSegments()
		if lerr != nil || serr != nil {
			return errs.New(fmt.Sprintf("size %d: the system's segment count (shmmni) or total (shmall) is reached", size), errno)
		}
		if uint64(len(segs)) >= l.MaxSegments {
			return errs.New(fmt.Sprintf("size %d: %d segments in use reach shmmni %d (%s)",
				size, len(segs), l.MaxSegments, limitSource("shmmni")), ErrTooMany, errno)
		}
		page := uint64(l.PageSize)
		var used uint64
		for _, s := range segs {
			used += (uint64(s.Size) + page - 1) / page
		}
		need := (uint64(size) + page - 1) / page
		return errs.New(fmt.Sprintf("size %d (%d pages) with %d pages in use is above shmall %d pages (%s)",
			size, need, used, l.MaxPages, limitSource("shmall")), ioadapt.ErrNoSpace, errno)
	case errors.Is(errno, syscall.ENOMEM):
		return errs.New(fmt.Sprintf("size %d: the system could not commit that much memory", size), errno)
	case errors.Is(errno, syscall.EACCES):
		if info, ok := lookupKey(key); ok {
			return errs.New(fmt.Sprintf("the segment (id %d) has mode %04o and owner uid %d gid %d: uid %d may not use it with mode %04o",
				info.ID, info.Mode, info.UID, info.GID, os.Getuid(), c.perm), errno)
		}
	}
	return errs.New(fmt.Sprintf("size %d", size), errno)
}

// explainAttach turns shmat's errno into an error that names the segment
// and what stood in the way.
func explainAttach(id int, c config, errno error) error {
	want := "read and write"
	if c.readOnly {
		want = "read"
	}
	switch {
	case errors.Is(errno, ioadapt.ErrUnsupported):
		return errno
	case errors.Is(errno, syscall.EACCES):
		if info, ok := lookupID(id); ok {
			return errs.New(fmt.Sprintf("the segment (id %d) has mode %04o and owner uid %d gid %d: uid %d gid %d may not %s it",
				id, info.Mode, info.UID, info.GID, os.Getuid(), os.Getgid(), want), errno)
		}
		return errs.New(fmt.Sprintf("the segment (id %d): uid %d gid %d may not %s it", id, os.Getuid(), os.Getgid(), want), errno)
	case errors.Is(errno, syscall.EINVAL) || errors.Is(errno, syscall.EIDRM):
		return errs.New(fmt.Sprintf("no segment has id %d", id), fs.ErrNotExist, errno)
	case errors.Is(errno, syscall.ENOMEM):
		return errs.New(fmt.Sprintf("the segment (id %d, size %d): no room in the address space to attach it", id, segSize(id)), errno)
	}
	return errs.New(fmt.Sprintf("the segment (id %d)", id), errno)
}

// lookupKey finds the segment with the key, for error messages: from the
// system's list where there is one (it needs no permission), else by
// shmget and IPC_STAT.
func lookupKey(key Key) (Info, bool) {
	if key == Private {
		return Info{}, false
	}
	if l, err := listSegments(); err == nil {
		for _, info := range l {
			if info.Key == key {
				return info, true
			}
		}
		return Info{}, false
	}
	id, err := shmGet(key, 0, false, false, 0)
	if err != nil {
		return Info{}, false
	}
	info, err := shmStat(id)
	return info, err == nil
}

// segSize returns the size of segment id, or -1 when unknown.
func segSize(id int) int64 {
	if info, ok := lookupID(id); ok {
		return info.Size
	}
	return -1
}

// lookupID finds the segment with the id, for error messages.
func lookupID(id int) (Info, bool) {
	if l, err := listSegments(); err == nil {
		for _, info := range l {
			if info.ID == id {
				return info, true
			}
		}
		return Info{}, false
	}
	info, err := shmStat(id)
	return info, err == nil
}
