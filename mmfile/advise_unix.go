//go:build unix

package mmfile

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// advise gives the kernel the advice a for the pages of b (madvise).
func advise(b []byte, a Advice) error {
	var adv int
	switch a {
	case Normal:
		adv = unix.MADV_NORMAL
	case Sequential:
		adv = unix.MADV_SEQUENTIAL
	case Random:
		adv = unix.MADV_RANDOM
	case WillNeed:
		adv = unix.MADV_WILLNEED
	case DontNeed:
		adv = unix.MADV_DONTNEED
	case HugePage:
		if hugePageAdvice < 0 {
			return errs.Unsupported("MADV_HUGEPAGE")
		}
		adv = hugePageAdvice
	default:
		return errs.Detail(errors.ErrUnsupported, "no such advice")
	}
	if len(b) == 0 {
		return nil
	}
	return unix.Madvise(b, adv)
}
