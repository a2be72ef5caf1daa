//go:build linux || (darwin && !ios)

package sysv

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// The system calls of System V shared memory, as golang.org/x/sys/unix
// offers them on Linux and macOS; what each system reports about its
// segments is in info_linux.go and info_darwin.go.

// shmGet is shmget(2). It returns the bare errno.
func shmGet(key Key, size int64, create, excl bool, perm fs.FileMode) (int, error) {
	flag := int(perm.Perm())
	if create {
		flag |= unix.IPC_CREAT
	}
	if excl {
		flag |= unix.IPC_EXCL
	}
	return unix.SysvShmGet(int(key), int(size), flag)
}

// shmAttach is shmat(2) at an address the kernel chooses; the slice spans
// the segment's size from IPC_STAT. Closed attachments that Linux retired
// (detach_linux.go) are reclaimed first when many wait, as before any
// mapping of mmapkit's: under RLIMIT_AS they would take the addresses
// this one needs.
func shmAttach(id int, readOnly bool) ([]byte, error) {
	sys.ReclaimIfDue()
	flag := 0
	if readOnly {
		flag |= unix.SHM_RDONLY
	}
	return unix.SysvShmAttach(id, 0, flag)
}

// shmStat is shmctl(2) IPC_STAT.
func shmStat(id int) (Info, error) {
	var d unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &d); err != nil {
		return Info{}, err
	}
	return infoFromDesc(id, &d), nil
}

// shmRemove is shmctl(2) IPC_RMID.
func shmRemove(id int) error {
	_, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	return err
}

// unixTime converts seconds since the epoch, 0 meaning never.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// readLimits returns the limits, each read by read from its name.
func readLimits(read func(name string) (uint64, error)) (Limits, error) {
	l := Limits{PageSize: os.Getpagesize()}
	for _, f := range []struct {
		name string
		v    *uint64
	}{{"shmmax", &l.MaxSize}, {"shmmni", &l.MaxSegments}, {"shmall", &l.MaxPages}} {
		var err error
		if *f.v, err = read(f.name); err != nil {
			return Limits{}, err
		}
	}
	return l, nil
}
