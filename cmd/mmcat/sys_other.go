//go:build !linux

package main

import (
	"os"
	"runtime"

	"github.com/mmapkit/mmapkit/mmfile"
)

// growPipe reports 0: pipe capacities can only be changed on Linux.
func growPipe(*os.File) int { return 0 }

// mapOptions are the mmfile options for a source about to be read whole:
// sequential advice (madvise) where mmfile serves it, on every Unix; there
// is no MAP_POPULATE off Linux, and Windows takes no advice.
func mapOptions(bool) []mmfile.Option {
	if runtime.GOOS == "windows" {
		return nil
	}
	return []mmfile.Option{mmfile.WithAdvice(mmfile.Sequential)}
}
