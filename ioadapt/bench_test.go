package ioadapt_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// readerAt is what the benchmarks need of both contenders.
type benchReader interface {
	io.ReaderAt
	io.ReadSeeker
	io.WriterTo
}

// contenders are the same bytes behind the core and behind bytes.Reader,
// the baseline with no locking and no fault handling.
func contenders(data []byte) []struct {
	name string
	r    benchReader
} {
	return []struct {
		name string
		r    benchReader
	}{
		{"bytes.Reader", bytes.NewReader(data)},
		{"ioadapt.Memory", ioadapt.New(ioadapt.NewMemory(data))},
	}
}

func BenchmarkReadAt(b *testing.B) {
	data := testkit.Pattern(64 << 20)
	for _, size := range []int{64, 4096} {
		for _, c := range contenders(data) {
			b.Run(fmt.Sprintf("%d/%s", size, c.name), func(b *testing.B) {
				p := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				off, n := int64(0), int64(len(data)-size)
				for b.Loop() {
					// A cheap stride that visits the whole buffer.
					off = (off + 1<<20 + 4099) % n
					if _, err := c.r.ReadAt(p, off); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRead(b *testing.B) {
	data := testkit.Pattern(64 << 20)
	for _, c := range contenders(data) {
		b.Run(c.name, func(b *testing.B) {
			p := make([]byte, 128<<10)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.r.Seek(0, io.SeekStart); err != nil {
					b.Fatal(err)
				}
				for {
					_, err := c.r.Read(p)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkWriteToDiscard(b *testing.B) {
	data := testkit.Pattern(64 << 20)
	for _, c := range contenders(data) {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.r.Seek(0, io.SeekStart); err != nil {
					b.Fatal(err)
				}
				if _, err := c.r.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteAt(b *testing.B) {
	data := testkit.Pattern(64 << 20)
	c := ioadapt.New(ioadapt.NewMemory(data))
	p := make([]byte, 64)
	b.Run("64/ioadapt.Memory", func(b *testing.B) {
		b.SetBytes(64)
		b.ReportAllocs()
		off, n := int64(0), int64(len(data)-64)
		for b.Loop() {
			off = (off + 1<<20 + 4099) % n
			if _, err := c.WriteAt(p, off); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("64/copy", func(b *testing.B) {
		b.SetBytes(64)
		b.ReportAllocs()
		off, n := int64(0), int64(len(data)-64)
		for b.Loop() {
			off = (off + 1<<20 + 4099) % n
			copy(data[off:], p)
		}
	})
}
