package sysv

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// BenchmarkLifecycle measures a whole segment life: create (shmget),
// attach, detach, remove. Pages are never touched, so the size costs
// little: System V memory is allocated on first touch.
func BenchmarkLifecycle(b *testing.B) {
	testkit.BenchLifecycle(b, func(b *testing.B) func(int64) error {
		key := newKey(b)
		return func(size int64) error {
			s, err := Create(key, size)
			if err != nil {
				return err
			}
			track(s.ID())
			return errors.Join(s.Close(), s.Remove())
		}
	})
}

// BenchmarkReadAt64 reads 64 bytes from a segment, beside the same read
// from a bytes.Reader over a heap slice as the baseline, and from an
// ioadapt.Anonymous mapping, which goes through the same ioadapt.IO but
// claims FaultFree: the gap between the two is the cost of the fault
// guard this package keeps (see region).
func BenchmarkReadAt64(b *testing.B) {
	const size = 1 << 20
	b.Run("segment", func(b *testing.B) {
		testkit.BenchReadAt64(b, mustCreate(b, size), size)
	})
	b.Run("ioadapt.Anonymous", func(b *testing.B) {
		a, err := ioadapt.NewAnonymous(size)
		if err != nil {
			b.Fatal(err)
		}
		r := ioadapt.New(a)
		defer r.Close()
		testkit.BenchReadAt64(b, r, size)
	})
	b.Run("bytes.Reader", func(b *testing.B) {
		testkit.BenchReadAt64(b, bytes.NewReader(make([]byte, size)), size)
	})
}
