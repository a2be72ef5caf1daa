//go:build !linux

package main

import (
	"math"
	"os"
	"runtime"

	"github.com/mmapkit/mmapkit/sysv"
)

// segmentsGrow is false: only Linux's segments are files that pwrite can
// extend; elsewhere a segment is made at its final size.
const segmentsGrow = false

// spoolInMemory is false: the spool is a temporary file on disk.
const spoolInMemory = false

// spoolFile returns a temporary file for a spool, already unlinked where
// the system allows that; otherwise its name, to remove after closing.
func spoolFile() (*os.File, string, error) {
	f, err := os.CreateTemp("", "mmcat-spool-")
	if err != nil {
		return nil, "", err
	}
	if runtime.GOOS == "windows" {
		return f, f.Name(), nil
	}
	_ = os.Remove(f.Name())
	return f, "", nil
}

// segmentRoom knows only the System V limit: the memory figures of Linux
// have no portable equivalent.
func segmentRoom(kind destKind) (int64, string) {
	if kind == destSysv {
		if l, err := sysv.SystemLimits(); err == nil && l.MaxSize < math.MaxInt64 {
			return int64(l.MaxSize), "the largest System V segment the system allows"
		}
	}
	return -1, ""
}
