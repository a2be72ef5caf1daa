//go:build linux

package shm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
)

// BenchmarkCreate measures a whole segment life: create (with its pages
// reserved), map, unmap, unlink.
func BenchmarkCreate(b *testing.B) {
	testkit.BenchLifecycle(b, func(b *testing.B) func(int64) error {
		name := segName(b)
		return func(size int64) error {
			s, err := Create(name, size)
			if err != nil {
				return err
			}
			if err := s.Close(); err != nil {
				return err
			}
			return Unlink(name)
		}
	})
}

// BenchmarkReadAt64 reads 64 bytes from a segment, beside the same read
// with pread(2) from a file in /dev/shm as the baseline.
func BenchmarkReadAt64(b *testing.B) {
	const size = 1 << 20
	b.Run("segment", func(b *testing.B) {
		s, _ := create(b, size)
		testkit.BenchReadAt64(b, s, size)
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
		testkit.BenchReadAt64(b, f, size)
	})
}
