package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30

	// bigSize is the size of the large fixtures.
	bigSize = 1 * gib

	// childEnv switches the test binary into a child that reads its
	// standard input to the end and discards it: the far end of the pipe
	// in the Copy benchmarks.
	childEnv = "MMAPKIT_BENCH_CHILD"
	// dirEnv names a directory that keeps the fixtures between runs of the
	// test binary, so that scripts/bench.sh makes them once.
	dirEnv = "MMAPKIT_BENCH_DIR"
)

// dir holds the fixtures.
var dir string

func TestMain(m *testing.M) {
	runIPCChild()
	if os.Getenv(childEnv) == "discard" {
		os.Exit(discardStdin())
	}
	dir = os.Getenv(dirEnv)
	temp := dir == ""
	if temp {
		d, err := os.MkdirTemp("", "mmapkit-bench-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	releaseShared()
	if temp {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// discardStdin reads standard input to the end with a 1 MiB buffer, as a
// consumer at the far end of a pipe would.
func discardStdin() int {
	buf := make([]byte, mib)
	for {
		_, err := os.Stdin.Read(buf)
		if err == io.EOF {
			return 0
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

// fill writes the deterministic contents of [off, off+len(p)) of every
// fixture into p: pseudo-random bytes, with each 4 KiB block starting with
// its index so that no two pages are equal.
func fill(p []byte, off int64) {
	r := rand.New(rand.NewPCG(uint64(off), 0x6d6d61706b6974))
	for i := 0; i+8 <= len(p); i += 8 {
		*(*uint64)(unsafe.Pointer(&p[i])) = r.Uint64()
	}
	for i := 0; i < len(p); i += 4 * kib {
		blk := uint64(off+int64(i)) / (4 * kib)
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(blk >> (8 * j))
		}
	}
}

// writeFixture writes a file of size bytes in pieces of chunk bytes,
// fsyncs it and renames it into place, so that a fixture is either whole
// or absent.
func writeFixture(path string, size int64, chunk int) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	buf := make([]byte, mib)
	for off := int64(0); off < size; off += mib {
		n := min(int64(mib), size-off)
		fill(buf[:n], off)
		for i := 0; i < int(n); i += chunk {
			if _, err := f.Write(buf[i:min(i+chunk, int(n))]); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// resident reports how much of the file is in the page cache (mincore).
func resident(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, err
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	// x/sys/unix has no Mincore wrapper for Linux.
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, os.NewSyscallError("mincore", errno)
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec)), nil
}

// dropCache evicts the file's clean pages from the page cache. Pages that
// a mapping still holds stay: callers close their mappings first.
func dropCache(f *os.File) error {
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

func dropPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return dropCache(f)
}

// readAll reads the file sequentially with read(2), which brings it into
// the page cache through readahead, in large folios.
func readAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, mib)
	for {
		_, err := f.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Cache states of the 1 GiB fixtures.
const (
	readahead = "readahead" // cached by readahead: large folios
	written   = "written"   // cached by 4 KiB write(2)s: 4 KiB folios
)

var fixtureMu sync.Mutex

// cachedFile returns the path of the 1 GiB fixture in the given cache
// state, making it, or bringing it back to that state, when needed.
func cachedFile(tb testing.TB, state string) string {
	tb.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	path := filepath.Join(dir, state+".1g")
	fi, err := os.Stat(path)
	fresh := err != nil || fi.Size() != bigSize
	if fresh {
		chunk := mib
		if state == written {
			chunk = 4 * kib
		}
		if err := writeFixture(path, bigSize, chunk); err != nil {
			tb.Fatal(err)
		}
	}
	frac, err := resident(path)
	if err != nil {
		tb.Fatal(err)
	}
	if frac < 0.999 || (fresh && state == readahead) {
		switch state {
		case written:
			// Only writing again puts the file back in 4 KiB folios.
			if err := writeFixture(path, bigSize, 4*kib); err != nil {
				tb.Fatal(err)
			}
		case readahead:
			if err := dropPath(path); err != nil {
				tb.Fatal(err)
			}
			if err := readAll(path); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return path
}

// coldFile returns the path of the 1 GiB fixture that the cold benchmarks
// drop from the cache before each operation.
func coldFile(tb testing.TB) string {
	tb.Helper()
	return plainFile(tb, "cold.1g", bigSize)
}

// plainFile returns the path of a fixture of the given size, made once.
func plainFile(tb testing.TB, name string, size int64) string {
	tb.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	path := filepath.Join(dir, name)
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		return path
	}
	if err := writeFixture(path, size, mib); err != nil {
		tb.Fatal(err)
	}
	return path
}

// inMemory returns the contents of the 1 GiB fixture on the Go heap, made
// once per process: the source of the bytes.Reader ceiling.
var inMemory = sync.OnceValue(func() []byte {
	b := make([]byte, bigSize)
	for off := int64(0); off < bigSize; off += mib {
		fill(b[off:off+mib], off)
	}
	return b
})

// offsets returns a table of n pseudo-random offsets, multiples of align,
// at which size bytes fit in a file of fileSize bytes. The table depends
// only on its arguments, so every contender reads the same places.
func offsets(fileSize, size, align int64, n int) []int64 {
	r := rand.New(rand.NewPCG(uint64(size), uint64(fileSize)))
	slots := (fileSize - size) / align
	t := make([]int64, n)
	for i := range t {
		t[i] = r.Int64N(slots+1) * align
	}
	return t
}

// offsetTableSize is a power of two, so an index wraps with a mask.
const offsetTableSize = 1 << 16

// sizeName formats a byte count as the sub-benchmark names use it.
func sizeName(n int64) string {
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%dGiB", n/gib)
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%dMiB", n/mib)
	case n >= kib && n%kib == 0:
		return fmt.Sprintf("%dKiB", n/kib)
	}
	return fmt.Sprintf("%dB", n)
}
