package sysv

import (
	"fmt"
	"io/fs"
	"testing"
)

// procHeader and procFormat are the header and line format of
// /proc/sysvipc/shm in Linux's ipc/shm.c (sysvipc_shm_proc_show, 64-bit).
const (
	procHeader = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
	procFormat = "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n"
)

// FuzzParseProcList formats a segment as the kernel does and checks that
// the parser gives back every field.
func FuzzParseProcList(f *testing.F) {
	f.Add(int32(0x5e000001), uint32(3), uint16(0o600), uint64(4096), uint32(1234), uint32(1300), uint32(1),
		uint32(0), uint32(0), int64(1764100000), int64(0), int64(1764100000))
	f.Add(int32(0), uint32(1<<31-1), uint16(0o1777), uint64(1<<62), uint32(1<<22), uint32(0), uint32(0),
		uint32(65534), uint32(4294967294), int64(0), int64(1), int64(1<<40))
	f.Add(int32(-1), uint32(0), uint16(0o2644), uint64(1), uint32(1), uint32(1), uint32(70000),
		uint32(1000), uint32(1000), int64(1), int64(2), int64(3))
	f.Fuzz(func(t *testing.T, key int32, id uint32, mode uint16, size uint64, cpid, lpid, nattch, uid, gid uint32, atime, dtime, ctime int64) {
		id &= 1<<31 - 1
		size &= 1<<63 - 1
		mode &= 0o7777
		for _, v := range []*int64{&atime, &dtime, &ctime} {
			if *v < 0 {
				*v = -*v
			}
			*v &= 1<<62 - 1
		}
		line := fmt.Sprintf(procFormat, key, id, mode, size, cpid, lpid, nattch, uid, gid, uid+1, gid+1, atime, dtime, ctime, 8192, 0)
		got, err := parseProcList([]byte(procHeader + line))
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		want := Info{
			Key: Key(key), ID: int(id), Size: int64(size),
			Mode: fs.FileMode(mode) & fs.ModePerm, Removed: mode&shmDest != 0,
			UID: int(uid), GID: int(gid), CreatorUID: int(uid + 1), CreatorGID: int(gid + 1),
			CreatorPID: int(cpid), LastPID: int(lpid), Attaches: int(nattch),
			AttachTime: unixTime(atime), DetachTime: unixTime(dtime), ChangeTime: unixTime(ctime),
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("parse %q =\n%+v\nwant\n%+v", line, got, want)
		}
	})
}

func TestParseProcListErrors(t *testing.T) {
	for _, in := range []string{
		procHeader + "1 2 3\n",
		procHeader + fmt.Sprintf(procFormat, 1, 2, 0o600, 4096, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)[:40] + "x\n",
		procHeader + "         1          2   0900                  4096     1     1      1     0     0     0     0          0          0          0\n",
	} {
		if _, err := parseProcList([]byte(in)); err == nil {
			t.Errorf("parseProcList(%q) gave no error", in)
		} else {
			t.Log(err)
		}
	}
}
