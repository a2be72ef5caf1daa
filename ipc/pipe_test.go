//go:build linux || windows

package ipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

// hang is how long a test waits for something that must happen before
// calling it a hang: generous, since the machine may be busy.
const hang = 30 * time.Second

// within runs fn and fails the test if it has not returned after hang.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(hang):
		t.Fatalf("%s: still blocked after %v", what, hang)
	}
}

// TestReaderConformance runs testing/iotest.TestReader over a pipe that
// holds each content whole, written and closed before the reads.
func TestReaderConformance(t *testing.T) {
	for _, size := range []int{0, 1, 63, 64, 4095, 4096} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			p := memPipe(t, 4096)
			w, r := ends(t, p)
			content := pattern(0, size)
			if n, err := w.Write(content); n != size || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			w.Close()
			if err := iotest.TestReader(r, content); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// stream writes data through p in chunks of wsize (Write) while reading
// it back in chunks of rsize (Read), and returns what was read.
func stream(t *testing.T, w *Writer, r *Reader, data []byte, wsize, rsize int) []byte {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		for off := 0; off < len(data); off += wsize {
			n, err := w.Write(data[off:min(off+wsize, len(data))])
			if err != nil || n != min(wsize, len(data)-off) {
				errc <- fmt.Errorf("Write at %d = %d, %v", off, n, err)
				return
			}
		}
		errc <- w.Close()
	}()
	var got bytes.Buffer
	buf := make([]byte, rsize)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read after %d bytes: %v", got.Len(), err)
		}
		if n == 0 {
			t.Fatalf("Read returned 0, nil")
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return got.Bytes()
}

// TestStream passes patterns through rings of several sizes, in writes and
// reads of sizes around the ring's: what comes out is what went in.
func TestStream(t *testing.T) {
	for _, capacity := range []int64{64, 4096, 1 << 16} {
		for _, size := range []int{1, 63, 64, 65, 4097, 100_000} {
			for _, ws := range []int{1, 7, 64, 4096, 1 << 20} {
				for _, rs := range []int{1, 13, 4096, 1 << 20} {
					if size > 5000 && (ws < 64 || rs < 13) {
						continue // byte-at-a-time through 100 kB: slow under -race, nothing new
					}
					name := fmt.Sprintf("cap%d/size%d/w%d/r%d", capacity, size, ws, rs)
					p := memPipe(t, capacity)
					w, r := ends(t, p)
					data := pattern(size, size)
					if got := stream(t, w, r, data, ws, rs); !bytes.Equal(got, data) {
						t.Fatalf("%s: read %d bytes that differ from the %d written", name, len(got), len(data))
					}
				}
			}
		}
	}
}

// TestWaitModes streams through each wait mode, and ping-pongs through
// two pipes, where every read waits.
func TestWaitModes(t *testing.T) {
	for _, mode := range []WaitMode{Adaptive, SleepOnly, SpinOnly} {
		t.Run(mode.String(), func(t *testing.T) {
			p := memPipe(t, 4096, WithWaitMode(mode))
			w, r := ends(t, p)
			data := pattern(3, 200_000)
			if got := stream(t, w, r, data, 1000, 3000); !bytes.Equal(got, data) {
				t.Fatal("stream corrupted")
			}
			ab, ba := memPipe(t, 1024), memPipe(t, 1024)
			aw, br := ends(t, ab, WithWaitMode(mode))
			bw, ar := ends(t, ba, WithWaitMode(mode))
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, 64)
				for {
					n, err := br.Read(buf)
					if err == io.EOF {
						done <- bw.Close()
						return
					}
					if err != nil {
						done <- err
						return
					}
					if _, err := bw.Write(buf[:n]); err != nil {
						done <- err
						return
					}
				}
			}()
			msg, got := make([]byte, 64), make([]byte, 64)
			for i := range 2000 {
				msg[0], msg[63] = byte(i), byte(i>>8)
				if _, err := aw.Write(msg); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(ar, got); err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("round %d: %v", i, err)
				}
			}
			aw.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if _, err := ar.Read(got); err != io.EOF {
				t.Fatalf("after the echo closed: %v", err)
			}
		})
	}
	if s := WaitMode(7).String(); s != "WaitMode(7)" {
		t.Errorf("String of an unknown mode: %q", s)
	}
}

// TestWaitModeInvalid: a WaitMode that is none of the modes is refused
// by every call given it, with an error that names it.
func TestWaitModeInvalid(t *testing.T) {
	for _, m := range []WaitMode{99, -5, SpinOnly + 1} {
		want := "wait mode " + strconv.Itoa(int(m)) + " is not"
		mem := ioadapt.NewMemory(make([]byte, PipeSize(4096)))
		_, err := CreatePipe(mem, WithWaitMode(m))
		wantErr(t, err, fs.ErrInvalid, want)
		if got := mem.Bytes()[offState]; got != 0 {
			t.Errorf("CreatePipe refusing wait mode %d laid out a header (state %d)", m, got)
		}
		p := memPipe(t, 4096)
		_, err = OpenPipe(mem, WithWaitMode(m))
		wantErr(t, err, fs.ErrInvalid, want)
		_, err = p.Writer(WithWaitMode(m))
		wantErr(t, err, fs.ErrInvalid, want)
		_, err = p.Reader(WithWaitMode(m))
		wantErr(t, err, fs.ErrInvalid, want)
		// Nothing was attached: the ends are still free.
		ends(t, p)
		name := segName(t)
		_, err = CreateNamedPipe(name, 4096, WithWaitMode(m))
		wantErr(t, err, fs.ErrInvalid, want)
		if _, err := shm.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("CreateNamedPipe refusing wait mode %d left a segment: %v", m, err)
		}
		_, err = OpenNamedPipe(name, WithWaitMode(m))
		wantErr(t, err, fs.ErrInvalid, want)
	}
}

// TestCopyPeers copies into the writer (ReadFrom) from sources of every
// kind, and out of the reader (WriteTo) into sinks of every kind.
func TestCopyPeers(t *testing.T) {
	data := pattern(11, 300_000)
	file := t.TempDir() + "/data"
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sources := map[string]func() (io.Reader, func()){
		"os.File": func() (io.Reader, func()) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			return f, func() { f.Close() }
		},
		"bytes.Reader": func() (io.Reader, func()) { return bytes.NewReader(data), func() {} },
		"OneByteReader": func() (io.Reader, func()) {
			return iotest.OneByteReader(bytes.NewReader(data[:5000])), func() {}
		},
		"DataErrReader": func() (io.Reader, func()) { return iotest.DataErrReader(bytes.NewReader(data)), func() {} },
		"os.Pipe": func() (io.Reader, func()) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() { pw.Write(data); pw.Close() }()
			return pr, func() { pr.Close() }
		},
		"socket": func() (io.Reader, func()) {
			a, b := socketPair(t)
			go func() { b.Write(data); b.Close() }()
			return a, func() { a.Close() }
		},
		"io.Pipe": func() (io.Reader, func()) {
			pr, pw := io.Pipe()
			go func() { pw.Write(data); pw.Close() }()
			return pr, func() {}
		},
	}
	for name, src := range sources {
		t.Run("from "+name, func(t *testing.T) {
			p := memPipe(t, 1<<14)
			w, r := ends(t, p)
			in, done := src()
			defer done()
			want := data
			if name == "OneByteReader" {
				want = data[:5000]
			}
			errc := make(chan error, 1)
			go func() {
				n, err := io.Copy(w, in)
				if err == nil && n != int64(len(want)) {
					err = fmt.Errorf("io.Copy copied %d bytes, want %d", n, len(want))
				}
				w.Close()
				errc <- err
			}()
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes that differ from the %d sent", len(got), len(want))
			}
		})
	}
	sinks := map[string]func() (io.Writer, func() []byte){
		"os.File": func() (io.Writer, func() []byte) {
			f, err := os.Create(t.TempDir() + "/out")
			if err != nil {
				t.Fatal(err)
			}
			return f, func() []byte {
				f.Close()
				b, _ := os.ReadFile(f.Name())
				return b
			}
		},
		"bytes.Buffer": func() (io.Writer, func() []byte) {
			var b bytes.Buffer
			return &b, b.Bytes
		},
		"mutex writer": func() (io.Writer, func() []byte) {
			m := &testkit.LockedBuffer{}
			return m, m.Bytes
		},
		"os.Pipe": func() (io.Writer, func() []byte) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			done := make(chan struct{})
			go func() { got, _ = io.ReadAll(pr); close(done) }()
			return pw, func() []byte { pw.Close(); <-done; pr.Close(); return got }
		},
		"socket": func() (io.Writer, func() []byte) {
			a, b := socketPair(t)
			var got []byte
			done := make(chan struct{})
			go func() { got, _ = io.ReadAll(b); close(done) }()
			return a, func() []byte { a.Close(); <-done; b.Close(); return got }
		},
	}
	for name, sink := range sinks {
		t.Run("to "+name, func(t *testing.T) {
			p := memPipe(t, 1<<14)
			w, r := ends(t, p)
			go func() { w.Write(data); w.Close() }()
			out, result := sink()
			n, err := io.Copy(out, r)
			if err != nil || n != int64(len(data)) {
				t.Fatalf("io.Copy = %d, %v", n, err)
			}
			if got := result(); !bytes.Equal(got, data) {
				t.Fatalf("sink got %d bytes that differ from the %d sent", len(got), len(data))
			}
		})
	}
}

// TestCopyFailures: a sink that writes short, a sink that fails, a source
// that fails and one that panics: each error reaches the caller with the
// count, and the pipe stays usable.
func TestCopyFailures(t *testing.T) {
	p := memPipe(t, 4096)
	w, r := ends(t, p)
	if _, err := w.Write(pattern(0, 1000)); err != nil {
		t.Fatal(err)
	}
	n, err := r.WriteTo(&shortWriter{max: 100})
	if err != io.ErrShortWrite || n != 100 {
		t.Fatalf("WriteTo a short writer = %d, %v; want 100, io.ErrShortWrite", n, err)
	}
	boom := errors.New("boom")
	n, err = r.WriteTo(failWriter{boom})
	if err != boom || n != 0 {
		t.Fatalf("WriteTo a failing writer = %d, %v", n, err)
	}
	rest := make([]byte, 900)
	if _, err := io.ReadFull(r, rest); err != nil || !bytes.Equal(rest, pattern(100, 900)) {
		t.Fatalf("reading on after the failed WriteTo: %v", err)
	}
	n2, err := w.ReadFrom(iotest.ErrReader(boom))
	if err != boom || n2 != 0 {
		t.Fatalf("ReadFrom a failing reader = %d, %v", n2, err)
	}
	func() {
		defer func() {
			if v := recover(); v != "reader panics" {
				t.Fatalf("recovered %v", v)
			}
		}()
		w.ReadFrom(panicReader{})
	}()
	if _, err := w.Write([]byte("after")); err != nil {
		t.Fatalf("Write after a ReadFrom that panicked: %v", err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(r, got); err != nil || string(got) != "after" {
		t.Fatalf("read %q, %v", got, err)
	}
}

// shortWriter accepts at most max bytes of each Write, without an error.
type shortWriter struct{ max int }

func (s *shortWriter) Write(p []byte) (int, error) { return min(len(p), s.max), nil }

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("reader panics") }

// TestReserveCommit writes through the zero-copy path, around the wrap:
// Reserve gives at most the contiguous room, Commit publishes.
func TestReserveCommit(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	if _, err := w.Write(pattern(0, 40)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 40)
	io.ReadFull(r, got)
	b, err := w.Reserve(100)
	if err != nil || len(b) != 24 {
		t.Fatalf("Reserve(100) at ring offset 40 = %d bytes, %v; want the 24 to the end", len(b), err)
	}
	copy(b, "0123456789abcdefghijklmn")
	if err := w.Commit(24); err != nil {
		t.Fatal(err)
	}
	b, err = w.Reserve(10)
	if err != nil || len(b) != 10 {
		t.Fatalf("Reserve(10) after the wrap = %d bytes, %v", len(b), err)
	}
	copy(b, "opqrstuvwx")
	if err := w.Commit(5); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, err := io.ReadAtLeast(r, buf, 29)
	if err != nil || string(buf[:n]) != "0123456789abcdefghijklmnopqrs" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	wantErr(t, w.Commit(1), fs.ErrInvalid, "without a reservation")
	if _, err := w.Reserve(8); err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.Commit(9), fs.ErrInvalid, "commit of 9 bytes; 8 are reserved")
	if _, err := w.Reserve(8); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("z")) // drops the reservation
	wantErr(t, w.Commit(1), fs.ErrInvalid, "without a reservation")
	_, err = w.Reserve(0)
	wantErr(t, err, fs.ErrInvalid, "reserve of 0 bytes")
	_, err = w.Reserve(-1)
	wantErr(t, err, fs.ErrInvalid, "reserve of -1 bytes")
	if _, err := w.Reserve(4); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(0); err != nil {
		t.Fatalf("Commit(0): %v", err)
	}
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "z" {
		t.Fatalf("read %q, %v; want the one written byte", buf[:n], err)
	}
}

// TestPeekRelease reads through the zero-copy path, around the wrap.
func TestPeekRelease(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	w.Write(pattern(0, 50))
	b, err := r.Peek(100)
	if err != nil || !bytes.Equal(b, pattern(0, 50)) {
		t.Fatalf("Peek = %d bytes, %v", len(b), err)
	}
	if err := r.Release(50); err != nil {
		t.Fatal(err)
	}
	w.Write(pattern(50, 30))
	b, err = r.Peek(100)
	if err != nil || !bytes.Equal(b, pattern(50, 14)) {
		t.Fatalf("Peek across the wrap = %d bytes, %v; want the 14 to the end", len(b), err)
	}
	if err := r.Release(4); err != nil {
		t.Fatal(err)
	}
	b, err = r.Peek(5)
	if err != nil || !bytes.Equal(b, pattern(54, 5)) {
		t.Fatalf("Peek(5) = %x, %v", b, err)
	}
	wantErr(t, r.Release(6), fs.ErrInvalid, "release of 6 bytes; 5 were peeked")
	wantErr(t, r.Release(1), fs.ErrInvalid, "without a peek")
	r.Peek(5)
	buf := make([]byte, 3)
	if n, err := r.Read(buf); err != nil || !bytes.Equal(buf[:n], pattern(54, 3)) {
		t.Fatalf("Read after a Peek not released: %x, %v", buf[:n], err)
	}
	wantErr(t, r.Release(1), fs.ErrInvalid, "without a peek")
	_, err = r.Peek(0)
	wantErr(t, err, fs.ErrInvalid, "peek of 0 bytes")
	rest, _ := r.Peek(100)
	if !bytes.Equal(rest, pattern(57, 7)) {
		t.Fatalf("rest before the wrap %x", rest)
	}
	r.Release(len(rest))
	rest, _ = r.Peek(100)
	if !bytes.Equal(rest, pattern(64, 16)) {
		t.Fatalf("rest after the wrap %x", rest)
	}
	r.Release(16)
	w.Close()
	if _, err := r.Peek(1); err != io.EOF {
		t.Fatalf("Peek at the end: %v", err)
	}
}

// TestByteReader reads byte by byte, against the bytes written.
func TestByteReader(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	data := pattern(0, 300)
	go func() { w.Write(data); w.Close() }()
	for i := range data {
		c, err := r.ReadByte()
		if err != nil || c != data[i] {
			t.Fatalf("ReadByte %d = %#x, %v; want %#x", i, c, err, data[i])
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("ReadByte at the end: %v", err)
	}
	if _, err := w.WriteString("x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteString after Close: %v", err)
	}
}

// TestWriteString writes a string without copying, through a small ring.
func TestWriteString(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	s := string(pattern(0, 1000))
	go func() { w.WriteString(s); w.Close() }()
	got, err := io.ReadAll(r)
	if err != nil || string(got) != s {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
}

// TestEndOfStream: a writer's Close lets the reader drain and then read
// io.EOF, as from an OS pipe, also when the reader attaches afterwards.
func TestEndOfStream(t *testing.T) {
	p := memPipe(t, 4096)
	w, err := p.Writer()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("left behind"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, w.Close(), ErrClosed)
	r, err := p.Reader()
	if err != nil {
		t.Fatalf("a reader after the writer closed: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "left behind" {
		t.Fatalf("read %q, %v", got, err)
	}
	for range 3 {
		if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("Read at the end = %d, %v", n, err)
		}
	}
	_, err = p.Writer()
	wantErr(t, err, fs.ErrClosed, "the writer closed this pipe", "writer_state 2")
}

// TestBrokenPipe: a reader's Close makes the next write, and a write
// blocked on a full ring, fail with an error matching EPIPE.
func TestBrokenPipe(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	errc := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, 1000)) // fills the ring and blocks
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	within(t, "a write blocked when the reader closed", func() {
		wantErr(t, <-errc, syscall.EPIPE, "the reader closed")
	})
	_, err := w.Write([]byte("x"))
	wantErr(t, err, syscall.EPIPE)
	_, err = w.Reserve(1)
	wantErr(t, err, syscall.EPIPE)
	_, err = w.ReadFrom(bytes.NewReader([]byte("x")))
	wantErr(t, err, syscall.EPIPE)
	_, err = p.Reader()
	wantErr(t, err, fs.ErrClosed, "the reader closed this pipe")
}

// TestSecondEnd: one writer and one reader at a time, also within one
// process.
func TestSecondEnd(t *testing.T) {
	check := func(t *testing.T, p *Pipe) {
		w, r := ends(t, p)
		_, err := p.Writer()
		wantErr(t, err, ErrInUse, "already has a writer", fmt.Sprintf("pid %d", os.Getpid()))
		_, err = p.Reader()
		wantErr(t, err, ErrInUse, "already has a reader")
		w.Close()
		r.Close()
	}
	t.Run("memory", func(t *testing.T) { check(t, memPipe(t, 4096)) })
	t.Run("shm", func(t *testing.T) {
		_, p := shmPipe(t, 4096)
		check(t, p)
	})
}

// TestCloseWakes: Close in another goroutine ends a blocked call with
// fs.ErrClosed; every method fails so afterwards; Pipe.Close closes the
// ends it attached.
func TestCloseWakes(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	errc := make(chan error, 2)
	go func() { _, err := r.Read(make([]byte, 10)); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	r.Close()
	within(t, "a Read blocked when its end closed", func() { wantErr(t, <-errc, ErrClosed) })

	q := memPipe(t, 64)
	w2, r2 := ends(t, q)
	go func() { _, err := w2.Write(make([]byte, 100)); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	within(t, "a Write blocked when its Pipe closed", func() { wantErr(t, <-errc, ErrClosed) })
	wantErr(t, q.Close(), ErrClosed)
	_, err := q.Writer()
	wantErr(t, err, ErrClosed)
	wantErr(t, r2.Close(), ErrClosed)

	w.Close()
	buf := make([]byte, 4)
	afterClose := map[string]error{
		"Write":            second(w.Write(buf)),
		"WriteContext":     second(w.WriteContext(context.Background(), buf)),
		"WriteString":      second(w.WriteString("x")),
		"ReadFrom":         second(w.ReadFrom(bytes.NewReader(buf))),
		"Reserve":          second(w.Reserve(1)),
		"ReserveContext":   second(w.ReserveContext(context.Background(), 1)),
		"Commit":           w.Commit(0),
		"SetWriteDeadline": w.SetWriteDeadline(time.Now()),
		"SetDeadline(w)":   w.SetDeadline(time.Now()),
		"Close(w)":         w.Close(),
		"Read":             second(r.Read(buf)),
		"ReadContext":      second(r.ReadContext(context.Background(), buf)),
		"ReadByte":         second(r.ReadByte()),
		"WriteTo":          second(r.WriteTo(io.Discard)),
		"Peek":             second(r.Peek(1)),
		"PeekContext":      second(r.PeekContext(context.Background(), 1)),
		"Release":          r.Release(0),
		"SetReadDeadline":  r.SetReadDeadline(time.Now()),
		"SetDeadline(r)":   r.SetDeadline(time.Now()),
		"Close(r)":         r.Close(),
	}
	for name, err := range afterClose {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s after Close: %v, want fs.ErrClosed", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestCloseRaces closes ends while goroutines read and write: every call
// completes or fails with fs.ErrClosed (or, for the writer once the
// reader is gone, EPIPE), and nothing hangs.
func TestCloseRaces(t *testing.T) {
	for round := range 50 {
		p := memPipe(t, 256, WithWaitMode(WaitMode(round%3)))
		w, r := ends(t, p)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 2 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				buf := pattern(g, 100)
				for {
					_, err := w.Write(buf)
					if err != nil {
						if !errors.Is(err, fs.ErrClosed) && !errors.Is(err, syscall.EPIPE) {
							errs <- fmt.Errorf("Write: %w", err)
						}
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				buf := make([]byte, 77)
				for {
					_, err := r.Read(buf)
					if err != nil {
						if !errors.Is(err, fs.ErrClosed) && err != io.EOF {
							errs <- fmt.Errorf("Read: %w", err)
						}
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		if round%2 == 0 {
			w.Close()
			r.Close()
		} else {
			r.Close()
			w.Close()
		}
		within(t, "calls racing Close", wg.Wait)
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

// TestDeadlines: os.File's deadline rules, for both ends.
func TestDeadlines(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	buf := make([]byte, 8)

	r.SetReadDeadline(time.Now().Add(-time.Second))
	w.Write([]byte("data"))
	_, err := r.Read(buf)
	wantErr(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("deadline error %v is not a net.Error timeout", err)
	}
	_, err = r.Peek(1)
	wantErr(t, err, os.ErrDeadlineExceeded)
	_, err = r.WriteTo(io.Discard)
	wantErr(t, err, os.ErrDeadlineExceeded)
	r.SetReadDeadline(time.Time{})
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "data" {
		t.Fatalf("Read after clearing the deadline: %q, %v", buf[:n], err)
	}

	// A deadline that passes while blocked.
	r.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	within(t, "a Read past its deadline", func() {
		_, err = r.Read(buf)
	})
	wantErr(t, err, os.ErrDeadlineExceeded)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("Read failed after %v, before its deadline", d)
	}

	// A deadline set while blocked applies to the call in progress.
	r.SetReadDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() { _, err := r.Read(buf); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	r.SetDeadline(time.Now())
	within(t, "a Read whose deadline was set while it waited", func() { wantErr(t, <-errc, os.ErrDeadlineExceeded) })

	// The writer, on a full ring.
	w.Write(make([]byte, 64))
	w.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	within(t, "a Write past its deadline", func() {
		n, err := w.Write([]byte("more"))
		wantErr(t, err, os.ErrDeadlineExceeded)
		if n != 0 {
			t.Errorf("Write wrote %d bytes into a full ring", n)
		}
	})
	go func() { _, err := w.Reserve(1); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	w.SetDeadline(time.Now().Add(-time.Hour))
	within(t, "a Reserve whose deadline was set while it waited", func() { wantErr(t, <-errc, os.ErrDeadlineExceeded) })
	w.SetDeadline(time.Time{})
	r.SetDeadline(time.Time{})
	// Room made by the reader ends the wait.
	go func() { _, err := w.Write([]byte("more")); errc <- err }()
	time.Sleep(5 * time.Millisecond)
	io.ReadFull(r, make([]byte, 64))
	within(t, "a Write woken by the reader", func() {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

// TestContexts: the Context forms give up when their context is done,
// with its error, before and during the wait.
func TestContexts(t *testing.T) {
	p := memPipe(t, 64)
	w, r := ends(t, p)
	buf := make([]byte, 8)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.ReadContext(canceled, buf)
	wantErr(t, err, context.Canceled)
	_, err = r.PeekContext(canceled, 1)
	wantErr(t, err, context.Canceled)
	_, err = w.WriteContext(canceled, buf)
	wantErr(t, err, context.Canceled)
	_, err = w.ReserveContext(canceled, 1)
	wantErr(t, err, context.Canceled)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := r.ReadContext(ctx, buf); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	within(t, "a ReadContext canceled while it waited", func() { wantErr(t, <-errc, context.Canceled) })

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	within(t, "a PeekContext past its context's deadline", func() {
		_, err := r.PeekContext(ctx, 1)
		wantErr(t, err, context.DeadlineExceeded)
	})

	w.Write(make([]byte, 64))
	ctx, cancel = context.WithCancel(context.Background())
	go func() { _, err := w.WriteContext(ctx, buf); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	within(t, "a WriteContext canceled while it waited", func() { wantErr(t, <-errc, context.Canceled) })

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	within(t, "a ReserveContext past its context's deadline", func() {
		_, err := w.ReserveContext(ctx, 1)
		wantErr(t, err, context.DeadlineExceeded)
	})

	// A live context does not get in the way.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { _, err := w.WriteContext(ctx, []byte("abc")); errc <- err }()
	got, err := r.PeekContext(ctx, 64)
	if err != nil || len(got) != 64 {
		t.Fatalf("PeekContext = %d bytes, %v", len(got), err)
	}
	r.Release(64)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n, err := r.ReadContext(ctx, buf); err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("ReadContext = %q, %v", buf[:n], err)
	}
}

// TestManyPairs streams through many pipes at once, each pair of
// goroutines with its own sizes, modes and mode of transfer: under -race,
// this is the check that the ring's publication is race-free.
func TestManyPairs(t *testing.T) {
	pairs := 16
	if testing.Short() {
		pairs = 4
	}
	var wg sync.WaitGroup
	for i := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			msg := i%2 == 1
			opts := []Option{WithWaitMode(WaitMode(i % 3))}
			if msg {
				opts = append(opts, Messages())
			}
			p := memPipe(t, 1<<(6+i%6), opts...)
			w, r := ends(t, p)
			var sent [][]byte
			total := 20_000 + rng.IntN(20_000)
			for n := 0; n < total; {
				k := 1 + rng.IntN(max(1, min(p.MaxMessage(), 700)))
				if !msg {
					k = 1 + rng.IntN(3000)
				}
				sent = append(sent, pattern(n, k))
				n += k
			}
			errc := make(chan error, 1)
			go func() {
				defer w.Close()
				for j, b := range sent {
					var err error
					if j%3 == 0 {
						var room []byte
						for len(b) > 0 && err == nil {
							room, err = w.Reserve(len(b))
							if err == nil {
								c := copy(room, b)
								err = w.Commit(c)
								b = b[c:]
							}
						}
					} else {
						_, err = w.Write(b)
					}
					if err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			var got [][]byte
			buf := make([]byte, 4096)
			for j := 0; ; j++ {
				var chunk []byte
				var err error
				if j%2 == 0 {
					var n int
					n, err = r.Read(buf)
					chunk = append([]byte(nil), buf[:n]...)
				} else {
					var b []byte
					b, err = r.Peek(4096)
					if err == nil {
						chunk = append([]byte(nil), b...)
						err = r.Release(len(b))
					}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("pair %d: %v", i, err)
					return
				}
				got = append(got, chunk)
			}
			if err := <-errc; err != nil {
				t.Errorf("pair %d: writer: %v", i, err)
			}
			if msg {
				if len(got) != len(sent) {
					t.Errorf("pair %d: %d records read, %d sent", i, len(got), len(sent))
					return
				}
				for j := range sent {
					if !bytes.Equal(got[j], sent[j]) {
						t.Errorf("pair %d: record %d differs", i, j)
						return
					}
				}
			} else if !bytes.Equal(bytes.Join(got, nil), bytes.Join(sent, nil)) {
				t.Errorf("pair %d: the stream differs", i)
			}
		}()
	}
	wg.Wait()
}

// TestAllocs: no allocation per call on the paths that do not wait.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	for _, msg := range []bool{false, true} {
		var opts []Option
		if msg {
			opts = append(opts, Messages())
		}
		p := memPipe(t, 1<<16, opts...)
		w, r := ends(t, p)
		buf := make([]byte, 64)
		for name, fn := range map[string]func(){
			"Write+Read": func() {
				w.Write(buf)
				r.Read(buf)
			},
			"Reserve+Commit+Peek+Release": func() {
				b, _ := w.Reserve(64)
				w.Commit(len(b))
				b, _ = r.Peek(64)
				r.Release(len(b))
			},
			"WriteString+ReadByte": func() {
				if !msg {
					w.WriteString("x")
					r.ReadByte()
				}
			},
		} {
			if a := testing.AllocsPerRun(1000, fn); a != 0 {
				t.Errorf("messages=%v %s: %.1f allocations per call", msg, name, a)
			}
		}
	}
}
