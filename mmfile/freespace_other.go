//go:build !linux && !darwin && !freebsd

package mmfile

import "os"

// freeSpace cannot tell here: a fault on a full file system is explained
// as one the storage could not serve.
func freeSpace(*os.File) (free, total int64, ok bool) { return 0, 0, false }
