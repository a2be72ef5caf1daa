//go:build linux

package sysv

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// shmDest is SHM_DEST from <linux/shm.h>: the mode bit the kernel sets on
// a segment marked for removal that still has attachments.
const shmDest = 0o1000

func infoFromDesc(id int, d *unix.SysvShmDesc) Info {
	return Info{
		Key:        Key(d.Perm.Key),
		ID:         id,
		Size:       int64(d.Segsz),
		Mode:       fs.FileMode(d.Perm.Mode) & fs.ModePerm,
		Removed:    d.Perm.Mode&shmDest != 0,
		UID:        int(d.Perm.Uid),
		GID:        int(d.Perm.Gid),
		CreatorUID: int(d.Perm.Cuid),
		CreatorGID: int(d.Perm.Cgid),
		CreatorPID: int(d.Cpid),
		LastPID:    int(d.Lpid),
		Attaches:   int(d.Nattch),
		AttachTime: unixTime(int64(d.Atime)),
		DetachTime: unixTime(int64(d.Dtime)),
		ChangeTime: unixTime(int64(d.Ctime)),
	}
}

// limitSource names where a limit is read, for error messages.
func limitSource(name string) string { return "/proc/sys/kernel/" + name }

func systemLimits() (Limits, error) {
	return readLimits(func(name string) (uint64, error) {
		path := limitSource(name)
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, &fs.PathError{Op: "limits", Path: path, Err: err}
		}
		return v, nil
	})
}

const procList = "/proc/sysvipc/shm"

func listSegments() ([]Info, error) {
	b, err := os.ReadFile(procList)
	if err != nil {
		return nil, err
	}
	return parseProcList(b)
}

// parseProcList parses /proc/sysvipc/shm, as ipc/shm.c writes it: a
// header line, then one line per segment with the columns key shmid
// perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime, and
// since Linux 4.1 rss swap. The key is signed decimal, perms octal.
func parseProcList(b []byte) ([]Info, error) {
	var l []Info
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || (line == 1 && f[0] == "key") {
			continue
		}
		info, err := parseProcLine(f)
		if err != nil {
			return nil, &fs.PathError{Op: "list", Path: procList, Err: fmt.Errorf("line %d: %w", line, err)}
		}
		l = append(l, info)
	}
	return l, nil
}

func parseProcLine(f []string) (Info, error) {
	if len(f) < 14 {
		return Info{}, fmt.Errorf("%d columns, want at least 14", len(f))
	}
	var v [14]int64
	for i := range v {
		var err error
		switch i {
		case 2: // perms
			var u uint64
			u, err = strconv.ParseUint(f[i], 8, 32)
			v[i] = int64(u)
		case 3: // size
			var u uint64
			u, err = strconv.ParseUint(f[i], 10, 63)
			v[i] = int64(u)
		case 0: // key
			v[i], err = strconv.ParseInt(f[i], 10, 32)
		default:
			v[i], err = strconv.ParseInt(f[i], 10, 64)
			if err == nil && v[i] < 0 {
				err = fmt.Errorf("negative %s", f[i])
			}
		}
		if err != nil {
			return Info{}, fmt.Errorf("column %d: %w", i+1, err)
		}
	}
	return Info{
		Key:        Key(v[0]),
		ID:         int(v[1]),
		Mode:       fs.FileMode(v[2]) & fs.ModePerm,
		Removed:    v[2]&shmDest != 0,
		Size:       v[3],
		CreatorPID: int(v[4]),
		LastPID:    int(v[5]),
		Attaches:   int(v[6]),
		UID:        int(v[7]),
		GID:        int(v[8]),
		CreatorUID: int(v[9]),
		CreatorGID: int(v[10]),
		AttachTime: unixTime(v[11]),
		DetachTime: unixTime(v[12]),
		ChangeTime: unixTime(v[13]),
	}, nil
}
