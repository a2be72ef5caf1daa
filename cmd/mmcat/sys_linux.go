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

// pipeSplicer returns a function that moves mapped file pages into the
// pipe f by reference, with vmsplice(2), instead of copying them with
// write(2); nil if f offers no raw descriptor.
//
// On virtual machines a write(2) from a large file mapping costs more than
// GNU cat's read and write pairs: the kernel's copy walks the mapping
// through the guest's and the host's page tables, a TLB miss per 4 KiB
// page, where read(2) copies out of the kernel's direct map. vmsplice
// takes references to the page-cache pages behind the mapping instead, and
// the reader copies them out of the direct map: no copy is made on this
// side at all. The pipe holds at most its capacity of such references, so
// a reader sees the file as it is at most one pipe's worth later than a
// write(2) would have shown it.
func pipeSplicer(f *os.File) func([]byte) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	return func(b []byte) (int, error) {
		var n int
		var serr error
		err := rc.Write(func(fd uintptr) bool {
			for n < len(b) {
				iov := []unix.Iovec{{Base: &b[n]}}
				iov[0].SetLen(len(b) - n)
				m, err := unix.Vmsplice(int(fd), iov, 0)
				switch err {
				case nil:
					n += m
				case unix.EINTR:
				case unix.EAGAIN:
					return false // a non-blocking pipe: wait in the poller
				default:
					serr = os.NewSyscallError("vmsplice", err)
					return true
				}
			}
			return true
		})
		if err == nil {
			err = serr
		}
		return n, err
	}
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

// pendingOptions are the mmfile options for the new version of a -o file.
func pendingOptions() []mmfile.Option { return nil }
