package ioadapt_test

// The core against the peers of WriteTo and ReadFrom that the io package
// allows and those it does not: readers and writers that panic, that
// return impossible counts, that hold what they were given; growth that
// follows the data; a Region copied into itself; calls after Close with
// bad arguments.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// finishes runs fn and fails t if it has not returned after a timeout so
// generous that only a hang reaches it; the caller must then leave alone
// whatever fn holds.
func finishes(t *testing.T, what string, fn func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return true
	case <-time.After(60 * time.Second):
		t.Errorf("%s did not return in 60s: it hangs", what)
		return false
	}
}

// recorder is a growable heap Region that records the largest size it
// was ever given, and refuses to grow past limit, so that a copy that ran
// away stops instead of filling the memory.
type recorder struct {
	growable
	largest, limit int64
}

func (r *recorder) Resize(n int64) error {
	if n > r.limit {
		return fmt.Errorf("recorder: size %d past the limit %d", n, r.limit)
	}
	r.largest = max(r.largest, n)
	return r.growable.Resize(n)
}

// steppedReader returns its chunks one per Read, and calls step after
// each, before the next Read.
type steppedReader struct {
	chunks [][]byte
	step   func(read int)
	read   int
}

func (r *steppedReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	if r.read > 0 {
		r.step(r.read)
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	r.read += n
	return n, nil
}

// TestReadFromGrowsWithTheData has ReadFrom grow a Region from a reader
// of small chunks: before each Read, the Region holds exactly the bytes
// read so far, and it was never made larger than the data.
func TestReadFromGrowsWithTheData(t *testing.T) {
	head := []byte("head:")
	r := &recorder{growable: growable{b: bytes.Clone(head)}, limit: 64 << 20}
	c := ioadapt.New(r)
	if _, err := c.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	data := pattern(3000)
	src := &steppedReader{chunks: [][]byte{data[:1000], data[1000:1700], data[1700:]}}
	src.step = func(read int) {
		if got := c.Size(); got != int64(len(head)+read) {
			t.Errorf("after %d bytes read, the Region holds %d; want %d", read, got, len(head)+read)
		}
	}
	n, err := c.ReadFrom(src)
	if n != int64(len(data)) || err != nil {
		t.Fatalf("ReadFrom = %d, %v", n, err)
	}
	if want := append(bytes.Clone(head), data...); !bytes.Equal(c.Bytes(), want) {
		t.Errorf("Region holds %d bytes; want %d", c.Size(), len(want))
	}
	if r.largest > int64(len(head)+len(data)) {
		t.Errorf("the Region was grown to %d bytes for %d of data", r.largest, len(head)+len(data))
	}
}

// panicker panics with boom once it has passed room bytes, as a reader
// or as a writer.
type panicker struct {
	room int
	boom error
}

func (p *panicker) Read(b []byte) (int, error) {
	if p.room == 0 {
		panic(p.boom)
	}
	n := min(len(b), p.room)
	for i := range b[:n] {
		b[i] = 'r'
	}
	p.room -= n
	return n, nil
}

func (p *panicker) Write(b []byte) (int, error) {
	if len(b) > p.room {
		panic(p.boom)
	}
	p.room -= len(b)
	return len(b), nil
}

// TestPeerPanicsCore has the reader of ReadFrom and the writer of WriteTo
// panic, on every kind of Region: the panic reaches the caller unchanged,
// ReadFrom leaves exactly the bytes read, and the Region is not left
// locked (Close returns).
func TestPeerPanicsCore(t *testing.T) {
	for _, kind := range regionKinds {
		t.Run(kind.name, func(t *testing.T) {
			data := pattern(100 << 10)
			c := kind.make(t, data)
			w := &panicker{room: 10 << 10, boom: errors.New("writer exploded")}
			if p := catch(func() { _, _ = io.Copy(w, c) }); p != w.boom {
				t.Errorf("io.Copy into a panicking writer: panic %v; want the writer's own", p)
			}
			if _, err := c.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			r := &panicker{room: 5000, boom: errors.New("reader exploded")}
			if p := catch(func() { _, _ = c.ReadFrom(r) }); p != r.boom {
				t.Errorf("ReadFrom of a panicking reader: panic %v; want the reader's own", p)
			}
			want := append(bytes.Repeat([]byte{'r'}, 5000), data[5000:]...)
			if !bytes.Equal(c.Bytes(), want) {
				t.Errorf("after the panic the Region holds %d bytes, or others than the 5000 read over its start", c.Size())
			}
			finishes(t, "Close after the panics", func() {
				if err := c.Close(); err != nil {
					t.Error(err)
				}
			})
		})
	}
	t.Run("growing", func(t *testing.T) {
		r := &recorder{limit: 64 << 20}
		c := ioadapt.New(r)
		p := &panicker{room: 5000, boom: errors.New("reader exploded")}
		if v := catch(func() { _, _ = c.ReadFrom(p) }); v != p.boom {
			t.Errorf("ReadFrom of a panicking reader: panic %v; want the reader's own", v)
		}
		if c.Size() != 5000 || r.largest > 5000 {
			t.Errorf("after the panic the Region holds %d bytes (it was grown to %d); want the 5000 read", c.Size(), r.largest)
		}
		finishes(t, "Close after the panic", func() { _ = c.Close() })
	})
}

// liar returns the count that lie makes of the length asked, after good
// bytes returned as they are, as a reader or as a writer.
type liar struct {
	good []byte
	lie  func(int) int
}

func (l *liar) Read(p []byte) (int, error) {
	if len(l.good) > 0 {
		n := copy(p, l.good)
		l.good = l.good[n:]
		return n, nil
	}
	return l.lie(len(p)), nil
}

func (l *liar) Write(p []byte) (int, error) { return l.lie(len(p)), nil }

// TestPeerImpossibleCountsCore gives WriteTo a writer and ReadFrom a
// reader that return counts outside [0, len(p)], on every kind of Region:
// an error, never a panic; ReadFrom keeps exactly the good bytes before.
func TestPeerImpossibleCountsCore(t *testing.T) {
	lies := map[string]func(int) int{
		"n > len(p)": func(n int) int { return n + 1 },
		"n < 0":      func(int) int { return -1 },
	}
	for _, kind := range regionKinds {
		for name, lie := range lies {
			t.Run(kind.name+"/"+name, func(t *testing.T) {
				data := pattern(10 << 10)
				c := kind.make(t, data)
				defer c.Close()
				var n int64
				var err error
				if p := catch(func() { n, err = io.Copy(&liar{lie: lie}, c) }); p != nil || err == nil {
					t.Errorf("io.Copy into a writer returning %s = %d, %v, panic %v; want an error", name, n, err, p)
				}
				if _, err := c.Seek(0, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				good := []byte("ten bytes!")
				if p := catch(func() { n, err = c.ReadFrom(&liar{good: good, lie: lie}) }); p != nil || err == nil || n != int64(len(good)) {
					t.Errorf("ReadFrom of a reader returning %s = %d, %v, panic %v; want %d and an error", name, n, err, p, len(good))
				}
				if want := append(bytes.Clone(good), data[len(good):]...); !bytes.Equal(c.Bytes(), want) {
					t.Errorf("after ReadFrom the Region holds %d bytes, or others than the good ones over its start", c.Size())
				}
			})
		}
	}
}

// catch runs fn and returns what it panicked with, or nil.
func catch(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

// TestSelfCopyCore copies a Region into itself through wrappers: each
// completes, with what WriteTo's rule gives (what lies between the
// position and the end as of its call).
func TestSelfCopyCore(t *testing.T) {
	data := pattern(100_003)
	n := int64(len(data))
	for name, copy := range map[string]func(c *ioadapt.IO) (int64, error){
		"io.Copy(OffsetWriter at the end, c)": func(c *ioadapt.IO) (int64, error) {
			return io.Copy(io.NewOffsetWriter(c, c.Size()), c)
		},
		"c.WriteTo(OffsetWriter at the end)": func(c *ioadapt.IO) (int64, error) {
			return c.WriteTo(io.NewOffsetWriter(c, c.Size()))
		},
		"io.Copy(c at the end, SectionReader of c)": func(c *ioadapt.IO) (int64, error) {
			if _, err := c.Seek(0, io.SeekEnd); err != nil {
				return 0, err
			}
			return io.Copy(c, io.NewSectionReader(c, 0, n))
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := &recorder{growable: growable{b: bytes.Clone(data)}, limit: 64 << 20}
			c := ioadapt.New(r)
			var got int64
			var err error
			if !finishes(t, name, func() { got, err = copy(c) }) {
				return
			}
			if got != n || err != nil {
				t.Errorf("= %d, %v; want %d, nil", got, err, n)
			}
			if want := append(bytes.Clone(data), data...); !bytes.Equal(c.Bytes(), want) {
				t.Errorf("Region holds %d bytes; want %d", c.Size(), len(want))
			}
		})
	}
	t.Run("io.Copy(c, c)", func(t *testing.T) {
		c := ioadapt.New(&recorder{growable: growable{b: bytes.Clone(data)}, limit: 64 << 20})
		var got int64
		var err error
		if !finishes(t, "io.Copy(c, c)", func() { got, err = io.Copy(c, c) }) {
			return
		}
		if got > n || c.Size() > n+got {
			t.Errorf("io.Copy(c, c) of %d bytes = %d, %v, leaving %d bytes", n, got, err, c.Size())
		}
	})
}

// TestAfterCloseBadArgumentsCore calls methods of a closed IO with
// arguments that are wrong on an open one too: the closing is what every
// error reports.
func TestAfterCloseBadArgumentsCore(t *testing.T) {
	for _, kind := range regionKinds {
		t.Run(kind.name, func(t *testing.T) {
			c := kind.make(t, pattern(100))
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			p := make([]byte, 10)
			calls := map[string]error{}
			calls["Truncate(-1)"] = c.Truncate(-1)
			calls["Truncate(MaxInt64)"] = c.Truncate(math.MaxInt64)
			_, calls["ReadAt(p, -1)"] = c.ReadAt(p, -1)
			_, calls["WriteAt(p, -1)"] = c.WriteAt(p, -1)
			_, calls["WriteAt(p, MaxInt64)"] = c.WriteAt(p, math.MaxInt64)
			_, calls["Seek(-1, SeekStart)"] = c.Seek(-1, io.SeekStart)
			_, calls["Seek(0, 42)"] = c.Seek(0, 42)
			_, calls["Section(-1, 1)"] = c.Section(-1, 1)
			_, calls["ReadFrom"] = c.ReadFrom(strings.NewReader(""))
			for name, err := range calls {
				if !errors.Is(err, fs.ErrClosed) {
					t.Errorf("%s after Close = %v; want fs.ErrClosed", name, err)
				}
			}
		})
	}
}

// holder keeps every slice it is given, as a peer that breaks the io
// contract would, to tell whether it was handed the Region's memory.
type holder struct{ got [][]byte }

func (h *holder) Write(p []byte) (int, error) {
	h.got = append(h.got, p)
	return len(p), nil
}

func (h *holder) Read(p []byte) (int, error) {
	if len(h.got) > 0 {
		return 0, io.EOF
	}
	h.got = append(h.got, p)
	return copy(p, "read"), nil
}

// inside reports whether p shares memory with b.
func inside(p, b []byte) bool {
	if len(p) == 0 || len(b) == 0 {
		return false
	}
	lo, hi := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&b[0]))+uintptr(len(b))
	at := uintptr(unsafe.Pointer(&p[0]))
	return at+uintptr(len(p)) > lo && at < hi
}
