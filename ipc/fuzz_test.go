//go:build linux

package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// refHeader is the oracle for the header: section 2.2 of the layout
// restated from the doc. It returns "" for a header a joiner accepts, or
// the name of the first field it refuses.
func refHeader(b []byte) string {
	le := binary.LittleEndian
	if len(b) < 128 {
		return "region is"
	}
	magic, state := string(b[0:8]), le.Uint32(b[72:])
	if magic == "\x00\x00\x00\x00\x00\x00\x00\x00" && state <= 1 || magic == "MMKITIPC" && state <= 1 {
		return "state"
	}
	if magic != "MMKITIPC" {
		return "magic"
	}
	switch state {
	case 2:
	case 3, 4:
		return "state " // closed, poisoned
	default:
		return "state"
	}
	kind, capacity, dataOff := le.Uint32(b[16:]), le.Uint64(b[32:]), le.Uint64(b[40:])
	switch {
	case le.Uint16(b[8:]) != 1:
		return "version_major"
	case kind != 1 && kind != 2:
		return "kind"
	case le.Uint32(b[12:]) != 1152:
		return "header_size"
	case le.Uint32(b[24:]) != 128:
		return "line_size"
	case le.Uint32(b[28:]) != 2:
		return "slot_count"
	case le.Uint32(b[20:])&^1 != 0:
		return "flags"
	case capacity < 64 || capacity > 1<<40 || bits.OnesCount64(capacity) != 1:
		return "capacity"
	case dataOff%128 != 0 || dataOff < 1152:
		return "data_offset"
	case dataOff+capacity > uint64(len(b)):
		return "runs past the end"
	case le.Uint32(b[20:])&1 != 0 && (le.Uint64(b[48:]) < 1<<62 || le.Uint64(b[48:]) > 1<<63-1-256):
		return "lock_base"
	case le.Uint32(b[20:])&1 != 0:
		return "has no file" // heap memory has no file to lock
	}
	return ""
}

// FuzzHeader opens regions whose first line is fuzzed: OpenPipe accepts
// exactly the headers the doc's rules accept, and refuses the others
// with an error that names the field the rules stop at.
func FuzzHeader(f *testing.F) {
	good := make([]byte, PipeSize(4096))
	p, err := CreatePipe(ioadapt.NewMemory(good))
	if err != nil {
		f.Fatal(err)
	}
	p.Close()
	f.Add(good[:lineSize], uint16(len(good)/64))
	for _, off := range []int{0, 8, 12, 16, 20, 24, 28, 32, 40, 48, 72} {
		b := bytes.Clone(good[:lineSize])
		b[off] ^= 0x41
		f.Add(b, uint16(len(good)/64))
	}
	f.Add(make([]byte, lineSize), uint16(100))
	f.Fuzz(func(t *testing.T, line []byte, size64 uint16) {
		size := int(size64) * 64
		if len(line) > lineSize || size > 1<<16 {
			return
		}
		region := make([]byte, max(size, len(line)))
		copy(region, line)
		want := refHeader(region)
		_, err := OpenPipe(ioadapt.NewMemory(region), ReadyTimeout(0))
		if want == "" {
			if err != nil {
				t.Fatalf("the doc's rules accept the header, OpenPipe says %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("OpenPipe accepted a header that the doc refuses at %q", want)
		}
		if !errors.Is(err, ErrInvalidHeader) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("error %v wraps none of the header errors", err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("the doc refuses at %q; the error says %v", want, err)
		}
	})
}

// refFrames is the oracle for the frame parser: section 6.4 restated. It
// walks the frames of ring from position head to tail and returns the
// records, and the position of the first frame the rules refuse (-1:
// none).
func refFrames(ring []byte, head, tail uint64) ([][]byte, int64) {
	le := binary.LittleEndian
	capacity := uint64(len(ring))
	var recs [][]byte
	for pos := head; pos < tail; {
		i := pos % capacity
		if tail-pos < 8 {
			return recs, int64(pos)
		}
		length, typ, flags := uint64(le.Uint32(ring[i:])), le.Uint16(ring[i+4:]), le.Uint16(ring[i+6:])
		var size uint64
		switch {
		case flags != 0:
			return recs, int64(pos)
		case typ == 2 && i+8+length == capacity:
			size = capacity - i
		case typ == 1 && i+8+length <= capacity:
			size = (8 + length + 7) / 8 * 8
		default:
			return recs, int64(pos)
		}
		if size > tail-pos {
			return recs, int64(pos)
		}
		if typ == 1 {
			recs = append(recs, ring[i+8:i+8+length])
		}
		pos += size
	}
	return recs, -1
}

// FuzzFrames fills a message ring with fuzzed bytes and reads it: the
// reader returns exactly the records the doc's rules find, whole, and
// then stops with ErrCorrupt at the position where they stop.
func FuzzFrames(f *testing.F) {
	const capacity = 256
	seed := func(recs ...[]byte) []byte {
		buf := make([]byte, PipeSize(capacity))
		p, _ := CreatePipe(ioadapt.NewMemory(buf), Messages())
		w, _ := p.Writer()
		for _, r := range recs {
			w.Write(r)
		}
		p.Close()
		return buf[pipeDataOffset:]
	}
	f.Add(seed([]byte("hello"), nil, bytes.Repeat([]byte("x"), 100)), uint8(0), uint8(15))
	f.Add(seed(bytes.Repeat([]byte("y"), 120), bytes.Repeat([]byte("z"), 110)), uint8(16), uint8(31))
	f.Add(make([]byte, capacity), uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, ring []byte, head8, n8 uint8) {
		if len(ring) != capacity {
			return
		}
		head := uint64(head8) * 8 // anywhere, as a position that has wrapped
		tail := head + uint64(n8%33)*8
		buf := make([]byte, PipeSize(capacity))
		p, err := CreatePipe(ioadapt.NewMemory(buf), Messages())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		copy(buf[pipeDataOffset:], ring)
		binary.LittleEndian.PutUint64(buf[offHead:], head)
		binary.LittleEndian.PutUint64(buf[offTail:], tail)
		wantRecs, wantBad := refFrames(ring, head, tail)
		w, err := p.Writer()
		if err != nil {
			t.Fatal(err)
		}
		w.Close() // the reader reads to the end, then EOF
		r, err := p.Reader()
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, capacity)
		for i := 0; ; i++ {
			n, err := r.Read(got)
			if err == io.EOF {
				if wantBad >= 0 || i != len(wantRecs) {
					t.Fatalf("EOF after %d records; the rules find %d, then corruption at %d", i, len(wantRecs), wantBad)
				}
				return
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) || i != len(wantRecs) || wantBad < 0 ||
					!strings.Contains(err.Error(), fmt.Sprintf("position %d ", wantBad)) {
					t.Fatalf("after %d records: %v; the rules find %d records, then corruption at %d", i, err, len(wantRecs), wantBad)
				}
				return
			}
			if i >= len(wantRecs) || !bytes.Equal(got[:n], wantRecs[i]) {
				t.Fatalf("record %d: %x; the rules find %d records", i, got[:n], len(wantRecs))
			}
		}
	})
}
