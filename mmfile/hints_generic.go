//go:build unix && !linux

package mmfile

// No MAP_POPULATE or MADV_HUGEPAGE on the other Unix systems: [Populate]
// and [HugePage] return an error wrapping errors.ErrUnsupported.
const (
	populateFlag   = 0
	hugePageAdvice = -1
)
