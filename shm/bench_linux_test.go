//go:build linux

package shm

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCreate measures a whole segment life: create (with its pages
// reserved), map, unmap, unlink.
func BenchmarkCreate(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int64
	}{{"4KiB", 4 << 10}, {"64MiB", 64 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			name := segName(b)
			b.SetBytes(bc.size)
			b.ReportAllocs()
			for b.Loop() {
				s, err := Create(name, bc.size)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				if err := Unlink(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadAt64 reads 64 bytes from a segment, beside the same read
// with pread(2) from a file in /dev/shm as the baseline.
func BenchmarkReadAt64(b *testing.B) {
	const size = 1 << 20
	buf := make([]byte, 64)
	b.Run("segment", func(b *testing.B) {
		s, _ := create(b, size)
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
	b.Run("os.File", func(b *testing.B) {
		name := segName(b)
		p := filepath.Join(systemDir(), name)
		if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(64)
		b.ReportAllocs()
		off := int64(0)
		for b.Loop() {
			if _, err := f.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
			off = (off + 4096) % (size - 64)
		}
	})
}
