//go:build !linux

package sysv

import (
	"os"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// detacher holds nothing: Close detaches with shmdt.
type detacher struct{}

// region returns the Region that the io core gets for r: r itself, whose
// calls the io core makes under its lock, as Close detaches with shmdt.
// The BSDs and macOS count an attachment until shmdt, so a reservation
// mapped over it would leave the segment attached.
func (r *segment) region() ioadapt.Region { return r }

// detach ends the attachment b with shmdt.
func (*detacher) detach(b []byte) error { return os.NewSyscallError("shmdt", shmDetach(b)) }
