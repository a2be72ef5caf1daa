//go:build !linux

package main

import (
	"os"

	"github.com/mmapkit/mmapkit/mmfile"
)

// growPipe reports 0: pipe capacities can only be changed on Linux.
func growPipe(*os.File) int { return 0 }

// mapOptions adds nothing: MAP_POPULATE and madvise are Linux's.
func mapOptions(bool) []mmfile.Option { return nil }

// pendingOptions adds nothing.
func pendingOptions() []mmfile.Option { return nil }
