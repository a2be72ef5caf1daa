package ioadapt_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// FuzzReadSeek drives an IO and a bytes.Reader, the oracle, through the
// same script of reads and seeks and demands the same results.
func FuzzReadSeek(f *testing.F) {
	f.Add([]byte("hello, world"), []byte{0, 5, 1, 3, 2, 4, 3, 0, 4, 1})
	f.Add([]byte{}, []byte{0, 1, 2, 3, 4, 5, 6})
	f.Add(testkit.Pattern(5000), []byte{2, 200, 0, 255, 5, 3, 1, 9, 3, 250})
	f.Fuzz(func(t *testing.T, data, script []byte) {
		c := ioadapt.New(ioadapt.NewMemory(bytes.Clone(data)))
		r := bytes.NewReader(data)
		for i := 0; i+1 < len(script); i += 2 {
			op, arg := script[i]%6, int64(int8(script[i+1]))*int64(1+len(data)/64)
			switch op {
			case 0, 1:
				n := int(arg & 0x3ff)
				got, want := make([]byte, n), make([]byte, n)
				var gn, wn int
				var gerr, werr error
				if op == 0 {
					gn, gerr = c.Read(got)
					wn, werr = r.Read(want)
				} else {
					gn, gerr = c.ReadAt(got, arg)
					wn, werr = r.ReadAt(want, arg)
				}
				if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) ||
					(werr == io.EOF) != (gerr == io.EOF) {
					t.Fatalf("step %d op %d arg %d: got %d, %v; want %d, %v", i, op, arg, gn, gerr, wn, werr)
				}
			case 2:
				whence := int(script[i+1] % 3)
				gp, gerr := c.Seek(arg, whence)
				wp, werr := r.Seek(arg, whence)
				if (gerr == nil) != (werr == nil) || (gerr == nil && gp != wp) {
					t.Fatalf("step %d Seek(%d, %d): got %d, %v; want %d, %v", i, arg, whence, gp, gerr, wp, werr)
				}
			case 3:
				gb, gerr := c.ReadByte()
				wb, werr := r.ReadByte()
				if gb != wb || gerr != werr {
					t.Fatalf("step %d ReadByte: got %d, %v; want %d, %v", i, gb, gerr, wb, werr)
				}
			case 4:
				gerr, werr := c.UnreadByte(), r.UnreadByte()
				if (gerr == nil) != (werr == nil) {
					t.Fatalf("step %d UnreadByte: got %v; want %v", i, gerr, werr)
				}
			case 5:
				var got, want bytes.Buffer
				gn, gerr := c.WriteTo(&got)
				wn, werr := r.WriteTo(&want)
				if gn != wn || gerr != werr || !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("step %d WriteTo: got %d, %v; want %d, %v", i, gn, gerr, wn, werr)
				}
			}
		}
	})
}

// FuzzWrite drives a growable IO and an os.File, the oracle, through the
// same script of writes, seeks and truncations and demands the same bytes.
func FuzzWrite(f *testing.F) {
	f.Add([]byte{0, 3, 'a', 'b', 'c', 1, 10, 0, 2, 'x', 'y', 2, 5, 0, 3, 2, 0})
	f.Add([]byte{3, 0, 0, 0, 100, 0, 1, 'z'})
	f.Fuzz(func(t *testing.T, script []byte) {
		file, err := os.Create(filepath.Join(t.TempDir(), "oracle"))
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		c := ioadapt.New(&growable{})
		for len(script) >= 3 {
			op, arg := script[0]%5, int64(binary.LittleEndian.Uint16(script[1:3]))%5000
			script = script[3:]
			n := min(int(arg%64), len(script))
			payload := script[:n]
			var gerr, werr error
			var gn, wn int64
			switch op {
			case 0:
				var a, b int
				a, gerr = c.Write(payload)
				b, werr = file.Write(payload)
				gn, wn = int64(a), int64(b)
				script = script[n:]
			case 1:
				var a, b int
				a, gerr = c.WriteAt(payload, arg)
				b, werr = file.WriteAt(payload, arg)
				gn, wn = int64(a), int64(b)
				script = script[n:]
			case 2:
				whence := int(arg % 3)
				gn, gerr = c.Seek(arg/3-100, whence)
				wn, werr = file.Seek(arg/3-100, whence)
			case 3:
				gerr, werr = c.Truncate(arg), file.Truncate(arg)
			case 4:
				gn, gerr = c.ReadFrom(bytes.NewReader(payload))
				wn, werr = file.ReadFrom(bytes.NewReader(payload))
				script = script[n:]
			}
			if gn != wn || (gerr == nil) != (werr == nil) {
				t.Fatalf("op %d arg %d: got %d, %v; os.File %d, %v", op, arg, gn, gerr, wn, werr)
			}
		}
		want, err := os.ReadFile(file.Name())
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("contents differ: got %d bytes, os.File %d", len(got), len(want))
		}
		if _, err := c.Seek(-1, io.SeekStart); !errors.Is(err, ioadapt.ErrInvalidOffset) {
			t.Fatalf("negative seek: %v", err)
		}
	})
}
