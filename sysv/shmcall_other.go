//go:build !linux && !(darwin && !ios)

package sysv

import (
	"io/fs"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// golang.org/x/sys/unix offers System V shared memory on Linux and macOS
// only. Here every call of the seam returns the one error below, which
// the entry points return in an *fs.PathError naming the call; shmAttach,
// shmDetach and shmRemove follow a shmGet or shmStat that succeeded, and
// so are never reached.

var errNoSysv = errs.Unsupported("System V shared memory")

func shmGet(Key, int64, bool, bool, fs.FileMode) (int, error) { return 0, errNoSysv }
func shmAttach(int, bool) ([]byte, error)                     { return nil, errNoSysv }
func shmDetach([]byte) error                                  { return errNoSysv }
func shmStat(int) (Info, error)                               { return Info{}, errNoSysv }
func shmRemove(int) error                                     { return errNoSysv }
func systemLimits() (Limits, error)                           { return Limits{}, errNoSysv }
func listSegments() ([]Info, error)                           { return nil, errNoSysv }
func limitSource(name string) string                          { return name }
