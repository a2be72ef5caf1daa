package sysv

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// detacher holds the memory that Close retired until the io core takes
// it.
type detacher struct{ retired region.Retired }

// retiringSegment is the Region of a segment on Linux: an
// [ioadapt.Retirer], so that the io core reads and writes without its lock
// and a call (or an ipc object's fast path) still under way at Close
// meets a reservation, never another mapping that took the addresses.
type retiringSegment struct{ *segment }

func (r retiringSegment) Retired() [][]byte { return r.retired.Take() }
func (r retiringSegment) StopRetiring()     { r.retired.Stop() }

// Unheld makes the next Close unmap rather than retire
// ([ioadapt.Unheld]): no call holds the memory.
func (r retiringSegment) Unheld() { r.retired.Unheld() }

// region returns the Region that the io core gets for r.
func (r *segment) region() ioadapt.Region { return retiringSegment{r} }

// detach ends the attachment b. On Linux a PROT_NONE reservation takes its
// place in one mmap (region.Retired.Drop), which detaches it as shmdt
// does: the kernel drops the attachment, its count and its detach time
// with the segment's last mapping in the process. The io core unmaps the
// reservation once no call holds it.
//
// b spans the segment's size, and the mapping whole pages of it. Where
// those are huge pages (a segment made with SHM_HUGETLB) and the size is
// not a multiple of theirs, the kernel refuses to cut the mapping
// (EINVAL), so the span is tried rounded up to each huge page size,
// smallest first: a span short of the mapping is refused too, and the
// first that is accepted is the mapping's own, never more. Whatever still
// fails, shmdt detaches the attachment, without a reservation, so that
// it never outlives Close; the error is the reservation's.
func (d *detacher) detach(b []byte) error {
	err := d.retired.Drop(b)
	if errors.Is(err, unix.EINVAL) {
		for _, size := range hugePageSizes() {
			if n := (len(b) + size - 1) / size * size; n != len(b) {
				if err = d.retired.Drop(unsafe.Slice(unsafe.SliceData(b), n)); !errors.Is(err, unix.EINVAL) {
					break
				}
			}
		}
	}
	if err != nil && len(b) > 0 {
		if e := unix.SysvShmDetach(b); e != nil {
			err = errors.Join(err, os.NewSyscallError("shmdt", e))
		}
	}
	return err
}

// hugePageSizes returns the huge page sizes of the system, smallest first,
// from the directories of /sys/kernel/mm/hugepages (hugepages-2048kB, ...).
func hugePageSizes() []int {
	ents, _ := os.ReadDir("/sys/kernel/mm/hugepages")
	var sizes []int
	for _, e := range ents {
		kb, ok1 := strings.CutPrefix(e.Name(), "hugepages-")
		kb, ok2 := strings.CutSuffix(kb, "kB")
		if !ok1 || !ok2 {
			continue
		}
		if n, err := strconv.Atoi(kb); err == nil && n > 0 {
			sizes = append(sizes, n<<10)
		}
	}
	slices.Sort(sizes)
	return sizes
}
