package mmfile_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// FuzzFileOps drives a File and an os.File, the oracle, over twin files
// through the same script: writes, seeks, truncations, reads, ReadFrom
// from a bytes.Reader, a strings.Reader, an io.Pipe and a file, WriteTo
// into a bytes.Buffer, a file and an io.Pipe, and growth of each file
// through another handle, which stands in for another process. After each
// step the counts, the errors (whether there is one, and io.EOF) and the
// bytes read must agree, and so must the two files on disk; after a step
// of the File's own, its Size and position too.
func FuzzFileOps(f *testing.F) {
	f.Add([]byte("hello, world"), []byte{
		0, 5, 0, 'a', 'b', 'c', 'd', 'e', // Write
		8, 3, 0, 'x', 'y', 'z', // the other handle appends
		4, 50, 0, // Read
		2, 2, 0, // Seek to the end (whence 2, offset 0)
		7, 0, 0, // WriteTo a bytes.Buffer
		9, 100, 0, 'q', // the other handle writes past the end
		5, 20, 0, // ReadAt
		6, 6, 0, 'p', 'i', 'p', 'e', 'd', '!', // ReadFrom
		10, 200, 0, // the other handle grows the file
		11, 0, 0, // Size
		1, 0, 1, 'f', 'a', 'r', // WriteAt
		3, 9, 0, // Truncate
	})
	f.Add([]byte{}, []byte{8, 200, 0, 2, 0, 0, 4, 40, 1, 6, 3, 1, 'a', 'b', 'c', 7, 2, 0, 7, 1, 0, 6, 1, 0})
	f.Add(bytes.Repeat([]byte("0123456789"), 500), []byte{9, 200, 40, 5, 60, 19, 2, 2, 1, 0, 3, 0, 'e', 'n', 'd', 7, 4, 0})
	f.Fuzz(func(t *testing.T, initial, script []byte) {
		initial = initial[:min(len(initial), 1<<14)]
		dir := t.TempDir()
		mpath, opath := filepath.Join(dir, "mapped"), filepath.Join(dir, "oracle")
		for _, p := range []string{mpath, opath} {
			if err := os.WriteFile(p, initial, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m, err := mmfile.OpenFile(mpath, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		o := openT(t, opath, os.O_RDWR)
		other := [2]*os.File{openT(t, mpath, os.O_RDWR), openT(t, opath, os.O_RDWR)}
		for step := 0; step < 64 && len(script) >= 3; step++ {
			op, arg := script[0]%12, int64(binary.LittleEndian.Uint16(script[1:3]))
			script = script[3:]
			payload := script[:min(int(arg%200), len(script))]
			var got, want string
			var own bool
			if !testkit.Finishes(t, fmt.Sprintf("step %d, op %d, arg %d", step, op, arg), func() {
				got, want, own = fuzzStep(t, op, arg, payload, m, o, other, dir)
			}) {
				t.FailNow()
			}
			if op == 0 || op == 1 || op == 6 || op == 8 || op == 9 {
				script = script[len(payload):]
			}
			if got != want {
				t.Fatalf("step %d, op %d, arg %d, %d bytes of payload:\nFile:    %.300s\nos.File: %.300s", step, op, arg, len(payload), got, want)
			}
			mb, oerr := os.ReadFile(mpath)
			ob, err := os.ReadFile(opath)
			if oerr != nil || err != nil {
				t.Fatal(oerr, err)
			}
			if !bytes.Equal(mb, ob) {
				t.Fatalf("step %d, op %d, arg %d: the File's file holds %d bytes, the os.File's %d, or other bytes", step, op, arg, len(mb), len(ob))
			}
			if own {
				mpos, _ := m.Seek(0, io.SeekCurrent)
				opos, _ := o.Seek(0, io.SeekCurrent)
				if m.Size() != int64(len(ob)) || mpos != opos {
					t.Fatalf("step %d, op %d, arg %d: File at size %d, position %d; os.File at %d, %d", step, op, arg, m.Size(), mpos, len(ob), opos)
				}
			}
		}
	})
}

func openT(t *testing.T, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// fuzzFile is what a fuzz step asks of the File and of the os.File.
type fuzzFile interface {
	io.ReadWriteSeeker
	io.ReaderAt
	io.WriterAt
	io.ReaderFrom
	io.WriterTo
	Truncate(int64) error
}

// fuzzStep does op on the File m and on the os.File o (through the other
// handles for the steps of another process), and returns a description of
// each result; own reports a step of the File's own.
func fuzzStep(t *testing.T, op byte, arg int64, payload []byte, m *mmfile.File, o *os.File, other [2]*os.File, dir string) (got, want string, own bool) {
	const bound = 1 << 16 // offsets stay below, so files stay small
	results := [2]string{}
	for i, f := range [2]fuzzFile{m, o} {
		var r string
		switch op {
		case 0:
			n, err := f.Write(payload)
			r = fmt.Sprint("Write ", n, " ", errKind(err))
		case 1:
			off := arg%bound - 100 // a few negative offsets
			n, err := f.WriteAt(payload, off)
			r = fmt.Sprint("WriteAt ", n, " ", errKind(err))
		case 2:
			pos, err := f.Seek(arg/3%2000-1000, int(arg%3))
			r = fmt.Sprint("Seek ", pos, " ", errKind(err))
		case 3:
			size := arg%bound - 50
			r = "Truncate " + errKind(f.Truncate(size))
		case 4:
			p := make([]byte, 1+arg%300)
			n, err := f.Read(p)
			r = fmt.Sprintf("Read %d %s %q", n, errKind(err), p[:n])
		case 5:
			p := make([]byte, 1+arg%300)
			n, err := f.ReadAt(p, arg/300*97%bound)
			r = fmt.Sprintf("ReadAt %d %s %q", n, errKind(err), p[:n])
		case 6:
			src, done := fuzzSource(t, arg%4, payload, dir, i)
			n, err := f.ReadFrom(src)
			done()
			r = fmt.Sprint("ReadFrom ", n, " ", errKind(err))
		case 7:
			dst, written := fuzzDestination(t, arg%3, dir, i)
			n, err := f.WriteTo(dst)
			r = fmt.Sprintf("WriteTo %d %s %q", n, errKind(err), written())
		case 8: // another process appends
			end, _ := other[i].Seek(0, io.SeekEnd)
			n, err := other[i].WriteAt(payload, end)
			r = fmt.Sprint("other appends ", n, " ", errKind(err))
		case 9: // another process writes past the end
			fi, _ := other[i].Stat()
			n, err := other[i].WriteAt(payload, min(fi.Size()+arg%5000, bound))
			r = fmt.Sprint("other writes past the end ", n, " ", errKind(err))
		case 10: // another process grows the file
			fi, _ := other[i].Stat()
			if size := fi.Size() + arg%5000; size < bound {
				r = "other grows " + errKind(other[i].Truncate(size))
			}
		case 11:
			if i == 0 {
				r = fmt.Sprint("Size ", m.Size())
			} else {
				fi, _ := o.Stat()
				r = fmt.Sprint("Size ", fi.Size())
			}
		}
		results[i] = r
	}
	return results[0], results[1], op < 8
}

// fuzzSource returns a reader of payload of the given kind for side i of
// a fuzz step, and a func to call once it has been read.
func fuzzSource(t *testing.T, kind int64, payload []byte, dir string, i int) (io.Reader, func()) {
	switch kind {
	case 0:
		return bytes.NewReader(payload), func() {}
	case 1:
		return strings.NewReader(string(payload)), func() {}
	case 2:
		pr, pw := io.Pipe()
		go func() {
			half := len(payload) / 2
			_, _ = pw.Write(payload[:half])
			_, _ = pw.Write(payload[half:])
			pw.Close()
		}()
		return pr, func() { pr.Close() }
	}
	path := filepath.Join(dir, fmt.Sprintf("src%d", i))
	if err := os.WriteFile(path, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	src := openT(t, path, os.O_RDONLY)
	return src, func() { src.Close() }
}

// fuzzDestination returns a writer of the given kind for side i of a fuzz
// step, and a func that returns what it received once written to.
func fuzzDestination(t *testing.T, kind int64, dir string, i int) (io.Writer, func() []byte) {
	switch kind {
	case 0:
		var b bytes.Buffer
		return &b, b.Bytes
	case 1:
		pr, pw := io.Pipe()
		got := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(pr)
			got <- b
		}()
		return pw, func() []byte {
			pw.Close()
			return <-got
		}
	}
	path := filepath.Join(dir, fmt.Sprintf("dst%d", i))
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return dst, func() []byte {
		dst.Close()
		b, _ := os.ReadFile(path)
		return b
	}
}
