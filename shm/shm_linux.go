//go:build linux

package shm

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/internal/sys"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// segment is a segment's mapping and descriptor: the [ioadapt.Region]
// behind a Segment. Its Label is the segment name, "anonymous", or the
// inherited file's name; Sync does nothing, as tmpfs and memfd pages have
// no backing store.
type segment struct {
	region.Fixed
	dir     string // shared-memory directory of a named segment
	fd      int
	retired region.Retired // the memory Close dropped
	sealed  bool           // a memfd that cannot fault (cannotFault): see sealedSegment
}

// sealedSegment is the Region of an anonymous segment whose memfd cannot
// fault (cannotFault): one sealed against shrinking (F_SEAL_SHRINK, which
// CreateAnonymous adds and FromFile requires), whose pages are there for
// as long as it is mapped. The io core then copies without the fault
// guard. Close leaves the memory mapped for the io core to unmap once no
// call holds it (region.Retired.Keep), so the memfd's pages live until a
// collection after Close.
type sealedSegment struct{ *segment }

// FaultFree marks the sealed memfd as unable to fault.
func (sealedSegment) FaultFree() {}

// region returns the Region that the io core gets for r: a sealedSegment
// for an anonymous segment whose memfd cannot fault, else r itself, which
// the io core copies in the fault guard.
func (r *segment) region(anon bool) ioadapt.Region {
	if !anon || !r.sealed {
		return r
	}
	return sealedSegment{r}
}

// cannotFault reports whether the mapped memory of the memfd fd, whose
// seals include F_SEAL_SHRINK, can never fault, so that the io core may
// copy it without the fault guard:
//   - on tmpfs (shmem) a hole that another process punches (fallocate
//     PUNCH_HOLE, which F_SEAL_SHRINK and F_SEAL_GROW allow) reads as
//     zeros, and a store there allocates a page or meets the OOM killer
//     (shmem_fault gives VM_FAULT_OOM), never SIGBUS;
//   - on hugetlbfs (a memfd made with MFD_HUGETLB) a page is there only
//     while the mapping's reservation, taken at mmap, holds it: a hole
//     punched gives it back, and a touch of the hole must then take a page
//     from the huge page pool, raising SIGBUS when the pool is empty
//     (Documentation/admin-guide/mm/hugetlbpage.rst). So it cannot fault
//     only if it is also sealed with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE,
//     which make hugetlbfs_punch_hole (fs/hugetlbfs/inode.c), as
//     shmem_fallocate (mm/shmem.c), refuse PUNCH_HOLE with EPERM;
//   - any other file system, or one that fstatfs cannot name, may fault.
func cannotFault(fd, seals int) bool {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.TMPFS_MAGIC:
		return true
	case unix.HUGETLBFS_MAGIC:
		return seals&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0
	}
	return false
}

func newRegion(name, dir string, fd int, c *config) *segment {
	return &segment{Fixed: region.Fixed{Label: name, CanWrite: !c.readOnly}, dir: dir, fd: fd}
}

// Close retires the segment's memory ([sys.Retire]: a reservation takes
// its place, which the io core unmaps once no call holds it) and closes
// its descriptor, which it closes whether or not that failed.
func (r *segment) Close() error {
	var err error
	if r.Mem != nil {
		drop := r.retired.Drop
		if r.sealed {
			drop = r.retired.Keep
		}
		if e := drop(r.Mem); e != nil {
			err = pathErr("close", r.Label, e)
		}
		r.Mem = nil
	}
	if r.fd >= 0 {
		if e := unix.Close(r.fd); e != nil {
			err = errs.Rollback(err, pathErr("close", r.Label, e))
		}
		r.fd = -1
	}
	return err
}

// Retired and StopRetiring make a segment an [ioadapt.Retirer], which
// takes the lock off the io core's reads and writes.
func (r *segment) Retired() [][]byte { return r.retired.Take() }
func (r *segment) StopRetiring()     { r.retired.Stop() }

// Unheld makes the next Close unmap rather than retire
// ([ioadapt.Unheld]): no call holds the memory.
func (r *segment) Unheld() { r.retired.Unheld() }

// checkOptionsOS refuses Global, which names a Windows namespace: Linux
// has one.
func checkOptionsOS(c *config) error {
	if c.global {
		return errs.Unsupported("Global")
	}
	return nil
}

// systemDir finds the shared-memory directory as older glibc's shm_open
// did (where_is_shmfs; newer glibc uses /dev/shm unconditionally): the
// tmpfs mounted at /dev/shm, found in /proc/mounts, or else the first file
// system of type "shm" there (very old systems); /dev/shm when neither is
// found or /proc is missing. In practice it is /dev/shm, which is also
// where C and Python programs look.
var systemDir = sync.OnceValue(func() string { return findShmDir("/proc/mounts") })

const defaultDir = "/dev/shm"

func findShmDir(mounts string) string {
	f, err := os.Open(mounts)
	if err != nil {
		return defaultDir
	}
	defer f.Close()
	var shmType string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue
		}
		dir, typ := unescapeMount(fields[1]), fields[2]
		if dir == defaultDir && typ == "tmpfs" {
			return defaultDir
		}
		if typ == "shm" && shmType == "" {
			shmType = dir
		}
	}
	if shmType != "" {
		return shmType
	}
	return defaultDir
}

// unescapeMount undoes the octal escapes (\040 for a space) of
// /proc/mounts, see getmntent(3).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func shmDir(dir string) string {
	if dir != "" {
		return dir
	}
	return systemDir()
}

// checkNameOS has nothing to add on Linux: any byte but "/" and NUL may
// appear in a file name.
func checkNameOS(string) error { return nil }

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Flags of every open, as glibc's shm_open uses them: the descriptor is not
// leaked into children, and a symbolic link planted under the name is not
// followed. O_NONBLOCK keeps a FIFO planted under the name from blocking
// the open; it has no effect on a regular file.
const openFlags = unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK

// openNamed opens or creates the named segment in dir ("": the system's
// shared-memory directory) as h says.
func openNamed(op, dir, name string, h how, size int64, c *config) (*segment, error) {
	dir = shmDir(dir)
	var waited time.Duration
	for attempt := 0; ; attempt++ {
		switch h {
		case createExcl:
			return createNamed(op, dir, name, size, c)
		case openExisting:
			return openNamedExisting(op, dir, name, c)
		}
		r, err := createNamed("create", dir, name, size, c)
		if !errors.Is(err, fs.ErrExist) {
			return r, err
		}
		oc := *c
		oc.expectSize, oc.expectSet = size, true
		r, err = openNamedExisting(op, dir, name, &oc)
		switch {
		case errors.Is(err, fs.ErrNotExist) && attempt < 10:
			// Between the two calls another process unlinked the name:
			// create it again.
			continue
		case errors.Is(err, ioadapt.ErrSizeMismatch) && size > 0 && attempt < 100 && beingCreated(dir, name, size, &waited):
			// Another process has just created the name and is reserving
			// its pages: the size stays 0 until fallocate is done.
			continue
		}
		return r, err
	}
}

func createNamed(op, dir, name string, size int64, c *config) (*segment, error) {
	path := filepath.Join(dir, name)
	fd, err := unix.Open(path, openFlags|unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, uint32(c.perm))
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	r := newRegion(name, dir, fd, c)
	fail := func(err error) (*segment, error) {
		return nil, errs.Rollback(err, errors.Join(r.unlink(), r.Close()))
	}
	// The umask has narrowed the mode given to open; set it as asked.
	if err := unix.Fchmod(fd, uint32(c.perm)); err != nil {
		return fail(pathErr(op, name, err))
	}
	if err := reserve(fd, size); err != nil {
		return fail(pathErr(op, name, spaceErr(fd, dir, size, err)))
	}
	if err := r.mmap(op, size); err != nil {
		return fail(err)
	}
	return r, nil
}

// creatingWait is how long OpenOrCreate waits for a segment that another
// process is still creating (reserving 1 GiB of tmpfs takes about 0.1 s).
const creatingWait = 2 * time.Second

// beingCreated reports whether the name holds a segment that may still be
// growing to size: one of size 0, after sleeping a little (it gives up
// once *waited reaches creatingWait), or one that has reached size since
// the open that found it empty, so that opening again finds it whole.
func beingCreated(dir, name string, size int64, waited *time.Duration) bool {
	var st unix.Stat_t
	if *waited >= creatingWait || unix.Lstat(filepath.Join(dir, name), &st) != nil {
		return false
	}
	if st.Size != 0 {
		return st.Size == size
	}
	step := min(time.Millisecond+*waited/2, 50*time.Millisecond) // backing off
	time.Sleep(step)
	*waited += step
	return true
}

// reserve gives the file size bytes and allocates every page of them now
// ([sys.Allocate]), so that a full tmpfs is an error here rather than a
// SIGBUS at the first touch of a page that cannot be allocated. On a file
// system or kernel without fallocate the size is set (ftruncate) and the
// pages are not reserved.
func reserve(fd int, size int64) error {
	if size == 0 {
		return nil
	}
	err := sys.Allocate(fd, 0, size)
	if errors.Is(err, errors.ErrUnsupported) {
		return os.NewSyscallError("ftruncate", unix.Ftruncate(fd, size))
	}
	return err
}

// spaceErr turns running out of space into an error that says how much
// was asked for and how much there is.
func spaceErr(fd int, dir string, size int64, err error) error {
	if !errors.Is(err, unix.ENOSPC) && !errors.Is(err, unix.EFBIG) {
		return err
	}
	where := dir
	if where == "" {
		where = "memory"
	}
	var st unix.Statfs_t
	msg := fmt.Sprintf("no space for a segment of %d bytes in %s", size, where)
	if unix.Fstatfs(fd, &st) == nil {
		msg += fmt.Sprintf(": %d bytes free of %d", int64(st.Bavail)*int64(st.Bsize), int64(st.Blocks)*int64(st.Bsize))
	}
	return errs.New(msg, ioadapt.ErrNoSpace, unix.ENOSPC)
}

func openNamedExisting(op, dir, name string, c *config) (*segment, error) {
	path := filepath.Join(dir, name)
	flags := openFlags | unix.O_RDWR
	if c.readOnly {
		flags = openFlags | unix.O_RDONLY
	}
	fd, err := unix.Open(path, flags, 0)
	if err == unix.ELOOP {
		return nil, pathErr(op, name, errs.New(path+" is a symbolic link: refusing to follow it", ErrInsecure, unix.ELOOP))
	}
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	r := newRegion(name, dir, fd, c)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, errs.Rollback(pathErr(op, name, err), r.Close())
	}
	if err := checkFile(path, &st, c); err != nil {
		return nil, errs.Rollback(pathErr(op, name, err), r.Close())
	}
	if err := r.mmap(op, st.Size); err != nil {
		return nil, errs.Rollback(err, r.Close())
	}
	return r, nil
}

// checkFile applies the checks of an open to what fstat said.
func checkFile(path string, st *unix.Stat_t, c *config) error {
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errs.Detail(ErrInsecure, "%s is not a regular file (mode %#o)", path, st.Mode)
	}
	if c.secure {
		if euid := os.Geteuid(); int(st.Uid) != euid {
			return errs.Detail(ErrInsecure, "segment is owned by uid %d, not by this process's uid %d", st.Uid, euid)
		}
		if perm := fs.FileMode(st.Mode) & fs.ModePerm; perm&^c.perm != 0 {
			return errs.Detail(ErrInsecure, "segment mode %#o grants more than the %#o asked for", uint32(perm), uint32(c.perm))
		}
	}
	if c.expectSet && st.Size != c.expectSize {
		return errs.Detail(ioadapt.ErrSizeMismatch, "segment is %d bytes, expected %d", st.Size, c.expectSize)
	}
	return nil
}

// mmap maps the whole file shared, read-only unless the segment is
// writable. A zero size maps nothing.
func (r *segment) mmap(op string, size int64) error {
	if size > maxSize() {
		return pathErr(op, r.Label, errs.Detail(ioadapt.ErrTooLarge, "segment size %d is larger than the address space allows", size))
	}
	if size == 0 {
		return nil
	}
	prot := unix.PROT_READ
	if r.CanWrite {
		prot |= unix.PROT_WRITE
	}
	b, err := sys.Map(r.fd, 0, int(size), prot, unix.MAP_SHARED)
	if err != nil {
		return pathErr(op, r.Label, os.NewSyscallError("mmap", err))
	}
	r.Mem = b
	return nil
}

// Seals that make the memfd's size final: no process holding it can shrink
// it (which would make the others' mappings fault) or grow it, and no one
// can change the seals.
const anonSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL

func createAnon(op string, size int64, c *config) (*segment, error) {
	fd, err := unix.MemfdCreate("mmapkit-shm", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err == unix.ENOSYS {
		err = errs.Unsupported("memfd_create on this kernel")
	}
	if err != nil {
		return nil, pathErr(op, anonName, err)
	}
	r := newRegion(anonName, "", fd, c)
	if err := reserve(fd, size); err != nil {
		return nil, errs.Rollback(pathErr(op, anonName, spaceErr(fd, "", size, err)), r.Close())
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, anonSeals); err != nil {
		return nil, errs.Rollback(pathErr(op, anonName, os.NewSyscallError("fcntl F_ADD_SEALS", err)), r.Close())
	}
	// Without MFD_HUGETLB the memfd is on tmpfs; asked all the same, by
	// the rule that FromFile applies.
	r.sealed = cannotFault(fd, anonSeals)
	if err := r.mmap(op, size); err != nil {
		return nil, errs.Rollback(err, r.Close())
	}
	return r, nil
}

func fromFile(op string, f *os.File, c *config) (*segment, error) {
	name := f.Name()
	fd, err := sys.DupOf(f)
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	r := newRegion(name, "", fd, c)
	fail := func(err error) (*segment, error) {
		return nil, errs.Rollback(pathErr(op, name, err), r.Close())
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(err)
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil {
		return fail(errs.New("descriptor does not support seals, so another process could shrink it under the mapping", ErrInsecure, err))
	}
	if seals&unix.F_SEAL_SHRINK == 0 {
		return fail(errs.Detail(ErrInsecure, "descriptor is not sealed against shrinking (seals %#x): another process could shrink it under the mapping", seals))
	}
	if err := checkFile(name, &st, &config{expectSize: c.expectSize, expectSet: c.expectSet}); err != nil {
		return fail(err)
	}
	r.sealed = cannotFault(fd, seals)
	if err := r.mmap(op, st.Size); err != nil {
		return nil, errs.Rollback(err, r.Close())
	}
	return r, nil
}

func unlinkName(dir, name string) error {
	if err := unix.Unlink(filepath.Join(shmDir(dir), name)); err != nil {
		return pathErr("unlink", name, err)
	}
	return nil
}

// unlink removes the segment's name if it still names the segment's file.
func (r *segment) unlink() error {
	var fst, pst unix.Stat_t
	if err := unix.Fstat(r.fd, &fst); err != nil {
		return pathErr("unlink", r.Label, err)
	}
	if err := unix.Lstat(filepath.Join(r.dir, r.Label), &pst); err != nil {
		return pathErr("unlink", r.Label, err)
	}
	if fst.Dev != pst.Dev || fst.Ino != pst.Ino {
		return pathErr("unlink", r.Label, errs.Detail(fs.ErrNotExist,
			"name now refers to another segment (inode %d, not %d): not unlinked", pst.Ino, fst.Ino))
	}
	return unlinkName(r.dir, r.Label)
}

func (r *segment) dup() (*os.File, error) {
	fd, err := sys.Dup(r.fd)
	if err != nil {
		return nil, pathErr("file", r.Label, err)
	}
	return os.NewFile(uintptr(fd), r.Label), nil
}

func (r *segment) stat() (Info, error) {
	var st unix.Stat_t
	if err := unix.Fstat(r.fd, &st); err != nil {
		return Info{}, pathErr("stat", r.Label, err)
	}
	return infoOf(r.Label, &st), nil
}

func infoOf(name string, st *unix.Stat_t) Info {
	return Info{
		Name:    name,
		Size:    st.Size,
		UID:     int(st.Uid),
		Mode:    fs.FileMode(st.Mode) & fs.ModePerm,
		ModTime: time.Unix(st.Mtim.Unix()),
	}
}

func listDir(dir string) ([]Info, error) {
	dir = shmDir(dir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, semPrefix) || !e.Type().IsRegular() {
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dir, name), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue // gone meanwhile
		}
		out = append(out, infoOf(name, &st))
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// inUse returns the names of the segments in dir that some process has
// open or mapped, as /proc shows them to this process.
func inUse(dir string) (map[string]bool, error) {
	dir = shmDir(dir)
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	busy := make(map[string]bool)
	note := func(p string) {
		p = strings.TrimSuffix(p, " (deleted)")
		if d, n := filepath.Split(p); filepath.Clean(d) == dir && n != "" {
			busy[n] = true
		}
	}
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		base := "/proc/" + p.Name()
		if fds, err := os.ReadDir(base + "/fd"); err == nil {
			for _, fd := range fds {
				if target, err := os.Readlink(base + "/fd/" + fd.Name()); err == nil {
					note(target)
				}
			}
		}
		if maps, err := os.ReadFile(base + "/maps"); err == nil {
			for line := range strings.Lines(string(maps)) {
				// address perms offset dev inode pathname
				if i := strings.Index(line, " /"); i >= 0 {
					note(strings.TrimSpace(line[i+1:]))
				}
			}
		}
	}
	return busy, nil
}
