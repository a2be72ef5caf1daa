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
	"math"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

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
	data := testkit.Pattern(3000)
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

// TestPeerPanicsCore has the reader of ReadFrom and the writer of WriteTo
// panic, on every kind of Region: the panic reaches the caller unchanged,
// ReadFrom leaves exactly the bytes read, and the Region is not left
// locked (Close returns).
func TestPeerPanicsCore(t *testing.T) {
	for _, kind := range regionKinds {
		t.Run(kind.name, func(t *testing.T) {
			data := testkit.Pattern(100 << 10)
			c := kind.make(t, data)
			w := &testkit.Panicker{Room: 10 << 10, Boom: errors.New("writer exploded")}
			if p := testkit.Catch(func() { _, _ = io.Copy(w, c) }); p != w.Boom {
				t.Errorf("io.Copy into a panicking writer: panic %v; want the writer's own", p)
			}
			if _, err := c.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			r := &testkit.Panicker{Room: 5000, Boom: errors.New("reader exploded")}
			if p := testkit.Catch(func() { _, _ = c.ReadFrom(r) }); p != r.Boom {
				t.Errorf("ReadFrom of a panicking reader: panic %v; want the reader's own", p)
			}
			want := append(bytes.Repeat([]byte{'r'}, 5000), data[5000:]...)
			if !bytes.Equal(c.Bytes(), want) {
				t.Errorf("after the panic the Region holds %d bytes, or others than the 5000 read over its start", c.Size())
			}
			testkit.Finishes(t, "Close after the panics", func() {
				if err := c.Close(); err != nil {
					t.Error(err)
				}
			})
		})
	}
	t.Run("growing", func(t *testing.T) {
		r := &recorder{limit: 64 << 20}
		c := ioadapt.New(r)
		p := &testkit.Panicker{Room: 5000, Boom: errors.New("reader exploded")}
		if v := testkit.Catch(func() { _, _ = c.ReadFrom(p) }); v != p.Boom {
			t.Errorf("ReadFrom of a panicking reader: panic %v; want the reader's own", v)
		}
		if c.Size() != 5000 || r.largest > 5000 {
			t.Errorf("after the panic the Region holds %d bytes (it was grown to %d); want the 5000 read", c.Size(), r.largest)
		}
		testkit.Finishes(t, "Close after the panic", func() { _ = c.Close() })
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
				data := testkit.Pattern(10 << 10)
				c := kind.make(t, data)
				defer c.Close()
				var n int64
				var err error
				if p := testkit.Catch(func() { n, err = io.Copy(&liar{lie: lie}, c) }); p != nil || err == nil {
					t.Errorf("io.Copy into a writer returning %s = %d, %v, panic %v; want an error", name, n, err, p)
				}
				if _, err := c.Seek(0, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				good := []byte("ten bytes!")
				if p := testkit.Catch(func() { n, err = c.ReadFrom(&liar{good: good, lie: lie}) }); p != nil || err == nil || n != int64(len(good)) {
					t.Errorf("ReadFrom of a reader returning %s = %d, %v, panic %v; want %d and an error", name, n, err, p, len(good))
				}
				if want := append(bytes.Clone(good), data[len(good):]...); !bytes.Equal(c.Bytes(), want) {
					t.Errorf("after ReadFrom the Region holds %d bytes, or others than the good ones over its start", c.Size())
				}
			})
		}
	}
}

// TestSelfCopyCore copies a Region into itself through wrappers: each
// completes, with what WriteTo's rule gives (what lies between the
// position and the end as of its call).
func TestSelfCopyCore(t *testing.T) {
	data := testkit.Pattern(100_003)
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
			if !testkit.Finishes(t, name, func() { got, err = copy(c) }) {
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
		if !testkit.Finishes(t, "io.Copy(c, c)", func() { got, err = io.Copy(c, c) }) {
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
	afterClose(t, func(t *testing.T, c *ioadapt.IO) map[string]error {
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
		return calls
	})
}
