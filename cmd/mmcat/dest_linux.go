package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/sysv"
)

// segmentsGrow says that a POSIX segment can be written past its size:
// on Linux it is a file in a tmpfs.
const segmentsGrow = true

// spoolInMemory says that spoolFile's file lives in memory, so that a
// spooled output counts twice against the memory room.
const spoolInMemory = true

// spoolFile returns an unnamed file for a spool: a memfd, whose pages are
// charged to the process like the segment they are copied into, and which
// nothing outlives.
func spoolFile() (*os.File, string, error) {
	fd, err := unix.MemfdCreate("mmcat-spool", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, "", os.NewSyscallError("memfd_create", err)
	}
	return os.NewFile(uintptr(fd), "spool"), "", nil
}

// segmentRoom returns the most bytes a new segment of the kind may hold,
// and where that figure comes from; -1 if nothing is known.
func segmentRoom(kind destKind) (int64, string) {
	room, why := memoryRoom()
	if kind == destSysv {
		if l, err := sysv.SystemLimits(); err == nil && l.MaxSize < math.MaxInt64 && (room < 0 || int64(l.MaxSize) < room) {
			room, why = int64(l.MaxSize), "the largest System V segment the kernel allows (kernel.shmmax)"
		}
	}
	return room, why
}

// memoryReserve is the least memory that a segment leaves to everything
// else: mmcat itself, the page tables and the kernel's own allocations.
const memoryReserve = 16 << 20

// memoryRoom returns how many bytes of shared memory the process may
// still fill, and where the figure comes from: what the system has
// available (MemAvailable and free swap), or what its memory cgroup or an
// ancestor allows, whichever is less, minus a reserve of an eighth of it
// (at least memoryReserve). Shared memory cannot be reclaimed without
// swap: past this, the kernel's OOM killer would end mmcat (or another
// process) instead of an error saying why.
func memoryRoom() (int64, string) {
	room, why := int64(-1), ""
	if mi, err := readKeyValues("/proc/meminfo"); err == nil {
		if avail, ok := mi["MemAvailable"]; ok {
			room = (avail + mi["SwapFree"]) << 10
			why = "the memory available (MemAvailable and SwapFree in /proc/meminfo)"
		}
	}
	for _, cg := range memoryCgroups() {
		limit, used, reclaimable, ok := cg.usage()
		if !ok {
			continue
		}
		if r := max(limit-used+reclaimable, 0); room < 0 || r < room {
			room = r
			why = fmt.Sprintf("the memory left in the cgroup %s (limit %d bytes, %d in use, %d of it reclaimable page cache)", cg.dir, limit, used, reclaimable)
		}
	}
	if room < 0 {
		return -1, ""
	}
	reserve := max(room/8, memoryReserve)
	return max(room-reserve, 0), fmt.Sprintf("%s less %d bytes kept for the rest of the system", why, reserve)
}

// memCgroup is a memory cgroup directory, of cgroup v2 or of v1's memory
// controller.
type memCgroup struct {
	dir string
	v2  bool
}

// usage returns the cgroup's limit, its usage and the part of that usage
// that is page cache the kernel can reclaim; ok is false when the cgroup
// has no limit or cannot be read.
func (c memCgroup) usage() (limit, used, reclaimable int64, ok bool) {
	limitFile, usedFile, active, inactive := "memory.max", "memory.current", "active_file", "inactive_file"
	if !c.v2 {
		limitFile, usedFile, active, inactive = "memory.limit_in_bytes", "memory.usage_in_bytes", "total_active_file", "total_inactive_file"
	}
	limit, err := readInt(filepath.Join(c.dir, limitFile))
	// v1 writes "no limit" as the largest page-aligned int64; v2 as "max".
	if err != nil || limit >= math.MaxInt64/2 {
		return 0, 0, 0, false
	}
	used, err = readInt(filepath.Join(c.dir, usedFile))
	if err != nil {
		return 0, 0, 0, false
	}
	if st, err := readKeyValues(filepath.Join(c.dir, "memory.stat")); err == nil {
		reclaimable = st[active] + st[inactive]
	}
	return limit, used, reclaimable, true
}

// memoryCgroups returns the memory cgroup of this process and its
// ancestors, found through /proc/self/cgroup and /proc/self/mountinfo.
func memoryCgroups() []memCgroup {
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	mounts := cgroupMounts()
	var out []memCgroup
	for _, line := range strings.Split(strings.TrimSpace(string(own)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		v2 := f[0] == "0" && f[1] == ""
		if !v2 && !slices.Contains(strings.Split(f[1], ","), "memory") {
			continue
		}
		for _, m := range mounts {
			if m.v2 != v2 {
				continue
			}
			rel, ok := strings.CutPrefix(f[2], m.root)
			if !ok {
				continue
			}
			for d := filepath.Join(m.point, rel); strings.HasPrefix(d, m.point); d = filepath.Dir(d) {
				out = append(out, memCgroup{dir: d, v2: v2})
				if d == m.point {
					break
				}
			}
			break
		}
	}
	return out
}

// cgroupMount is a mounted cgroup v2 hierarchy or v1 memory controller.
type cgroupMount struct {
	root, point string
	v2          bool
}

func cgroupMounts() []cgroupMount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []cgroupMount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 98:0 /root /mount/point rw,noatime - cgroup cgroup rw,memory
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if sep < 5 || sep+3 >= len(fields) {
			continue
		}
		m := cgroupMount{root: fields[3], point: fields[4]}
		switch fields[sep+1] {
		case "cgroup2":
			m.v2 = true
		case "cgroup":
			if !slices.Contains(strings.Split(fields[sep+3], ","), "memory") {
				continue
			}
		default:
			continue
		}
		out = append(out, m)
	}
	return out
}

// readInt reads a file holding one decimal number.
func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// readKeyValues reads lines of "key value" or "key: value kB", as
// /proc/meminfo and memory.stat have them.
func readKeyValues(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	kv := make(map[string]int64)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if n, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			kv[strings.TrimSuffix(f[0], ":")] = n
		}
	}
	return kv, nil
}
