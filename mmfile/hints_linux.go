package mmfile

import "golang.org/x/sys/unix"

// The paging hints that only Linux has: prefaulting the whole mapping at
// open ([Populate]) and transparent huge pages ([HugePage]).
const (
	populateFlag   = unix.MAP_POPULATE
	hugePageAdvice = unix.MADV_HUGEPAGE
)
