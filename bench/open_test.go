package bench

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"

	mmapgo "github.com/edsrzf/mmap-go"
	"github.com/mmapkit/mmapkit/mmfile"
	expmmap "golang.org/x/exp/mmap"
)

// smallFiles are how many files of each size the open benchmarks cycle
// through, as a tool walking a tree would.
const smallFiles = 64

// smallSet makes smallFiles files of size bytes, page-cached, once.
func smallSet(tb testing.TB, size int64) []string {
	tb.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	d := filepath.Join(dir, "small-"+sizeName(size))
	check(tb, os.MkdirAll(d, 0o755))
	paths := make([]string, smallFiles)
	buf := make([]byte, size)
	for i := range paths {
		paths[i] = filepath.Join(d, fmt.Sprint(i))
		if fi, err := os.Stat(paths[i]); err == nil && fi.Size() == size {
			continue
		}
		fill(buf, int64(i)*size)
		check(tb, os.WriteFile(paths[i], buf, 0o644))
	}
	return paths
}

// BenchmarkOpenClose opens a small page-cached file and closes it without
// reading: for the mapping contenders, open+fstat+mmap+munmap+close, the
// cost a tool pays per file before the first byte.
func BenchmarkOpenClose(b *testing.B) {
	openers := []struct {
		name string
		op   func(path string) error
	}{
		{osFile, func(path string) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			if _, err := f.Stat(); err != nil {
				return err
			}
			return f.Close()
		}},
		{mmFile, func(path string) error {
			f, err := mmfile.Open(path)
			if err != nil {
				return err
			}
			return f.Close()
		}},
		{expMmap, func(path string) error {
			r, err := expmmap.Open(path)
			if err != nil {
				return err
			}
			return r.Close()
		}},
		{mmapGo, func(path string) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			m, err := mmapgo.Map(f, mmapgo.RDONLY, 0)
			if err != nil {
				return err
			}
			if err := m.Unmap(); err != nil {
				return err
			}
			return f.Close()
		}},
	}
	for _, size := range []int64{4 * kib, mib} {
		paths := smallSet(b, size)
		for _, o := range openers {
			b.Run(fmt.Sprintf("size=%s/impl=%s", sizeName(size), o.name), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := o.op(paths[i%smallFiles]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkOpenRead opens a small page-cached file, computes the CRC-32 of
// its contents and closes it: what a tool that reads many small files pays
// per file. os.File reads into a buffer reused across files; os.ReadFile
// allocates one per file.
func BenchmarkOpenRead(b *testing.B) {
	tab := crc32.IEEETable
	for _, size := range []int64{4 * kib, mib} {
		paths := smallSet(b, size)
		buf := make([]byte, size)
		h := crc32.NewIEEE()
		readers := []struct {
			name string
			op   func(path string) (uint32, error)
		}{
			{osFile, func(path string) (uint32, error) {
				f, err := os.Open(path)
				if err != nil {
					return 0, err
				}
				defer f.Close()
				n, err := io.ReadFull(f, buf)
				if err != nil {
					return 0, err
				}
				return crc32.Update(0, tab, buf[:n]), nil
			}},
			{osReadFile, func(path string) (uint32, error) {
				b, err := os.ReadFile(path)
				return crc32.Update(0, tab, b), err
			}},
			{mmFile, func(path string) (uint32, error) {
				f, err := mmfile.Open(path)
				if err != nil {
					return 0, err
				}
				h.Reset()
				_, err = f.WriteTo(h)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				return h.Sum32(), err
			}},
			{expMmap, func(path string) (uint32, error) {
				r, err := expmmap.Open(path)
				if err != nil {
					return 0, err
				}
				n, err := r.ReadAt(buf, 0)
				if cerr := r.Close(); err == nil {
					err = cerr
				}
				return crc32.Update(0, tab, buf[:n]), err
			}},
			{mmapGo, func(path string) (uint32, error) {
				f, err := os.Open(path)
				if err != nil {
					return 0, err
				}
				defer f.Close()
				m, err := mmapgo.Map(f, mmapgo.RDONLY, 0)
				if err != nil {
					return 0, err
				}
				sum := crc32.Update(0, tab, m)
				return sum, m.Unmap()
			}},
		}
		for _, rd := range readers {
			b.Run(fmt.Sprintf("size=%s/impl=%s", sizeName(size), rd.name), func(b *testing.B) {
				b.SetBytes(size)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := rd.op(paths[i%smallFiles]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
