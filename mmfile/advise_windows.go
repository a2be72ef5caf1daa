package mmfile

import "github.com/mmapkit/mmapkit/internal/errs"

// advise accepts Normal, which asks for nothing: Windows has no madvise
// for file views (PrefetchVirtualMemory only prefetches).
func advise(_ []byte, a Advice) error {
	if a == Normal {
		return nil
	}
	return errs.Unsupported("madvise")
}
