//go:build !unix

package mmfile

import "os"

// pwrite writes p at off of f. With directWrites off, nothing here calls
// it; os.File.WriteAt would drop the count of a write cut short. On
// Windows whether a handle appends is fixed when it is opened: no caller
// can change it after Map.
func pwrite(f *os.File, p []byte, off int64, _ bool) (int, error) { return f.WriteAt(p, off) }
