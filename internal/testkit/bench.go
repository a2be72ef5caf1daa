package testkit

import (
	"io"
	"testing"
)

// BenchLifecycle runs a sub-benchmark per size, 4 KiB and 64 MiB, of a
// segment's whole life: newLife, called once in each sub-benchmark (to
// pick a name or key), returns the life, which every loop runs; its error
// fails b. The bytes per operation are the segment's size.
func BenchLifecycle(b *testing.B, newLife func(b *testing.B) func(size int64) error) {
	for _, bc := range []struct {
		name string
		size int64
	}{{"4KiB", 4 << 10}, {"64MiB", 64 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			life := newLife(b)
			b.SetBytes(bc.size)
			b.ReportAllocs()
			for b.Loop() {
				if err := life(bc.size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchReadAt64 reads 64 bytes at a time from r, which holds size bytes,
// a page further each time: the benchmarks of ReadAt64 run it on a
// segment and on their baselines alike.
func BenchReadAt64(b *testing.B, r io.ReaderAt, size int64) {
	buf := make([]byte, 64)
	b.SetBytes(64)
	b.ReportAllocs()
	off := int64(0)
	for b.Loop() {
		if _, err := r.ReadAt(buf, off); err != nil {
			b.Fatal(err)
		}
		off = (off + 4096) % (size - 64)
	}
}
