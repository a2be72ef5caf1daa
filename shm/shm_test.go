//go:build linux || windows

package shm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/mmapkit/mmapkit/internal/apitest"
	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

func TestCreateOpenShareBytes(t *testing.T) {
	s, name := create(t, 4096)
	if got := s.Name(); got != name {
		t.Errorf("Name() = %q, want %q", got, name)
	}
	if got := s.Size(); got != 4096 {
		t.Errorf("Size() = %d, want 4096", got)
	}
	if _, err := s.WriteAt([]byte("hello"), 100); err != nil {
		t.Fatal(err)
	}
	// A leading slash names the same segment.
	peer, err := Open("/"+name, ExpectSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, peer)
	got := make([]byte, 5)
	if _, err := peer.ReadAt(got, 100); err != nil || string(got) != "hello" {
		t.Fatalf("peer read %q, %v; want hello", got, err)
	}
	if _, err := peer.WriteAt([]byte("world"), 200); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAt(got, 200); err != nil || string(got) != "world" {
		t.Fatalf("read back %q, %v; want world", got, err)
	}
	if s.Anonymous() {
		t.Error("named segment reports Anonymous")
	}
	if err := s.Sync(); err != nil {
		t.Errorf("Sync: %v", err)
	}
}

func TestCreateIsZeroFilled(t *testing.T) {
	s, _ := create(t, 3*int64(os.Getpagesize())+5)
	if !bytes.Equal(s.Bytes(), make([]byte, s.Size())) {
		t.Fatal("a new segment is not all zeros")
	}
}

func TestCrossProcessNamed(t *testing.T) {
	s, name := create(t, 4096)
	const msg = "written by another process"
	runChild(t, "write-named", nil, nameEnv+"="+name, dataEnv+"="+msg)
	got := make([]byte, len(msg))
	if _, err := s.ReadAt(got, 0); err != nil || string(got) != msg {
		t.Fatalf("read %q, %v; want %q", got, err, msg)
	}
}

func TestCrossProcessReadOnly(t *testing.T) {
	s, name := create(t, 4096)
	const msg = "the parent's data"
	if _, err := s.WriteAt([]byte(msg), 0); err != nil {
		t.Fatal(err)
	}
	out := runChild(t, "write-readonly", nil, nameEnv+"="+name, dataEnv+"="+msg)
	if !strings.Contains(out, "read-only") {
		t.Errorf("child's write error %q does not say read-only", out)
	}
	got := make([]byte, len(msg))
	if _, err := s.ReadAt(got, 0); err != nil || string(got) != msg {
		t.Fatalf("after the read-only child: read %q, %v; want %q", got, err, msg)
	}
}

func TestReadOnlyInProcess(t *testing.T) {
	_, name := create(t, 64)
	ro, err := Open(name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, ro)
	if ro.Writable() {
		t.Error("read-only segment reports Writable")
	}
	_, err = ro.WriteAt([]byte("x"), 0)
	wantErr(t, err, ioadapt.ErrReadOnly, "read-only")
}

func TestOpenOrCreate(t *testing.T) {
	name := segName(t)
	a, err := OpenOrCreate(name, 8192)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, a)
	if _, err := a.WriteAt([]byte("first"), 0); err != nil {
		t.Fatal(err)
	}
	b, err := OpenOrCreate(name, 8192)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, b)
	got := make([]byte, 5)
	if _, err := b.ReadAt(got, 0); err != nil || string(got) != "first" {
		t.Fatalf("second OpenOrCreate read %q, %v; want the first one's data", got, err)
	}
	_, err = OpenOrCreate(name, 3*8192)
	wantErr(t, err, ioadapt.ErrSizeMismatch, name, "expected 24576")
}

func TestCreateExistingName(t *testing.T) {
	_, name := create(t, 16)
	_, err := Create(name, 16)
	wantErr(t, err, fs.ErrExist, "create "+name)
	_, err = Create("/"+name, 16)
	wantErr(t, err, fs.ErrExist, "create")
}

func TestOpenMissingName(t *testing.T) {
	name := segName(t)
	_, err := Open(name)
	wantErr(t, err, fs.ErrNotExist, "open "+name)
}

func TestUnlink(t *testing.T) {
	s, name := create(t, 16)
	if runtime.GOOS == "windows" {
		wantErr(t, s.Unlink(), errors.ErrUnsupported, "unlink")
		wantErr(t, Unlink(name), errors.ErrUnsupported, "unlink")
		return
	}
	if err := s.Unlink(); err != nil {
		t.Fatal(err)
	}
	// The mapping outlives the name.
	if _, err := s.WriteAt([]byte("still here"), 0); err != nil {
		t.Fatalf("write after unlink: %v", err)
	}
	_, err := Open(name)
	wantErr(t, err, fs.ErrNotExist, "open "+name)
	wantErr(t, Unlink(name), fs.ErrNotExist, "unlink "+name)
	wantErr(t, s.Unlink(), fs.ErrNotExist, "unlink "+name)
}

func TestUnlinkLeavesANewSegmentAlone(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("windows has no unlink")
	}
	old, name := create(t, 16)
	if err := Unlink(name); err != nil {
		t.Fatal(err)
	}
	fresh, err := Create(name, 32)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, fresh)
	wantErr(t, old.Unlink(), fs.ErrNotExist, "another segment", "not unlinked")
	if _, err := Open(name, ExpectSize(32)); err != nil {
		t.Fatalf("the new segment is gone: %v", err)
	}
}

func TestSizeMismatch(t *testing.T) {
	s, name := create(t, 100)
	_, err := Open(name, ExpectSize(200))
	want := "segment is 100 bytes, expected 200"
	if runtime.GOOS == "windows" {
		// Windows knows only the page-rounded size: 200 fits the page the
		// segment has, and is then its size; a page and a byte does not.
		peer, perr := Open(name, ExpectSize(200))
		if perr != nil {
			t.Fatalf("ExpectSize(200) on a 100-byte segment in one page: %v", perr)
		}
		if peer.Size() != 200 {
			t.Errorf("Size() = %d, want the 200 asked for", peer.Size())
		}
		peer.Close()
		page := int64(os.Getpagesize())
		want = fmt.Sprintf("segment is %d bytes (in whole pages), expected %d", page, page+1)
		_, err = Open(name, ExpectSize(page+1))
	}
	wantErr(t, err, ioadapt.ErrSizeMismatch, "open "+name, want)
	if got := s.Size(); got != 100 {
		t.Fatalf("size changed to %d by a mismatched open", got)
	}
	again, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, again)
	if runtime.GOOS != "windows" && again.Size() != 100 {
		t.Fatalf("after a mismatched open the segment is %d bytes, want 100", again.Size())
	}
}

func TestBadSizes(t *testing.T) {
	name := segName(t)
	for _, tc := range []struct {
		size   int64
		target error
		want   string
	}{
		{-1, ioadapt.ErrInvalidSize, "negative size -1"},
		{math.MinInt64, ioadapt.ErrInvalidSize, "negative size"},
		{math.MaxInt64, ioadapt.ErrTooLarge, "larger than the address space"},
		{1 << 50, ioadapt.ErrTooLarge, "larger than the address space"},
	} {
		_, err := Create(name, tc.size)
		wantErr(t, err, tc.target, tc.want)
		_, err = OpenOrCreate(name, tc.size)
		wantErr(t, err, tc.target, tc.want)
	}
	_, err := Open(name, ExpectSize(-5))
	wantErr(t, err, ioadapt.ErrInvalidSize, "negative size -5")
	if runtime.GOOS == "windows" {
		_, err := Create(name, 0)
		wantErr(t, err, ioadapt.ErrInvalidSize, "size 0")
	}
	if _, err := Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused size left a segment behind: Open returned %v", err)
	}
}

func TestInvalidNames(t *testing.T) {
	long := strings.Repeat("n", 300)
	for _, tc := range []struct{ name, want string }{
		{"", "empty name"},
		{"/", `name "/" is empty after the leading slash`},
		{".", `name "." names a directory`},
		{"/..", `name "/.." names a directory`},
		{"a/b", `name "a/b" contains a slash: a name is one file in the shared-memory directory`},
		{"/a/b", `name "/a/b" contains a slash after the leading one: a name is one file`},
		{"//a", `name "//a" contains a slash after the leading one: a name is one file`},
		{"a/", `name "a/" contains a slash: a name`},
		{"../x", `name "../x" contains a slash and a ".." element: a name is one file in the shared-memory directory, it cannot reach outside it`},
		{"../etc/passwd", `name "../etc/passwd" contains a slash and a ".." element`},
		{"a/../../b", `name "a/../../b" contains a slash and a ".." element`},
		{"/../x", `name "/../x" contains a slash after the leading one and a ".." element`},
		{"a/..b", `name "a/..b" contains a slash: a name`},
		{"a\x00b", `name "a\x00b" contains a NUL byte`},
		{long, "name is 300 bytes long, more than 255"},
		{"sem.x", `name "sem.x" starts with "sem.", the prefix of glibc's named semaphores (sem_open) in the same directory`},
		{"/sem.x", `name "/sem.x" starts with "sem."`},
		{"sem.", `name "sem." starts with "sem."`},
	} {
		for _, fn := range []func() error{
			func() error { _, err := Create(tc.name, 16); return err },
			func() error { _, err := Open(tc.name); return err },
			func() error { _, err := OpenOrCreate(tc.name, 16); return err },
			func() error { return Unlink(tc.name) },
		} {
			wantErr(t, fn(), ErrInvalidName, tc.want)
		}
	}
	// 255 bytes is the limit, and allowed; so are names that only look
	// like the refused ones.
	for _, name := range []string{"/" + strings.Repeat("n", 255), "...", "..x", "sem", "/sem", "semx", "xsem.", "SEM.x", "a.sem.b"} {
		if _, err := cleanName("open", name); err != nil {
			t.Errorf("name %q was refused: %v", name, err)
		}
	}
	if runtime.GOOS == "windows" {
		_, err := Create(`a\b`, 16)
		wantErr(t, err, ErrInvalidName, "backslash")
		_, err = Open("a\xffb")
		wantErr(t, err, ErrInvalidName, "not valid UTF-8")
	}
}

func TestCreateUnique(t *testing.T) {
	prefix := testPrefix + "uniq-"
	seen := map[string]bool{}
	for range 3 {
		s, err := CreateUnique(prefix, 64)
		if err != nil {
			t.Fatal(err)
		}
		name := s.Name()
		t.Cleanup(func() { _ = Unlink(name) })
		closeOnCleanup(t, s)
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || len(rest) != 32 || strings.Trim(rest, "0123456789abcdef") != "" {
			t.Errorf("name %q is not the prefix and 32 hex digits", name)
		}
		if seen[name] {
			t.Errorf("name %q made twice", name)
		}
		seen[name] = true
	}
	_, err := CreateUnique("a/", 64)
	wantErr(t, err, ErrInvalidName, "slash")
}

func TestZeroSize(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("windows refuses zero-size mappings")
	}
	s, name := create(t, 0)
	if s.Size() != 0 || len(s.Bytes()) != 0 {
		t.Fatalf("size %d, %d bytes; want 0", s.Size(), len(s.Bytes()))
	}
	if n, err := s.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt = %d, %v; want 0, EOF", n, err)
	}
	peer, err := Open(name, ExpectSize(0))
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, peer)
	_, err = peer.WriteAt([]byte("x"), 0)
	wantErr(t, err, ioadapt.ErrFixedSize, "fixed-size")
}

func TestReaderConformance(t *testing.T) {
	p := os.Getpagesize()
	for _, n := range []int{0, 1, p - 1, p, p + 1, 5*p + 3} {
		if n == 0 && runtime.GOOS == "windows" {
			continue
		}
		data := testkit.Pattern(n)
		s, name := create(t, int64(n))
		if _, err := s.WriteAt(data, 0); err != nil {
			t.Fatal(err)
		}
		peer, err := Open(name, ReadOnly(), ExpectSize(int64(n)))
		if err != nil {
			t.Fatal(err)
		}
		closeOnCleanup(t, peer)
		if err := iotest.TestReader(peer, data); err != nil {
			t.Errorf("size %d: %v", n, err)
		}
	}
}

func TestWriteParallel(t *testing.T) {
	const chunk, parts = 1024, 16
	s, name := create(t, chunk*parts)
	peer, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, peer)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := s
			if i%2 == 1 {
				w = peer
			}
			if _, err := w.WriteAt(bytes.Repeat([]byte{byte(i)}, chunk), int64(i*chunk)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range parts {
		got := make([]byte, chunk)
		if _, err := peer.ReadAt(got, int64(i*chunk)); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{byte(i)}, chunk)) {
			t.Fatalf("chunk %d wrong: %v", i, err)
		}
	}
}

// TestAfterClose calls every method of a closed segment: each that
// returns an error returns one matching fs.ErrClosed, naming the segment,
// before it looks at its arguments.
func TestAfterClose(t *testing.T) {
	s, _ := create(t, 64)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkAfterClose(t, s)
}

// checkAfterClose checks the closed segment s as TestAfterClose says.
func checkAfterClose(t *testing.T, s *Segment) {
	t.Helper()
	for name, res := range apitest.CallEvery(t, s) {
		var pe *fs.PathError
		if res.HasErr && (!errors.Is(res.Err, fs.ErrClosed) || !errors.As(res.Err, &pe) || pe.Path != s.Name()) {
			t.Errorf("%s after Close = %v; want fs.ErrClosed naming %s", name, res.Err, s.Name())
		}
	}
	p := make([]byte, 8)
	for _, err := range []error{
		func() error { _, err := s.ReadAt(p, -1); return err }(),
		func() error { _, err := s.WriteAt(p, -1); return err }(),
		func() error { _, err := s.WriteAt(p, 1<<62); return err }(),
		func() error { _, err := s.Seek(0, 99); return err }(),
		func() error { _, err := s.Section(-1, 1); return err }(),
		func() error { _, err := s.ReadFrom(strings.NewReader("data")); return err }(),
	} {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("call with bad arguments after Close = %v; want fs.ErrClosed first", err)
		}
	}
	if s.Bytes() != nil || s.Size() != 0 {
		t.Error("Bytes or Size not empty after Close")
	}
}

// TestCloseRaces runs the Segment's own methods against Close: each must
// either work or report fs.ErrClosed, never touch a closed descriptor.
func TestCloseRaces(t *testing.T) {
	for range 20 {
		s, _ := create(t, 4096)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					if _, err := s.Stat(); err != nil && !errors.Is(err, fs.ErrClosed) {
						t.Error(err)
					}
					if f, err := s.File(); err == nil {
						f.Close()
					} else if !errors.Is(err, fs.ErrClosed) && !errors.Is(err, errors.ErrUnsupported) {
						t.Error(err)
					}
				}
			}()
		}
		s.Close()
		wg.Wait()
	}
}

func TestStat(t *testing.T) {
	s, name := create(t, 5000)
	info, err := s.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != name || info.Size != 5000 && runtime.GOOS != "windows" {
		t.Errorf("Stat = %+v, want name %q size 5000", info, name)
	}
}

// TestStoreIntoReadOnlySegment stores through Access into a segment
// opened read-only: a fault error saying so, matching ErrReadOnly.
func TestStoreIntoReadOnlySegment(t *testing.T) {
	s, name := create(t, 4096)
	if _, err := s.WriteAt([]byte("kept"), 0); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, ro)
	err = ro.Access(func(b []byte) error { b[0] = 'X'; return nil })
	wantErr(t, err, ioadapt.ErrFault, "store into a read-only mapping")
	wantErr(t, err, ioadapt.ErrReadOnly)
	if got := string(s.Bytes()[:4]); got != "kept" {
		t.Errorf("segment holds %q after the refused store", got)
	}
}
