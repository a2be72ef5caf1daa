//go:build !unix && !windows

package mmfile

import "os"

// This platform has no memory mapping that this package can reach: every
// open returns an error wrapping ErrUnsupported.

const (
	mapPastEOF     = false
	syncNeedsFsync = true
	openFlags      = 0
	populateFlag   = 0
)

func granularity() int64 { return int64(os.Getpagesize()) }

func mapFile(*os.File, int64, int, bool, bool, bool) ([]byte, error) { return nil, ErrUnsupported }
func remap(*os.File, []byte, int, bool) ([]byte, error)              { return nil, ErrUnsupported }
func unmap([]byte) error                                             { return ErrUnsupported }
func flush([]byte) error                                             { return ErrUnsupported }
func flushAsync(*os.File, []byte, int64, int64) error                { return ErrUnsupported }
func reserve(*os.File, int64, int64) error                           { return nil }
func advise([]byte, Advice) error                                    { return ErrUnsupported }
func lockMem([]byte) error                                           { return ErrUnsupported }
func unlockMem([]byte) error                                         { return ErrUnsupported }

func dupFile(*os.File) (*os.File, error) { return nil, ErrUnsupported }

const directWrites = false

var errSplitMapping = ErrUnsupported

func appendMode(*os.File) (bool, error) { return false, nil }

// pwrite writes p at off of f. With directWrites off, nothing here calls
// it; os.File.WriteAt would drop the count of a write cut short.
func pwrite(f *os.File, p []byte, off int64) (int, error) { return f.WriteAt(p, off) }
