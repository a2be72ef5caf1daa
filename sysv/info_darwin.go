//go:build darwin && !ios

package sysv

import (
	"encoding/binary"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// infoFromDesc reads a struct __shmid_ds_new of <sys/shm.h>. x/sys/unix
// names only its first fields; the times follow shm_nattch under the
// header's #pragma pack(4): shm_atime at byte 44, shm_dtime at 52,
// shm_ctime at 60, and the key is the last int32 of the ipc_perm.
func infoFromDesc(id int, d *unix.SysvShmDesc) Info {
	raw := unsafe.Slice((*byte)(unsafe.Pointer(d)), unsafe.Sizeof(*d))
	le := binary.LittleEndian // darwin runs on amd64 and arm64 only
	return Info{
		Key:        Key(int32(le.Uint32(raw[20:]))),
		ID:         id,
		Size:       int64(d.Segsz),
		Mode:       fs.FileMode(d.Perm.Mode) & fs.ModePerm,
		UID:        int(d.Perm.Uid),
		GID:        int(d.Perm.Gid),
		CreatorUID: int(d.Perm.Cuid),
		CreatorGID: int(d.Perm.Cgid),
		CreatorPID: int(d.Cpid),
		LastPID:    int(d.Lpid),
		Attaches:   int(d.Nattch),
		AttachTime: unixTime(int64(le.Uint64(raw[44:]))),
		DetachTime: unixTime(int64(le.Uint64(raw[52:]))),
		ChangeTime: unixTime(int64(le.Uint64(raw[60:]))),
	}
}

// limitSource names where a limit is read, for error messages.
func limitSource(name string) string { return "sysctl kern.sysv." + name }

func systemLimits() (Limits, error) {
	return readLimits(func(limit string) (uint64, error) {
		name := "kern.sysv." + limit
		v, err := unix.SysctlUint64(name)
		if err != nil {
			v32, err32 := unix.SysctlUint32(name)
			if err32 != nil {
				return 0, os.NewSyscallError("sysctl "+name, err)
			}
			v = uint64(v32)
		}
		return v, nil
	})
}

// listSegments would need the kern.sysv.ipcs sysctl, whose layout is
// private to the system; ipcs(1) is the way to list segments on macOS.
func listSegments() ([]Info, error) {
	return nil, &fs.PathError{Op: "list", Path: "sysv", Err: errs.Unsupported("listing segments (use ipcs -m)")}
}
