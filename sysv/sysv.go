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

	"github.com/mmapkit/mmapkit/ioadapt"
)

// Option changes how a segment is created or attached. Options come from
// [Mode], [ReadOnly], [Exclusive] and [ExpectSize]; the interface is sealed.
type Option interface {
	apply(*options)
}

type options struct {
	perm     fs.FileMode
	excl     bool
	readOnly bool
	expect   int64 // -1: no expectation
	err      error
}

func makeOptions(opts []Option) options {
	o := options{perm: 0o600, excl: true, expect: -1}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	return o
}

type modeOption fs.FileMode

func (m modeOption) apply(o *options) {
	if fs.FileMode(m)&^fs.ModePerm != 0 {
		o.err = newError(fmt.Sprintf("mode %v has bits other than the permission bits 0777", fs.FileMode(m)), fs.ErrInvalid)
		return
	}
	o.perm = fs.FileMode(m)
}

// Mode sets the permission bits of a segment that is created (0600 when not
// given). They are used as given: System V IPC applies no umask. Only the
// permission bits (0777) are allowed; other bits make the call fail with an
// error wrapping [fs.ErrInvalid]. Opening an existing segment ignores it.
func Mode(perm fs.FileMode) Option { return modeOption(perm) }

type readOnlyOption struct{}

func (readOnlyOption) apply(o *options) { o.readOnly = true }

// ReadOnly attaches the segment read-only (SHM_RDONLY): every write through
// the [Segment] returns an error wrapping [ioadapt.ErrReadOnly]. It needs
// only read permission on the segment.
func ReadOnly() Option { return readOnlyOption{} }

type exclusiveOption bool

func (e exclusiveOption) apply(o *options) { o.excl = bool(e) }

// Exclusive(false) lets [Create] open a segment that already exists with the
// key (IPC_CREAT without IPC_EXCL), as [OpenOrCreate] does. Create is
// exclusive by default. Other functions ignore it.
func Exclusive(on bool) Option { return exclusiveOption(on) }

type expectSizeOption int64

func (e expectSizeOption) apply(o *options) { o.expect = int64(e) }

// ExpectSize makes [Open] and [AttachID] check that the segment's size is
// exactly n bytes, and fail with an error wrapping [ErrSizeMismatch]
// otherwise. The size is checked, never applied: a System V segment keeps
// the size it was created with.
func ExpectSize(n int64) Option { return expectSizeOption(n) }

// Segment is an attached System V shared-memory segment. It embeds
// [*ioadapt.IO], which gives it ReadAt, WriteAt, Read, Write, Seek, WriteTo,
// ReadFrom, Section, Access, Bytes, Size, Sync, Close and Name with the
// semantics documented there: reads end with a bare [io.EOF] at the size,
// writes past the size fail with [ioadapt.ErrFixedSize], every method is
// safe for concurrent use, and after Close every method returns an error
// matching [fs.ErrClosed].
//
// Close detaches the segment (shmdt); it does not remove it. Sync does
// nothing, as the segment has no backing store. See the package
// documentation for when to call [Segment.Remove].
type Segment struct {
	*ioadapt.IO
	r *region
}

// region is the [ioadapt.Region] of one attachment.
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
type region struct {
	key      Key
	id       int
	name     string
	b        []byte
	writable bool
	detached atomic.Bool

	rmu     sync.Mutex
	removed bool
}

// Bytes returns the attached memory.
func (r *region) Bytes() []byte { return r.b }

// Size returns the segment's size in bytes.
func (r *region) Size() int64 { return int64(len(r.b)) }

// Writable reports whether the segment was attached for writing.
func (r *region) Writable() bool { return r.writable }

// Name returns "key 0x0000abcd", or "id 42" for a segment without a key.
func (r *region) Name() string { return r.name }

// Sync does nothing: System V shared memory has no backing store to make
// durable.
func (r *region) Sync() error { return nil }

// Close detaches the segment (shmdt). The segment itself remains.
func (r *region) Close() error {
	if r.detached.Swap(true) {
		return nil
	}
	b := r.b
	r.b = nil
	if err := shmDetach(b); err != nil {
		return &fs.PathError{Op: "detach", Path: r.name, Err: err}
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
		return Info{}, &fs.PathError{Op: "stat", Path: s.r.name, Err: fs.ErrClosed}
	}
	info, err := shmStat(s.r.id)
	if err != nil {
		return Info{}, &fs.PathError{Op: "stat", Path: s.r.name, Err: newError(fmt.Sprintf("id %d", s.r.id), err)}
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
			err = newError(fmt.Sprintf("id %d no longer exists", s.r.id), fs.ErrNotExist, err)
		} else {
			err = newError(fmt.Sprintf("id %d", s.r.id), err)
		}
		return &fs.PathError{Op: "remove", Path: s.r.name, Err: err}
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
	if !supported {
		return Limits{}, unsupported("limits", "sysv")
	}
	return systemLimits()
}

// List returns the segments of this machine (of this IPC namespace, on
// Linux), ordered by id, as /proc/sysvipc/shm lists them: also those marked
// for removal that wait for their last detach. It needs no permission on
// the segments. On macOS it returns an error wrapping [ErrUnsupported].
//
// Segments outlive the processes that made them: List is how to find the
// ones left behind, and [AttachID] followed by [Segment.Remove], or
// ipcrm -m ID, removes them.
func List() ([]Info, error) {
	if !supported {
		return nil, unsupported("list", "sysv")
	}
	l, err := listSegments()
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
		return 0, &fs.PathError{Op: "ftok", Path: path, Err: newError("the platform gives no device and inode numbers", ErrUnsupported)}
	}
	return ftokKey(projID, dev, ino), nil
}

// ftokKey is the arithmetic of glibc's sysvipc/ftok.c (and of the BSDs').
func ftokKey(projID byte, dev, ino uint64) Key {
	return Key(int32(uint32(projID)<<24 | uint32(dev&0xff)<<16 | uint32(ino&0xffff)))
}

// Create creates a segment of size bytes with the key and attaches it. It is
// exclusive unless [Exclusive](false) is given: when a segment already has
// the key it fails with an error matching [fs.ErrExist]. The permissions are
// 0600 unless [Mode] says otherwise. The memory starts zeroed.
//
// The size must be at least 1 and at most the system's shmmax; see
// [ErrInvalidSize], [ErrTooLarge], [ErrTooMany] and [ErrNoSpace]. With
// Exclusive(false), an existing segment of another size fails with
// [ErrSizeMismatch].
func Create(key Key, size int64, opts ...Option) (*Segment, error) {
	return create("create", key, size, makeOptions(opts), false)
}

// OpenOrCreate attaches the segment with the key, creating it with size
// bytes if there is none (IPC_CREAT without IPC_EXCL). An existing segment
// must have exactly that size, or the call fails with [ErrSizeMismatch].
// Several processes may race to call it: one creates, all attach the same
// segment.
func OpenOrCreate(key Key, size int64, opts ...Option) (*Segment, error) {
	o := makeOptions(opts)
	o.excl = false
	return create("open", key, size, o, false)
}

// CreatePrivate creates a segment of size bytes without a key
// (IPC_PRIVATE) and attaches it. Other processes reach it by its id
// ([Segment.ID], [AttachID]), typically passed to a child.
func CreatePrivate(size int64, opts ...Option) (*Segment, error) {
	o := makeOptions(opts)
	o.excl = true
	return create("create", Private, size, o, true)
}

// Open attaches the existing segment with the key, whatever its size (its
// size comes from IPC_STAT; give [ExpectSize] to check it). A missing key
// is an error matching [fs.ErrNotExist], and a segment the caller may not
// read (or, without [ReadOnly], write) one matching [fs.ErrPermission].
func Open(key Key, opts ...Option) (*Segment, error) {
	const op = "open"
	o := makeOptions(opts)
	path := key.path()
	if err := checkCommon(op, path, key, o, false); err != nil {
		return nil, err
	}
	id, err := shmGet(key, 0, false, false, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: explainGet(key, 0, false, o, err)}
	}
	return attach(op, path, key, id, o)
}

// AttachID attaches the segment with the given id, as ipcs -m and
// /proc/sysvipc/shm print it in the shmid column, or as [Segment.ID]
// returns it. An id that names no segment is an error matching
// [fs.ErrNotExist].
func AttachID(id int, opts ...Option) (*Segment, error) {
	const op = "attach"
	o := makeOptions(opts)
	path := "id " + strconv.Itoa(id)
	if !supported {
		return nil, unsupported(op, path)
	}
	if o.err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: o.err}
	}
	if id < 0 || id > math.MaxInt32 {
		return nil, &fs.PathError{Op: op, Path: path, Err: newError(fmt.Sprintf("invalid id %d: ids are from 0 to %d", id, math.MaxInt32), fs.ErrInvalid)}
	}
	key := Private
	info, err := shmStat(id)
	switch {
	case err == nil:
		key = info.Key
	case errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EIDRM):
		return nil, &fs.PathError{Op: op, Path: path, Err: newError(fmt.Sprintf("no segment has id %d", id), fs.ErrNotExist, err)}
	}
	// Without read permission IPC_STAT fails; shmat below says why.
	if key != Private {
		path = key.path()
	}
	return attach(op, path, key, id, o)
}

// checkCommon checks what every call by key checks before a system call.
func checkCommon(op, path string, key Key, o options, private bool) error {
	if !supported {
		return unsupported(op, path)
	}
	if o.err != nil {
		return &fs.PathError{Op: op, Path: path, Err: o.err}
	}
	if key == Private && !private {
		return &fs.PathError{Op: op, Path: path, Err: newError("this key is IPC_PRIVATE, which names no segment: use CreatePrivate or AttachID", fs.ErrInvalid)}
	}
	if o.expect != -1 && o.expect <= 0 {
		return &fs.PathError{Op: op, Path: path, Err: newError(fmt.Sprintf("expected size %d: a segment holds at least 1 byte", o.expect), ErrInvalidSize)}
	}
	return nil
}

func create(op string, key Key, size int64, o options, private bool) (*Segment, error) {
	path := key.path()
	if err := checkCommon(op, path, key, o, private); err != nil {
		return nil, err
	}
	if err := checkSize(size); err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	}
	id, err := shmGet(key, size, true, o.excl, o.perm)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: explainGet(key, size, true, o, err)}
	}
	s, err := attach(op, path, key, id, o)
	if err != nil {
		if o.excl {
			// We made it and nobody could know it yet: do not leak it.
			_ = shmRemove(id)
		}
		return nil, err
	}
	if got := s.Size(); got != size {
		s.Close()
		return nil, &fs.PathError{Op: op, Path: path, Err: newError(fmt.Sprintf(
			"the segment (id %d) exists with size %d, not the %d asked", id, got, size), ErrSizeMismatch)}
	}
	return s, nil
}

// checkSize checks a size for creation before any system call: what the
// kernel could misread (a negative size becomes a huge size_t) or round
// past the end of int64.
func checkSize(size int64) error {
	if size <= 0 {
		return newError(fmt.Sprintf("size %d: a segment holds at least 1 byte", size), ErrInvalidSize)
	}
	page := int64(os.Getpagesize())
	if size > math.MaxInt64-page+1 {
		return newError(fmt.Sprintf("size %d overflows when rounded up to whole %d-byte pages", size, page), ErrInvalidSize)
	}
	if uint64(size) > math.MaxInt {
		return newError(fmt.Sprintf("size %d is above the largest int on this platform, %d", size, math.MaxInt), ErrTooLarge)
	}
	// shmmax is left to the kernel, which checks it anyway: reading the
	// limits costs more than the whole create, so explainGet reads them
	// only after a refusal.
	return nil
}

func attach(op, path string, key Key, id int, o options) (*Segment, error) {
	b, err := shmAttach(id, o.readOnly)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: explainAttach(id, o, err)}
	}
	name := path
	if key == Private {
		name = "id " + strconv.Itoa(id)
	}
	r := &region{key: key, id: id, name: name, b: b, writable: !o.readOnly}
	s := &Segment{IO: ioadapt.New(r), r: r}
	if o.expect != -1 && int64(len(b)) != o.expect {
		s.Close()
		return nil, &fs.PathError{Op: op, Path: path, Err: newError(fmt.Sprintf(
			"the segment (id %d) has size %d, not the %d expected", id, len(b), o.expect), ErrSizeMismatch)}
	}
	return s, nil
}

// explainGet turns shmget's errno into an error that says which limit or
// which existing segment was in the way.
func explainGet(key Key, size int64, create bool, o options, errno error) error {
	switch {
	case errors.Is(errno, syscall.ENOENT):
		return newError("no segment has this key", errno)
	case errors.Is(errno, syscall.EEXIST):
		if info, ok := lookupKey(key); ok {
			return newError(fmt.Sprintf("the key is taken by id %d (size %d, mode %04o, uid %d)",
				info.ID, info.Size, info.Mode, info.UID), errno)
		}
		return newError("the key is taken", errno)
	case errors.Is(errno, syscall.EINVAL) && create:
		if info, ok := lookupKey(key); ok && key != Private {
			return newError(fmt.Sprintf("the segment (id %d) exists with size %d, smaller than the %d asked",
				info.ID, info.Size, size), ErrSizeMismatch, errno)
		}
		if l, err := systemLimits(); err == nil && uint64(size) > l.MaxSize {
			return newError(fmt.Sprintf("size %d is above shmmax %d (%s)",
				size, l.MaxSize, limitSource("shmmax")), ErrTooLarge, errno)
		}
		return newError(fmt.Sprintf("size %d refused", size), errno)
	case errors.Is(errno, syscall.ENOSPC):
		l, lerr := systemLimits()
		segs, serr := listSegments()
		if lerr != nil || serr != nil {
			return newError(fmt.Sprintf("size %d: the system's segment count (shmmni) or total (shmall) is reached", size), errno)
		}
		if uint64(len(segs)) >= l.MaxSegments {
			return newError(fmt.Sprintf("size %d: %d segments in use reach shmmni %d (%s)",
				size, len(segs), l.MaxSegments, limitSource("shmmni")), ErrTooMany, errno)
		}
		page := uint64(l.PageSize)
		var used uint64
		for _, s := range segs {
			used += (uint64(s.Size) + page - 1) / page
		}
		need := (uint64(size) + page - 1) / page
		return newError(fmt.Sprintf("size %d (%d pages) with %d pages in use is above shmall %d pages (%s)",
			size, need, used, l.MaxPages, limitSource("shmall")), ErrNoSpace, errno)
	case errors.Is(errno, syscall.ENOMEM):
		return newError(fmt.Sprintf("size %d: the system could not commit that much memory", size), errno)
	case errors.Is(errno, syscall.EACCES):
		if info, ok := lookupKey(key); ok {
			return newError(fmt.Sprintf("the segment (id %d) has mode %04o and owner uid %d gid %d: uid %d may not use it with mode %04o",
				info.ID, info.Mode, info.UID, info.GID, os.Getuid(), o.perm), errno)
		}
	}
	return newError(fmt.Sprintf("size %d", size), errno)
}

// explainAttach turns shmat's errno into an error that names the segment
// and what stood in the way.
func explainAttach(id int, o options, errno error) error {
	want := "read and write"
	if o.readOnly {
		want = "read"
	}
	switch {
	case errors.Is(errno, syscall.EACCES):
		if info, ok := lookupID(id); ok {
			return newError(fmt.Sprintf("the segment (id %d) has mode %04o and owner uid %d gid %d: uid %d gid %d may not %s it",
				id, info.Mode, info.UID, info.GID, os.Getuid(), os.Getgid(), want), errno)
		}
		return newError(fmt.Sprintf("the segment (id %d): uid %d gid %d may not %s it", id, os.Getuid(), os.Getgid(), want), errno)
	case errors.Is(errno, syscall.EINVAL) || errors.Is(errno, syscall.EIDRM):
		return newError(fmt.Sprintf("no segment has id %d", id), fs.ErrNotExist, errno)
	case errors.Is(errno, syscall.ENOMEM):
		return newError(fmt.Sprintf("the segment (id %d, size %d): no room in the address space to attach it", id, segSize(id)), errno)
	}
	return newError(fmt.Sprintf("the segment (id %d)", id), errno)
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

func unsupported(op, path string) error {
	return &fs.PathError{Op: op, Path: path, Err: newError("System V shared memory is not available on this platform", ErrUnsupported)}
}

// unixTime converts seconds since the epoch, 0 meaning never.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}
