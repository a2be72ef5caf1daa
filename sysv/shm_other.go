//go:build !linux && !(darwin && !ios)

package sysv

import (
	"errors"
	"io/fs"
)

// supported reports whether this platform has System V shared memory:
// golang.org/x/sys/unix offers it on Linux and macOS only.
const supported = false

func shmGet(Key, int64, bool, bool, fs.FileMode) (int, error) { return 0, errors.ErrUnsupported }
func shmAttach(int, bool) ([]byte, error)                     { return nil, errors.ErrUnsupported }
func shmDetach([]byte) error                                  { return errors.ErrUnsupported }
func shmStat(int) (Info, error)                               { return Info{}, errors.ErrUnsupported }
func shmRemove(int) error                                     { return errors.ErrUnsupported }
func systemLimits() (Limits, error)                           { return Limits{}, errors.ErrUnsupported }
func listSegments() ([]Info, error)                           { return nil, errors.ErrUnsupported }
func limitSource(name string) string                          { return name }
