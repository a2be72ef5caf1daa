//go:build !unix && !windows

package mmfile

import (
	"os"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// This platform has no memory mapping that this package can reach: every
// open fails at mapFile with an error wrapping errors.ErrUnsupported, and the
// rest of the seam is never reached.

const (
	mapPastEOF     = false
	syncNeedsFsync = true
	openFlags      = 0
	populateFlag   = 0
	directWrites   = false
)

var errNoMapping = errs.Unsupported("memory mapping")

func granularity() int64 { return int64(os.Getpagesize()) }

func mapFile(*os.File, int64, int, bool, bool, bool) ([]byte, error) { return nil, errNoMapping }
func remap([]byte, int, bool) ([]byte, error)                        { return nil, errNoMapping }
func unmap([]byte) error                                             { return errNoMapping }
func flush([]byte) error                                             { return errNoMapping }
func flushAsync(*os.File, []byte, int64, int64) error                { return errNoMapping }
func advise([]byte, Advice) error                                    { return errNoMapping }
func lockMem([]byte) error                                           { return errNoMapping }
func unlockMem([]byte) error                                         { return errNoMapping }
func (*mapping) drop([]byte) error                                   { return errNoMapping }
