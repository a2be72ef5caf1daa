package main

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/mmfile"
)

// pipeMaxSize is where Linux publishes the largest capacity an
// unprivileged process may give a pipe (pipe(7)).
const pipeMaxSize = "/proc/sys/fs/pipe-max-size"

// growPipe raises the capacity of the pipe f to /proc/sys/fs/pipe-max-size
// (1 MiB by default) and returns the capacity it has, or 0 if that cannot
// be learned. Writes of the whole capacity halve the number of wake-ups
// between writer and reader compared with 64 KiB (the default capacity)
// or GNU cat's 128 KiB. Failure is harmless: the pipe keeps its capacity.
func growPipe(f *os.File) int {
	want := 1 << 20
	if b, err := os.ReadFile(pipeMaxSize); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			want = n
		}
	}
	fd := int(f.Fd())
	cur, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return 0
	}
	if cur >= want {
		return cur
	}
	// F_SETPIPE_SZ fails with EBUSY when the pipe holds more than the
	// new size, and EPERM past the per-user limit: keep what there is.
	if n, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, want); err == nil {
		return n
	}
	return cur
}

// mapOptions are the mmfile options for a source about to be read whole.
// MAP_POPULATE maps every page at once instead of taking a fault per
// fault-around block as write(2) walks the mapping.
func mapOptions(populate bool) []mmfile.Option {
	if populate {
		return []mmfile.Option{mmfile.Populate()}
	}
	return []mmfile.Option{mmfile.WithAdvice(mmfile.Sequential)}
}

// haveCopyFileRange says that copyFileRange can be tried: Linux has
// copy_file_range(2) since 4.5.
const haveCopyFileRange = true

// copyFileRange copies up to n bytes of src from offset off into dst, at
// *at, which it advances, or at dst's file position when at is nil, with
// copy_file_range(2), and returns the count copied: 0 at the end of src.
func copyFileRange(dst *os.File, at *int64, src *os.File, off, n int64) (int64, error) {
	for {
		k, err := unix.CopyFileRange(int(src.Fd()), &off, int(dst.Fd()), at, int(n), 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("copy_file_range", err)
		}
		return int64(k), nil
	}
}

// requiredSeals are the seals (fcntl(2) F_ADD_SEALS) that make a memfd's
// pages unchangeable for good: no write(2), no shared writable mapping,
// none before the seal either (F_SEAL_WRITE fails while one exists), no
// truncation, which zeroes the tail of the last page in place, and no
// hole punched. A seal cannot be removed.
const requiredSeals = unix.F_SEAL_WRITE | unix.F_SEAL_SHRINK

// spliceSafe reports whether the pages of f can be handed to a pipe by
// reference: f is a memfd (or a hugetlbfs file) with requiredSeals. No
// other file qualifies: a read-only mount can be made writable again, an
// immutable file mutable again, and any change then reaches a reader
// that still holds the pages.
func spliceSafe(f *os.File) bool {
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	return err == nil && seals&requiredSeals == requiredSeals
}

// spliceToPipe moves up to n bytes of src from offset off into the pipe
// dst with splice(2), by reference, and returns the count moved.
func spliceToPipe(dst, src *os.File, off, n int64) (int64, error) {
	for {
		k, err := unix.Splice(int(src.Fd()), &off, int(dst.Fd()), nil, int(n), unix.SPLICE_F_MORE)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("splice", err)
		}
		return int64(k), nil
	}
}

// startWriteback starts writing n bytes of f at off to the disk, without
// waiting (sync_file_range SYNC_FILE_RANGE_WRITE): with --sync the disk
// then writes while the copy goes on, and the fsync at the end waits for
// the rest only. It is advice: an error changes nothing, and the fsync
// still reports it.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
