//go:build !unix

package mmfile

import "os"

// pwrite writes p at off of f. With directWrites off, nothing here calls
// it; os.File.WriteAt would drop the count of a write cut short.
func pwrite(f *os.File, p []byte, off int64) (int, error) { return f.WriteAt(p, off) }
