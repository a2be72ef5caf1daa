package sysv

import (
	"bytes"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// BenchmarkLifecycle measures a whole segment life: create (shmget),
// attach, detach, remove. Pages are never touched, so the size costs
// little: System V memory is allocated on first touch.
func BenchmarkLifecycle(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int64
	}{{"4KiB", 4 << 10}, {"64MiB", 64 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			key := newKey(b)
			b.SetBytes(bc.size)
			b.ReportAllocs()
			for b.Loop() {
				s, err := Create(key, bc.size)
				if err != nil {
					b.Fatal(err)
				}
				track(s.ID())
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				if err := s.Remove(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadAt64 reads 64 bytes from a segment, beside the same read
// from a bytes.Reader over a heap slice as the baseline, and from an
// ioadapt.Anonymous mapping, which goes through the same ioadapt.IO but
// claims FaultFree: the gap between the two is the cost of the fault
// guard this package keeps (see region).
func BenchmarkReadAt64(b *testing.B) {
	const size = 1 << 20
	buf := make([]byte, 64)
	b.Run("segment", func(b *testing.B) {
		s := mustCreate(b, size)
		b.SetBytes(64)
		b.ReportAllocs()
		off := int64(0)
		for b.Loop() {
			if _, err := s.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
			off = (off + 4096) % (size - 64)
		}
	})
	b.Run("ioadapt.Anonymous", func(b *testing.B) {
		a, err := ioadapt.NewAnonymous(size)
		if err != nil {
			b.Fatal(err)
		}
		r := ioadapt.New(a)
		defer r.Close()
		b.SetBytes(64)
		b.ReportAllocs()
		off := int64(0)
		for b.Loop() {
			if _, err := r.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
			off = (off + 4096) % (size - 64)
		}
	})
	b.Run("bytes.Reader", func(b *testing.B) {
		r := bytes.NewReader(make([]byte, size))
		b.SetBytes(64)
		b.ReportAllocs()
		off := int64(0)
		for b.Loop() {
			if _, err := r.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
			off = (off + 4096) % (size - 64)
		}
	})
}
