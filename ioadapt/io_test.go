package ioadapt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// sizes are the region sizes every reader is checked over.
func sizes() []int {
	p := os.Getpagesize()
	return []int{0, 1, p - 1, p, p + 1, 5*p + 3}
}

// growable is a heap Region that implements Resizer, to test growth in the
// core without a file.
type growable struct{ b []byte }

func (g *growable) Bytes() []byte  { return g.b }
func (g *growable) Size() int64    { return int64(len(g.b)) }
func (g *growable) Writable() bool { return true }
func (g *growable) Name() string   { return "growable" }
func (g *growable) Sync() error    { return nil }
func (g *growable) Close() error   { return nil }
func (g *growable) FaultFree()     {}
func (g *growable) Resize(n int64) error {
	nb := make([]byte, n)
	copy(nb, g.b)
	g.b = nb
	return nil
}

// direct is a growable Region that also takes direct writes, and counts
// them, to check when the core uses them.
type direct struct {
	growable
	calls int
}

func (d *direct) WriteDirect(p []byte, off int64) (int, error) {
	d.calls++
	return copy(d.b[off:], p), nil
}

// readOnly wraps a heap Region and reports it as read-only.
type readOnly struct{ *ioadapt.Memory }

func (readOnly) Writable() bool { return false }

// regionKinds builds each kind of Region the package offers, filled with
// data, wrapped in an IO.
var regionKinds = []struct {
	name string
	make func(t testing.TB, data []byte) *ioadapt.IO
}{
	{"memory", func(t testing.TB, data []byte) *ioadapt.IO {
		return ioadapt.New(ioadapt.NewMemory(bytes.Clone(data)))
	}},
	{"anonymous", func(t testing.TB, data []byte) *ioadapt.IO {
		a, err := ioadapt.NewAnonymous(int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		copy(a.Bytes(), data)
		return ioadapt.New(a)
	}},
	{"section", func(t testing.TB, data []byte) *ioadapt.IO {
		// The data sits in the middle of a larger parent.
		parent := append(append(bytes.Repeat([]byte{'<'}, 13), data...), bytes.Repeat([]byte{'>'}, 17)...)
		sec, err := ioadapt.New(ioadapt.NewMemory(parent)).Section(13, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		return sec
	}},
	{"growable", func(t testing.TB, data []byte) *ioadapt.IO {
		return ioadapt.New(&growable{b: bytes.Clone(data)})
	}},
}

func TestIOTestReader(t *testing.T) {
	for _, kind := range regionKinds {
		for _, n := range sizes() {
			t.Run(fmt.Sprintf("%s/%d", kind.name, n), func(t *testing.T) {
				data := testkit.Pattern(n)
				c := kind.make(t, data)
				defer c.Close()
				if err := iotest.TestReader(c, data); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestIOTestReaderTestdata(t *testing.T) {
	files, err := filepath.Glob("../testdata/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in ../testdata: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range regionKinds {
			t.Run(kind.name+"/"+filepath.Base(f), func(t *testing.T) {
				c := kind.make(t, data)
				defer c.Close()
				if err := iotest.TestReader(c, data); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestReadAtTable follows bytes/reader_test.go's TestReaderAt.
func TestReadAtTable(t *testing.T) {
	c := ioadapt.New(ioadapt.NewMemory([]byte("0123456789")))
	tests := []struct {
		off     int64
		n       int
		want    string
		wantErr error
	}{
		{0, 10, "0123456789", nil},
		{1, 10, "123456789", io.EOF},
		{1, 9, "123456789", nil},
		{11, 10, "", io.EOF},
		{10, 0, "", io.EOF},
		{0, 0, "", nil},
		{math.MaxInt64, 1, "", io.EOF},
		{-1, 0, "", ioadapt.ErrInvalidOffset},
	}
	for i, tt := range tests {
		b := make([]byte, tt.n)
		n, err := c.ReadAt(b, tt.off)
		if got := string(b[:n]); got != tt.want {
			t.Errorf("%d. got %q; want %q", i, got, tt.want)
		}
		if tt.wantErr == io.EOF && err != io.EOF {
			t.Errorf("%d. got error %v; want bare io.EOF", i, err)
		} else if !errors.Is(err, tt.wantErr) {
			t.Errorf("%d. got error %v; want %v", i, err, tt.wantErr)
		}
		if n < tt.n && err == nil {
			t.Errorf("%d. short read %d < %d without error", i, n, tt.n)
		}
	}
	_, err := c.ReadAt(nil, -1)
	if want := "read memory: negative offset -1"; err == nil || err.Error() != want {
		t.Errorf("ReadAt(-1) error %q; want %q", err, want)
	}
}

// TestSeekTable follows bytes/reader_test.go's TestReader.
func TestSeekTable(t *testing.T) {
	c := ioadapt.New(ioadapt.NewMemory([]byte("0123456789")))
	tests := []struct {
		off     int64
		seek    int
		n       int
		want    string
		wantpos int64
		readerr error
		seekerr string
	}{
		{seek: io.SeekStart, off: 0, n: 20, want: "0123456789"},
		{seek: io.SeekStart, off: 1, n: 1, want: "1"},
		{seek: io.SeekCurrent, off: 1, wantpos: 3, n: 2, want: "34"},
		{seek: io.SeekStart, off: -1, seekerr: "seek memory: negative position -1"},
		{seek: io.SeekStart, off: 1 << 33, wantpos: 1 << 33, readerr: io.EOF},
		{seek: io.SeekCurrent, off: 1, wantpos: 1<<33 + 1, readerr: io.EOF},
		{seek: io.SeekStart, n: 5, want: "01234"},
		{seek: io.SeekCurrent, n: 5, want: "56789"},
		{seek: io.SeekEnd, off: -1, n: 1, wantpos: 9, want: "9"},
		{seek: io.SeekEnd, off: 3, wantpos: 13, readerr: io.EOF},
		{seek: io.SeekCurrent, off: math.MaxInt64, seekerr: "seek memory: position 13+9223372036854775807 overflows int64"},
		{seek: 3, seekerr: "seek memory: invalid whence 3"},
	}
	for i, tt := range tests {
		before, _ := c.Seek(0, io.SeekCurrent)
		pos, err := c.Seek(tt.off, tt.seek)
		if err == nil && tt.seekerr != "" {
			t.Errorf("%d. want seek error %q", i, tt.seekerr)
			continue
		}
		if err != nil {
			if err.Error() != tt.seekerr {
				t.Errorf("%d. seek error = %q; want %q", i, err, tt.seekerr)
			}
			if after, _ := c.Seek(0, io.SeekCurrent); after != before {
				t.Errorf("%d. failed seek moved the position from %d to %d", i, before, after)
			}
			continue
		}
		if tt.wantpos != 0 && tt.wantpos != pos {
			t.Errorf("%d. pos = %d, want %d", i, pos, tt.wantpos)
		}
		buf := make([]byte, tt.n)
		n, err := c.Read(buf)
		if err != tt.readerr {
			t.Errorf("%d. read = %v; want %v", i, err, tt.readerr)
			continue
		}
		if got := string(buf[:n]); got != tt.want {
			t.Errorf("%d. got %q; want %q", i, got, tt.want)
		}
	}
}

func TestByteScanner(t *testing.T) {
	c := ioadapt.New(ioadapt.NewMemory([]byte("ab")))
	if err := c.UnreadByte(); err == nil || !errors.Is(err, ioadapt.ErrInvalidOffset) {
		t.Fatalf("UnreadByte at start: %v", err)
	}
	for _, want := range "ab" {
		if b, err := c.ReadByte(); err != nil || b != byte(want) {
			t.Fatalf("ReadByte = %q, %v; want %q", b, err, want)
		}
	}
	if _, err := c.ReadByte(); err != io.EOF {
		t.Fatalf("ReadByte at end: %v, want io.EOF", err)
	}
	if err := c.UnreadByte(); err != nil {
		t.Fatal(err)
	}
	if b, err := c.ReadByte(); err != nil || b != 'b' {
		t.Fatalf("ReadByte after UnreadByte = %q, %v", b, err)
	}
}

// TestWritesAgainstFile checks writes against os.File, the oracle for
// write semantics, on a Region that grows.
func TestWritesAgainstFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "oracle"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := ioadapt.New(&growable{})
	type writer interface {
		io.WriteSeeker
		io.WriterAt
		io.StringWriter
	}
	ops := []struct {
		name string
		do   func(w writer) (int64, error)
	}{
		{"write", func(w writer) (int64, error) { n, err := w.Write([]byte("hello")); return int64(n), err }},
		{"writestring", func(w writer) (int64, error) { n, err := w.WriteString(", world"); return int64(n), err }},
		{"writeat inside", func(w writer) (int64, error) { n, err := w.WriteAt([]byte("J"), 0); return int64(n), err }},
		{"writeat past end", func(w writer) (int64, error) { n, err := w.WriteAt([]byte("tail"), 20); return int64(n), err }},
		{"seek past end", func(w writer) (int64, error) { return w.Seek(30, io.SeekStart) }},
		{"write after gap", func(w writer) (int64, error) { n, err := w.Write([]byte("!")); return int64(n), err }},
		{"seek end", func(w writer) (int64, error) { return w.Seek(-3, io.SeekEnd) }},
		{"overwrite across end", func(w writer) (int64, error) { n, err := w.Write([]byte("XYZW")); return int64(n), err }},
	}
	for _, op := range ops {
		wn, werr := op.do(f)
		gn, gerr := op.do(c)
		if wn != gn || (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: got %d, %v; os.File %d, %v", op.name, gn, gerr, wn, werr)
		}
	}
	want, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("contents %q; os.File has %q", got, want)
	}
}

// TestDirectWrites checks that large writes and growing writes go through
// a DirectWriter, and small ones into the memory.
func TestDirectWrites(t *testing.T) {
	d := &direct{growable: growable{b: make([]byte, 1<<20)}}
	c := ioadapt.New(d)
	big := testkit.Pattern(ioadapt.DirectWriteMin)
	steps := []struct {
		name   string
		p      []byte
		off    int64
		direct bool
	}{
		{"small", []byte("small"), 10, false},
		{"just below", big[:len(big)-1], 100, false},
		{"large", big, 200000, true},
		{"growing", []byte("tail"), 1 << 20, true},
	}
	want := bytes.Clone(d.b)
	for _, st := range steps {
		before := d.calls
		if n, err := c.WriteAt(st.p, st.off); err != nil || n != len(st.p) {
			t.Fatalf("%s: WriteAt = %d, %v", st.name, n, err)
		}
		if got := d.calls > before; got != st.direct {
			t.Errorf("%s: direct write %v; want %v", st.name, got, st.direct)
		}
		if end := st.off + int64(len(st.p)); end > int64(len(want)) {
			want = append(want, make([]byte, end-int64(len(want)))...)
		}
		copy(want[st.off:], st.p)
	}
	if !bytes.Equal(c.Bytes(), want) {
		t.Fatal("contents differ after direct and in-memory writes")
	}
	// A section writes directly at its own offset in the Region.
	sec, err := c.Section(4096, int64(len(big)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sec.WriteAt(big, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Bytes()[4096:4096+len(big)], big) {
		t.Fatal("a section's direct write landed at the wrong offset")
	}
}

func TestFixedSizeWrite(t *testing.T) {
	buf := []byte("0123456789")
	c := ioadapt.New(ioadapt.NewMemory(buf))
	n, err := c.WriteAt([]byte("abcdef"), 7)
	if n != 3 || !errors.Is(err, ioadapt.ErrFixedSize) {
		t.Fatalf("WriteAt past end = %d, %v; want 3, ErrFixedSize", n, err)
	}
	want := "write memory: write of 6 bytes at offset 7 runs past the end of the fixed-size region (size 10)"
	if err.Error() != want {
		t.Errorf("error %q; want %q", err, want)
	}
	if string(buf) != "0123456abc" {
		t.Fatalf("contents %q", buf)
	}
	if n, err := c.WriteAt([]byte("x"), 10); n != 0 || !errors.Is(err, ioadapt.ErrFixedSize) {
		t.Fatalf("WriteAt at end = %d, %v", n, err)
	}
	if _, err := c.WriteAt([]byte("x"), math.MaxInt64); !errors.Is(err, ioadapt.ErrInvalidOffset) {
		t.Fatalf("WriteAt overflowing = %v", err)
	}
	if _, err := c.WriteAt([]byte("x"), -1); !errors.Is(err, ioadapt.ErrInvalidOffset) {
		t.Fatalf("WriteAt negative = %v", err)
	}
	if err := c.Truncate(3); !errors.Is(err, ioadapt.ErrFixedSize) {
		t.Fatalf("Truncate on fixed = %v", err)
	}
	if err := c.Truncate(-1); !errors.Is(err, ioadapt.ErrInvalidSize) {
		t.Fatalf("Truncate(-1) = %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	buf := []byte("abc")
	c := ioadapt.New(readOnly{ioadapt.NewMemory(buf)})
	checks := map[string]error{}
	_, checks["WriteAt"] = c.WriteAt([]byte("x"), 0)
	_, checks["Write"] = c.Write([]byte("x"))
	_, checks["WriteString"] = c.WriteString("x")
	checks["WriteByte"] = c.WriteByte('x')
	_, checks["ReadFrom"] = c.ReadFrom(strings.NewReader("x"))
	checks["Truncate"] = c.Truncate(1)
	for name, err := range checks {
		if !errors.Is(err, ioadapt.ErrReadOnly) {
			t.Errorf("%s on read-only = %v; want ErrReadOnly", name, err)
		}
	}
	if string(buf) != "abc" {
		t.Fatalf("read-only region changed: %q", buf)
	}
}

func TestWriteToReadFrom(t *testing.T) {
	data := testkit.Pattern(100000)
	c := ioadapt.New(ioadapt.NewMemory(bytes.Clone(data)))
	if _, err := c.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var w countingWriter
	n, err := c.WriteTo(&w)
	if err != nil || n != int64(len(data)-10) || w.calls != 1 || !bytes.Equal(w.buf.Bytes(), data[10:]) {
		t.Fatalf("WriteTo = %d, %v in %d calls", n, err, w.calls)
	}
	if n, err := c.WriteTo(&w); n != 0 || err != nil {
		t.Fatalf("WriteTo at end = %d, %v", n, err)
	}

	// ReadFrom into a growing region reads everything and ends exactly at
	// the last byte.
	g := ioadapt.New(&growable{b: []byte("head")})
	if _, err := g.Seek(2, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	n, err = g.ReadFrom(iotest.OneByteReader(bytes.NewReader(data)))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("ReadFrom = %d, %v", n, err)
	}
	if want := append([]byte("he"), data...); !bytes.Equal(g.Bytes(), want) {
		t.Fatalf("ReadFrom contents differ: size %d, want %d", g.Size(), len(want))
	}

	// A fixed region stops when full and says so if the reader has more.
	fixed := ioadapt.New(ioadapt.NewMemory(make([]byte, 10)))
	src := bytes.NewReader(data)
	n, err = fixed.ReadFrom(src)
	if n != 10 || !errors.Is(err, ioadapt.ErrFixedSize) {
		t.Fatalf("ReadFrom overfull = %d, %v", n, err)
	}
	if src.Len() != len(data)-10 {
		t.Fatalf("ReadFrom lost bytes of a seekable reader: %d left, want %d", src.Len(), len(data)-10)
	}
	exact := ioadapt.New(ioadapt.NewMemory(make([]byte, 10)))
	if n, err := exact.ReadFrom(bytes.NewReader(data[:10])); n != 10 || err != nil {
		t.Fatalf("ReadFrom exact fit = %d, %v", n, err)
	}
	// An error from the reader is returned as is.
	boom := errors.New("boom")
	if _, err := g.ReadFrom(iotest.ErrReader(boom)); err != boom {
		t.Fatalf("ReadFrom reader error = %v", err)
	}
	if g.Size() != int64(len(data)+2) {
		t.Fatalf("failed ReadFrom left size %d, want %d", g.Size(), len(data)+2)
	}
}

type countingWriter struct {
	buf   bytes.Buffer
	calls int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.buf.Write(p)
}

func TestSection(t *testing.T) {
	buf := []byte("0123456789")
	root := ioadapt.New(ioadapt.NewMemory(buf))
	sec, err := root.Section(2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(sec); string(got) != "23456" {
		t.Fatalf("section reads %q", got)
	}
	if _, err := sec.WriteAt([]byte("ab"), 4); !errors.Is(err, ioadapt.ErrFixedSize) {
		t.Fatalf("write past section end = %v", err)
	}
	if string(buf) != "012345a789" {
		t.Fatalf("section write outside its range: %q", buf)
	}
	inner, err := sec.Section(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(inner.Bytes()); got != "34" {
		t.Fatalf("nested section %q", got)
	}
	for _, r := range [][2]int64{{-1, 1}, {0, -1}, {6, 0}, {3, 3}, {1, math.MaxInt64}} {
		if _, err := sec.Section(r[0], r[1]); !errors.Is(err, ioadapt.ErrInvalidOffset) {
			t.Errorf("Section(%d, %d) = %v; want ErrInvalidOffset", r[0], r[1], err)
		}
	}
	if err := sec.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := root.ReadAt(make([]byte, 1), 0); err != nil {
		t.Fatalf("closing a section closed its parent: %v", err)
	}
	if err := root.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := inner.ReadAt(make([]byte, 1), 0); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("section of a closed parent: %v", err)
	}
}

func TestSectionFollowsShrink(t *testing.T) {
	g := ioadapt.New(&growable{b: []byte("0123456789")})
	sec, err := g.Section(4, 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Truncate(6); err != nil {
		t.Fatal(err)
	}
	if got := string(sec.Bytes()); got != "45" {
		t.Fatalf("section after parent shrank: %q", got)
	}
	if err := g.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if n, err := sec.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
		t.Fatalf("section past parent end: %d, %v", n, err)
	}
}

// TestAfterClose calls every method after Close: each returns an error
// matching fs.ErrClosed.
func TestAfterClose(t *testing.T) {
	afterClose(t, func(t *testing.T, c *ioadapt.IO) map[string]error {
		p := make([]byte, 10)
		calls := map[string]error{}
		_, calls["ReadAt"] = c.ReadAt(p, 0)
		_, calls["Read"] = c.Read(p)
		_, calls["ReadByte"] = c.ReadByte()
		calls["UnreadByte"] = c.UnreadByte()
		_, calls["WriteAt"] = c.WriteAt(p, 0)
		_, calls["Write"] = c.Write(p)
		_, calls["WriteString"] = c.WriteString("x")
		calls["WriteByte"] = c.WriteByte('x')
		_, calls["WriteTo"] = c.WriteTo(io.Discard)
		_, calls["ReadFrom"] = c.ReadFrom(strings.NewReader("x"))
		_, calls["Seek"] = c.Seek(0, io.SeekStart)
		calls["Truncate"] = c.Truncate(1)
		calls["Truncate(-1)"] = c.Truncate(-1)
		_, calls["ReadAt(-1)"] = c.ReadAt(p, -1)
		_, calls["WriteAt(-1)"] = c.WriteAt(p, -1)
		_, calls["Seek(-1)"] = c.Seek(-1, io.SeekStart)
		_, calls["Section"] = c.Section(0, 1)
		calls["Access"] = c.Access(func([]byte) error { return nil })
		calls["Sync"] = c.Sync()
		calls["Close"] = c.Close()
		if b := c.Bytes(); b != nil {
			t.Errorf("Bytes after Close = %d bytes; want nil", len(b))
		}
		if n := c.Size(); n != 0 {
			t.Errorf("Size after Close = %d; want 0", n)
		}
		return calls
	})
}

// afterClose closes an IO of every kind of Region and checks that every
// error of the calls that calls makes on it matches fs.ErrClosed.
func afterClose(t *testing.T, calls func(t *testing.T, c *ioadapt.IO) map[string]error) {
	for _, kind := range regionKinds {
		t.Run(kind.name, func(t *testing.T) {
			c := kind.make(t, testkit.Pattern(100))
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			for name, err := range calls(t, c) {
				if !errors.Is(err, fs.ErrClosed) {
					t.Errorf("%s after Close = %v; want fs.ErrClosed", name, err)
				}
			}
		})
	}
}

// TestCloseWhileReading closes a Region while 8 goroutines read it in a
// loop: no crash, and every error is fs.ErrClosed.
func TestCloseWhileReading(t *testing.T) {
	for _, kind := range regionKinds {
		t.Run(kind.name, func(t *testing.T) {
			c := kind.make(t, testkit.Pattern(1<<16))
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			started := make(chan struct{}, 8)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Reads stay in the first half and each goroutine writes
					// its own slots in the second, so the only race is Close.
					p := make([]byte, 4096)
					sec, _ := c.Section(0, 1<<15)
					for i := 0; ; i++ {
						if i == 100 {
							started <- struct{}{}
						}
						var err error
						switch (g + i) % 4 {
						case 0:
							_, err = c.ReadAt(p, int64(i%8)*4096)
						case 1:
							_, err = c.WriteAt(p[:64], 1<<15+int64(g*2048+i%32*64))
						case 2:
							if sec == nil {
								continue
							}
							_, err = sec.Seek(0, io.SeekStart)
							if err == nil {
								_, err = sec.WriteTo(io.Discard)
							}
						case 3:
							if sec == nil {
								continue
							}
							_, err = sec.ReadAt(p, 4096)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			for range 8 {
				<-started
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, fs.ErrClosed) {
					t.Errorf("error during close race: %v", err)
				}
			}
		})
	}
}

func TestAccess(t *testing.T) {
	c := ioadapt.New(ioadapt.NewMemory([]byte("abc")))
	boom := errors.New("boom")
	err := c.Access(func(b []byte) error {
		b[0] = 'X'
		return boom
	})
	if err != boom {
		t.Fatalf("Access returned %v; want fn's error", err)
	}
	if got := string(c.Bytes()); got != "Xbc" {
		t.Fatalf("Access did not write through: %q", got)
	}
}

// TestAccessPanicReleases panics inside Access: the panic reaches the
// caller unchanged, and the Region is not left pinned (Close returns).
func TestAccessPanicReleases(t *testing.T) {
	for _, kind := range regionKinds {
		t.Run(kind.name, func(t *testing.T) {
			c := kind.make(t, testkit.Pattern(64))
			func() {
				defer func() {
					if r := recover(); r != "boom" {
						t.Errorf("recovered %v; want the panic of fn", r)
					}
				}()
				_ = c.Access(func([]byte) error { panic("boom") })
			}()
			done := make(chan error)
			go func() { done <- c.Close() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Close blocked: the panic left the Region pinned")
			}
		})
	}
}

// TestReadFromKeepsOtherWrites has WriteAt write into the room that a
// ReadFrom grew ahead of its data: the trim at the end of ReadFrom keeps
// those bytes.
func TestReadFromKeepsOtherWrites(t *testing.T) {
	c := ioadapt.New(&growable{})
	in := make(chan []byte)
	done := make(chan error)
	go func() {
		_, err := c.ReadFrom(chanReader(in))
		done <- err
	}()
	in <- []byte("head") // ReadFrom has grown the Region by now
	if _, err := c.WriteAt([]byte("IMPORTANT"), 30000); err != nil {
		t.Fatal(err)
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := c.Size(); got != 30009 {
		t.Fatalf("size %d after ReadFrom; want 30009, the end of the other write", got)
	}
	if got := string(c.Bytes()[30000:]); got != "IMPORTANT" {
		t.Fatalf("the other write reads %q", got)
	}
}

// chanReader returns each slice sent on it, and io.EOF once it is closed.
type chanReader chan []byte

func (r chanReader) Read(p []byte) (int, error) {
	b, ok := <-r
	if !ok {
		return 0, io.EOF
	}
	return copy(p, b), nil
}

// TestCopyWithinRegion copies between an IO and itself, or one of its
// sections, with growth on the way: no deadlock.
func TestCopyWithinRegion(t *testing.T) {
	c := ioadapt.New(&growable{b: []byte("0123456789")})
	sec, err := c.Section(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := io.Copy(c, sec) // sec.WriteTo(c): c grows while sec reads
		if err == nil {
			_, err = io.Copy(sec, c) // sec.ReadFrom(c)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, ioadapt.ErrFixedSize) {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("copying within one Region deadlocked")
	}
	if got := string(c.Bytes()[:20]); got != "01234567890123456789" {
		t.Fatalf("after the copy: %q", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAnonymousZeroAndBad(t *testing.T) {
	a, err := ioadapt.NewAnonymous(0)
	if err != nil {
		t.Fatal(err)
	}
	c := ioadapt.New(a)
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("empty anonymous read = %d, %v", n, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{-1, math.MinInt64} {
		if _, err := ioadapt.NewAnonymous(size); !errors.Is(err, ioadapt.ErrInvalidSize) {
			t.Errorf("NewAnonymous(%d) = %v", size, err)
		}
	}
}
