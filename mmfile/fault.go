package mmfile

import (
	"fmt"
	"syscall"
)

// ExplainFault implements [ioadapt.FaultExplainer]: it tells why touching
// the mapping at off faulted, from the file as it is now. Past the file's
// end, the file was truncated under the mapping (SIGBUS on the pages past
// it). Within the file, the file system could not supply the page: on a
// full file system a store into a hole of a sparse file has no block to
// go to (tmpfs cannot even allocate a page to read one), else the storage
// failed.
func (m *mapping) ExplainFault(off int64) error {
	fi, err := m.f.Stat()
	if err != nil {
		return nil
	}
	at := m.fileOff + int64(m.delta) + off
	if size := fi.Size(); at >= size {
		return fmt.Errorf("the file shrank to %d bytes under the mapping, below file offset %d", size, at)
	}
	if free, total, ok := freeSpace(m.f); ok && free < granularity() {
		return &noSpaceError{free: free, total: total}
	}
	return fmt.Errorf("the storage could not supply the page at file offset %d (an I/O error, or a quota)", at)
}

// noSpaceError is the cause of a fault on a full file system. It matches
// ENOSPC, the errno that a write(2) of the same page would have returned.
type noSpaceError struct{ free, total int64 }

func (e *noSpaceError) Error() string {
	return fmt.Sprintf("no space left on the file system for the page (%d bytes free of %d)", e.free, e.total)
}

func (e *noSpaceError) Is(target error) bool { return target == syscall.ENOSPC }
