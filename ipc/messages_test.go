//go:build linux || windows

package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"
	"testing/iotest"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestMessages sends records of every length a small ring takes, so that
// every position of the wrap comes up, in writes and zero-copy commits,
// and reads each back whole, by Read and by Peek.
func TestMessages(t *testing.T) {
	for _, capacity := range []int64{64, 256, 4096} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			p := memPipe(t, capacity, Messages())
			w, r := ends(t, p)
			max := p.MaxMessage()
			if max != int(capacity/2-8) {
				t.Fatalf("MaxMessage %d for capacity %d", max, capacity)
			}
			var sent [][]byte
			for i := range 600 {
				sent = append(sent, pattern(i, (i*7)%(max+1)))
			}
			errc := make(chan error, 1)
			go func() {
				defer w.Close()
				for i, m := range sent {
					if i%2 == 0 {
						if n, err := w.Write(m); err != nil || n != len(m) {
							errc <- fmt.Errorf("Write %d = %d, %v", i, n, err)
							return
						}
						continue
					}
					b, err := w.Reserve(len(m))
					if err != nil || len(b) != len(m) {
						errc <- fmt.Errorf("Reserve(%d) = %d bytes, %v", len(m), len(b), err)
						return
					}
					copy(b, m)
					if err := w.Commit(len(m)); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			buf := make([]byte, max)
			for i, want := range sent {
				var got []byte
				if i%3 == 0 {
					b, err := r.Peek(max)
					if err != nil {
						t.Fatalf("Peek record %d: %v", i, err)
					}
					got = append([]byte(nil), b...)
					if err := r.Release(len(b)); err != nil {
						t.Fatal(err)
					}
				} else {
					n, err := r.Read(buf)
					if err != nil {
						t.Fatalf("Read record %d: %v", i, err)
					}
					got = buf[:n]
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("record %d: %d bytes %x, want %d bytes %x", i, len(got), got, len(want), want)
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if _, err := r.Read(buf); err != io.EOF {
				t.Fatalf("after the last record: %v", err)
			}
		})
	}
}

// TestMessagePadding lays records so that a padding frame takes the
// ring's last 16 bytes, then exactly its last 8 (a padding of length 0),
// and checks the frames in memory against the doc's format.
func TestMessagePadding(t *testing.T) {
	buf := make([]byte, PipeSize(128))
	p, err := CreatePipe(ioadapt.NewMemory(buf), Messages())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	w, r := ends(t, p)
	ring := buf[pipeDataOffset:]
	le := binary.LittleEndian
	got := make([]byte, 56)
	send := func(seed, n int) {
		t.Helper()
		if _, err := w.Write(pattern(seed, n)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func(seed, n int) {
		t.Helper()
		if m, err := r.Read(got); err != nil || !bytes.Equal(got[:m], pattern(seed, n)) {
			t.Fatalf("record %d: %x, %v", seed, got[:m], err)
		}
	}
	frame := func(off int) (uint32, uint16, uint16) {
		return le.Uint32(ring[off:]), le.Uint16(ring[off+4:]), le.Uint16(ring[off+6:])
	}
	// Frames of 64 and 48 bytes bring the tail to 112; a record of 10
	// (a frame of 24) does not fit in the 16 left.
	send(0, 56)
	send(1, 40)
	recv(0, 56)
	recv(1, 40)
	send(2, 10)
	if l, ty, fl := frame(112); l != 8 || ty != framePadding || fl != 0 {
		t.Fatalf("padding frame at 112: length %d type %d flags %d", l, ty, fl)
	}
	if l, ty, _ := frame(0); l != 10 || ty != frameRecord || !bytes.Equal(ring[8:18], pattern(2, 10)) {
		t.Fatalf("record at 0 after the padding: length %d type %d", l, ty)
	}
	recv(2, 10)
	// From 24, frames of 56 and 40 bring it to 120: a record of 1 (16)
	// leaves a padding frame of length 0.
	send(3, 48)
	send(4, 32)
	recv(3, 48)
	recv(4, 32)
	send(5, 1)
	if l, ty, _ := frame(120); l != 0 || ty != framePadding {
		t.Fatalf("padding frame at 120: length %d type %d", l, ty)
	}
	recv(5, 1)
	// An empty record reads as 0, nil.
	send(6, 0)
	recv(6, 0)
	if tail := le.Uint64(buf[offTail:]); tail != 64+48+16+24+56+40+8+16+8 {
		t.Fatalf("tail %d", tail)
	}
}

// TestMessageErrors: too large, too small a buffer (the record stays),
// partial releases, ReadByte, commits smaller than the reservation.
func TestMessageErrors(t *testing.T) {
	p := memPipe(t, 256, Messages())
	w, r := ends(t, p)
	_, err := w.Write(make([]byte, 121))
	wantErr(t, err, ErrTooLarge, "121 bytes", "120")
	_, err = w.Reserve(121)
	wantErr(t, err, ErrTooLarge)
	w.Write(pattern(0, 100))
	_, err = r.Read(make([]byte, 99))
	wantErr(t, err, io.ErrShortBuffer, "record of 100 bytes", "buffer of 99")
	_, err = r.Peek(50)
	wantErr(t, err, io.ErrShortBuffer, "record of 100 bytes")
	b, err := r.Peek(100)
	if err != nil || !bytes.Equal(b, pattern(0, 100)) {
		t.Fatalf("Peek after the short reads: %v", err)
	}
	wantErr(t, r.Release(50), fs.ErrInvalid, "record is released whole")
	if _, err := r.Peek(1000); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(0); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 100)
	if n, err := r.Read(got); err != nil || n != 100 {
		t.Fatalf("the record after Release(0): %d, %v", n, err)
	}
	_, err = r.ReadByte()
	wantErr(t, err, ErrUnsupported, "message pipe")
	room, err := w.Reserve(50)
	if err != nil || len(room) != 50 {
		t.Fatalf("Reserve(50) = %d, %v", len(room), err)
	}
	copy(room, "shorter")
	if err := w.Commit(7); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(got); err != nil || string(got[:n]) != "shorter" {
		t.Fatalf("a record committed short: %q, %v", got[:n], err)
	}
	if _, err := w.Reserve(0); err != nil {
		t.Fatalf("Reserve(0) in message mode: %v", err)
	}
	w.Commit(0)
	if n, err := r.Read(got); n != 0 || err != nil {
		t.Fatalf("an empty committed record: %d, %v", n, err)
	}
}

// recordWriter records each Write as one record.
type recordWriter struct{ records [][]byte }

func (rw *recordWriter) Write(p []byte) (int, error) {
	rw.records = append(rw.records, append([]byte(nil), p...))
	return len(p), nil
}

// TestMessageCopy: WriteTo makes one Write per record, ReadFrom one record
// per Read of its source.
func TestMessageCopy(t *testing.T) {
	p := memPipe(t, 1<<12, Messages())
	w, r := ends(t, p)
	src := iotest.HalfReader(bytes.NewReader(pattern(0, 3000)))
	go func() {
		w.ReadFrom(src)
		w.Close()
	}()
	var rw recordWriter
	if _, err := r.WriteTo(&rw); err != nil {
		t.Fatal(err)
	}
	// HalfReader reads half of what is asked: chunks of min(2040/2, ...).
	if len(rw.records) < 2 {
		t.Fatalf("%d records from a reader of half-reads", len(rw.records))
	}
	if got := bytes.Join(rw.records, nil); !bytes.Equal(got, pattern(0, 3000)) {
		t.Fatal("the records do not add up to the source")
	}
	for i, rec := range rw.records {
		if len(rec) > p.MaxMessage() {
			t.Errorf("record %d of %d bytes, more than MaxMessage", i, len(rec))
		}
	}
}

// TestCorruptFrame: a frame overwritten in the shared memory is refused
// with ErrCorrupt naming its position, and poisons the pipe.
func TestCorruptFrame(t *testing.T) {
	buf := make([]byte, PipeSize(256))
	p, err := CreatePipe(ioadapt.NewMemory(buf), Messages())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	w, r := ends(t, p)
	w.Write([]byte("good"))
	w.Write([]byte("bad"))
	binary.LittleEndian.PutUint16(buf[pipeDataOffset+16+4:], 7) // the second frame's type
	got := make([]byte, 10)
	if n, err := r.Read(got); err != nil || string(got[:n]) != "good" {
		t.Fatalf("the first record: %q, %v", got[:n], err)
	}
	_, err = r.Read(got)
	wantErr(t, err, ErrCorrupt, "position 16", "type 7")
	if _, err := OpenPipe(ioadapt.NewMemory(buf)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("OpenPipe after the corruption: %v, want the pipe poisoned", err)
	}
}
