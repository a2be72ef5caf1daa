package sysv

import (
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
// does: the kernel drops the attachment, and its count, with the last
// mapping of the segment in the process. The io core unmaps the
// reservation once no call holds it.
func (d *detacher) detach(b []byte) error { return d.retired.Drop(b) }
