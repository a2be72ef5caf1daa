//go:build !unix

package mmfile

import "os"

// appendMode reports false: without directWrites nothing here writes
// through the descriptor, so its append mode does not matter.
func appendMode(*os.File) (bool, error) { return false, nil }
