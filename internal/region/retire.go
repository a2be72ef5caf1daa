package region

import (
	"os"

	"github.com/mmapkit/mmapkit/internal/sys"
)

// Retired is the memory that a Region dropped and retired ([sys.Retire])
// but has not yet handed to the io core, which unmaps it once no call
// holds it ([ioadapt.Retirer]); after Stop, dropped memory is unmapped at
// once instead. Its methods run with the io core's exclusive lock held.
type Retired struct {
	gone   [][]byte
	unmaps bool
	unheld bool // no call holds the memory until the next Take
}

// Drop retires b, memory the Region no longer uses, or unmaps it after
// Stop. The error names the system call.
func (r *Retired) Drop(b []byte) error {
	if r.unmaps || r.unheld {
		return os.NewSyscallError("munmap", sys.Unmap(b))
	}
	if err := sys.Retire(b); err != nil {
		return os.NewSyscallError("mmap", err)
	}
	r.gone = append(r.gone, b)
	return nil
}

// Take returns the memory retired since the last Take and forgets it:
// the Retired method of [ioadapt.Retirer].
func (r *Retired) Take() [][]byte {
	gone := r.gone
	r.gone, r.unheld = nil, false
	return gone
}

// Unheld makes Drop and Keep unmap until the next Take: the Unheld method
// of an [ioadapt.Unheld] Region, for a Close whose memory no call holds.
func (r *Retired) Unheld() { r.unheld = true }

// Keep hands b to the io core as it is, still mapped, for it to unmap
// once no call holds it: the Drop of a [ioadapt.FaultFree] Region, whose
// calls copy without a fault guard and so must never meet a reservation.
// After Stop it unmaps b at once, as Drop does.
func (r *Retired) Keep(b []byte) error {
	if r.unmaps || r.unheld {
		return os.NewSyscallError("munmap", sys.Unmap(b))
	}
	sys.Pend(b)
	r.gone = append(r.gone, b)
	return nil
}

// Stop makes Drop unmap from now on: the StopRetiring method of
// [ioadapt.Retirer].
func (r *Retired) Stop() { r.unmaps = true }

// Stopped reports whether Stop was called: memory may then move.
func (r *Retired) Stopped() bool { return r.unmaps }
