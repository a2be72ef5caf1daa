//go:build !linux

package main

import (
	"errors"
	"fmt"
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

// haveCopyFileRange is false: copyFileRange is for Linux.
const haveCopyFileRange = false

// copyFileRange reports that copy_file_range(2) is not used here.
func copyFileRange(*os.File, *int64, *os.File, int64, int64) (int64, error) {
	return 0, fmt.Errorf("copy_file_range on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// spliceSafe is false: only Linux has splice(2) and sealed memfds.
func spliceSafe(*os.File) bool { return false }

// spliceToPipe reports that splice(2) is not used here.
func spliceToPipe(_, _ *os.File, _, _ int64) (int64, error) {
	return 0, fmt.Errorf("splice on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
