package mmfile_test

// The peers of WriteTo and ReadFrom, of every kind: io.Pipe, a writer that
// takes a mutex, bytes.Buffer, a file, a pipe, unix and TCP sockets,
// writers and readers that lie about counts or panic. When another process
// truncates the mapped file under a copy, the process lives, the error
// wraps ioadapt.ErrFault and names the mapped file, and the count is what
// the peer received.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// Sizes of the truncation scenarios: the file, and where another process
// cuts it while a copy is under way (page-aligned, so that what lies
// before the cut is the file's own bytes).
const (
	peerFileSize = 16 << 20
	peerCutSize  = 8 << 20
)

// TestPeerIOPipeTruncated io.Copies a mapped file into an io.Pipe whose
// reader is another goroutine, and truncates the file from another
// process once the reader has its first bytes: the copying process lives,
// io.Copy's error wraps ErrFault and names the file, and its count is what
// the reader received.
func TestPeerIOPipeTruncated(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 64<<20)
	for _, chunk := range []int{61, 4096, 1 << 20} {
		t.Run(strconv.Itoa(chunk), func(t *testing.T) {
			if err := pipeRound(filepath.Join(dir, "piped"), peerFileSize, peerCutSize, chunk); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// pipeRound runs the pipe-copy job on a file of size bytes, cutting it to
// cut once the job's pipe reader has its first bytes.
func pipeRound(path string, size, cut, chunk int) error {
	if err := os.WriteFile(path, testkit.TextPattern(size, 0), 0o644); err != nil {
		return err
	}
	defer os.Remove(path)
	p, err := talk(child("pipe-copy", path, "MMAPKIT_TEST_CHUNK="+strconv.Itoa(chunk)), "ready")
	if err != nil {
		return fmt.Errorf("before the truncation: %v", err)
	}
	defer p.Stop()
	if err := os.Truncate(path, int64(cut)); err != nil {
		return err
	}
	_ = p.Say("go")
	line, err := p.Line()
	var res pipeResult
	if err == nil {
		err = json.Unmarshal([]byte(line), &res)
	}
	if err != nil {
		p.Stop()
		return fmt.Errorf("after the truncation the copying process died: %v\n%s", p.Cmd.ProcessState, p.Stderr())
	}
	if err := p.Cmd.Wait(); err != nil {
		return fmt.Errorf("the copying process: %v: %s", err, p.Stderr())
	}
	switch {
	case !res.Fault || !strings.Contains(res.Err, path):
		return fmt.Errorf("io.Copy over the truncation = %d, %q; want an error wrapping ErrFault naming %s", res.N, res.Err, path)
	case res.N != int64(res.Received):
		return fmt.Errorf("io.Copy counted %d bytes; the pipe's reader received %d", res.N, res.Received)
	case !res.Intact:
		return fmt.Errorf("the %d bytes received are not the file's", res.Received)
	case res.N >= int64(size):
		return fmt.Errorf("io.Copy counted %d bytes of a file cut to %d", res.N, cut)
	}
	return nil
}

// truncateByChild has another process truncate path to size.
func truncateByChild(path string, size int) error {
	if out, err := child("truncate", path, "MMAPKIT_TEST_SIZE="+strconv.Itoa(size)).CombinedOutput(); err != nil {
		return fmt.Errorf("truncating process: %v: %s", err, out)
	}
	return nil
}

// mappedForPeers maps a file of peerFileSize bytes of testkit.TextPattern(_, 0) on
// a tmpfs, and returns it with its path and contents.
func mappedForPeers(t *testing.T) (*mmfile.File, string, []byte) {
	t.Helper()
	data := testkit.TextPattern(peerFileSize, 0)
	path := filepath.Join(testkit.SmallTmpfs(t, 64<<20), "mapped")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return f, path, data
}

// checkFault fails t unless err wraps ErrFault in an *fs.PathError naming
// the mapped file at path.
func checkFault(t *testing.T, what string, err error, path string) {
	t.Helper()
	var pe *fs.PathError
	if !errors.Is(err, ioadapt.ErrFault) || !errors.As(err, &pe) || pe.Path != path {
		t.Errorf("%s over a truncated mapping = %v; want an error wrapping ErrFault that names %s", what, err, path)
	}
}

// checkReceived fails t unless the peer received exactly the n bytes that
// the copy counted, and they are the file's.
func checkReceived(t *testing.T, n int64, got, data []byte) {
	t.Helper()
	if n != int64(len(got)) {
		t.Errorf("the copy counted %d bytes; the peer holds %d", n, len(got))
	}
	if len(got) > len(data) || !bytes.Equal(got, data[:len(got)]) {
		t.Errorf("the %d bytes the peer holds are not the file's", len(got))
	}
}

// lockingWriter takes a mutex in Write, as writers shared between
// goroutines do, and releases it without defer; first runs inside the
// first Write, with the mutex held.
type lockingWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first func()
}

func (w *lockingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.first != nil {
		w.first()
		w.first = nil
	}
	n, err := w.buf.Write(p)
	w.mu.Unlock()
	return n, err
}

// TestPeerLockingWriterAfterFault copies into a writer that takes a mutex,
// while another process truncates the file during the first Write: the
// copy fails with the fault, the count is what the writer holds, and the
// writer's next Write does not hang on a mutex left locked.
func TestPeerLockingWriterAfterFault(t *testing.T) {
	f, path, data := mappedForPeers(t)
	defer f.Close()
	var cutErr error
	w := &lockingWriter{first: func() { cutErr = truncateByChild(path, peerCutSize) }}
	var n int64
	var err error
	if !testkit.Finishes(t, "io.Copy into a locking writer", func() { n, err = io.Copy(w, f) }) {
		return
	}
	if cutErr != nil {
		t.Fatal(cutErr)
	}
	checkFault(t, "io.Copy", err, path)
	checkReceived(t, n, w.buf.Bytes(), data)
	testkit.Finishes(t, "the writer's next Write after the fault", func() { _, _ = w.Write([]byte("next")) })
}

// cutAfterFirstWrite is a bytes.Buffer whose first Write has another
// process truncate the mapped file: the copy meets the hole mid-way.
type cutAfterFirstWrite struct {
	bytes.Buffer
	path string
	err  error
	done bool
}

func (w *cutAfterFirstWrite) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if !w.done {
		w.done = true
		w.err = truncateByChild(w.path, peerCutSize)
	}
	return n, err
}

// TestPeerBufferAfterFault copies into a bytes.Buffer a file that another
// process truncates during the copy: the count is the buffer's length, and
// the error is the mapped file's fault.
func TestPeerBufferAfterFault(t *testing.T) {
	f, path, data := mappedForPeers(t)
	defer f.Close()
	buf := &cutAfterFirstWrite{path: path}
	n, err := io.Copy(buf, f)
	if buf.err != nil {
		t.Fatal(buf.err)
	}
	checkFault(t, "io.Copy into a bytes.Buffer", err, path)
	checkReceived(t, n, buf.Bytes(), data)
}

// TestPeerCopyAfterTruncation copies, into a bytes.Buffer and into a file,
// a file that another process truncated before the copy: like io.Copy from
// an os.File, the copy asks where the file ends now and copies what it
// holds, with no error.
func TestPeerCopyAfterTruncation(t *testing.T) {
	f, path, data := mappedForPeers(t)
	defer f.Close()
	if err := truncateByChild(path, peerCutSize); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := io.Copy(&buf, f); err != nil || n != int64(peerCutSize) || !bytes.Equal(buf.Bytes(), data[:peerCutSize]) {
		t.Errorf("io.Copy into a bytes.Buffer of a truncated file = %d, %v (%d bytes); want the file's %d bytes", n, err, buf.Len(), peerCutSize)
	}
	dst, err := os.Create(filepath.Join(filepath.Dir(path), "dst"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(dst, f)
	got, _ := os.ReadFile(dst.Name())
	if err != nil || n != int64(peerCutSize) || !bytes.Equal(got, data[:peerCutSize]) {
		t.Errorf("io.Copy into a file of a truncated file = %d, %v (%d bytes); want the file's %d bytes", n, err, len(got), peerCutSize)
	}
}

// TestPeerDescriptorsAfterFault copies into peers that are descriptors —
// a pipe, a unix socket and a TCP socket — while another process
// truncates the mapped file: the error wraps ErrFault and names the mapped
// file, not the peer, and the count is what the peer received.
func TestPeerDescriptorsAfterFault(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		copyToReceiver(t, pw, pw.Close, pr)
	})
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			send, recv := testkit.ConnectedSockets(t, network)
			// Small buffers, so that little of the file is in flight when
			// the receiver has the truncation done.
			type buffered interface {
				SetReadBuffer(int) error
				SetWriteBuffer(int) error
			}
			_ = send.(buffered).SetWriteBuffer(64 << 10)
			_ = recv.(buffered).SetReadBuffer(64 << 10)
			closeWrite := func() error { return send.(interface{ CloseWrite() error }).CloseWrite() }
			copyToReceiver(t, send, closeWrite, recv)
		})
	}
}

// copyToReceiver io.Copies a mapped file into dst, whose other end src is
// read by another goroutine; once it has the first bytes, another process
// truncates the file. closeDst ends the stream after the copy.
func copyToReceiver(t *testing.T, dst io.Writer, closeDst func() error, src io.Reader) {
	t.Helper()
	f, path, data := mappedForPeers(t)
	defer f.Close()
	received := make(chan []byte, 1)
	var cutErr error
	go func() {
		var got bytes.Buffer
		p := make([]byte, 32<<10)
		for {
			n, err := src.Read(p)
			if got.Len() == 0 && n > 0 {
				cutErr = truncateByChild(path, peerCutSize)
			}
			got.Write(p[:n])
			if err != nil {
				break
			}
		}
		received <- got.Bytes()
	}()
	var n int64
	var err error
	if !testkit.Finishes(t, "io.Copy into a descriptor", func() { n, err = io.Copy(dst, f) }) {
		return
	}
	_ = closeDst()
	got := <-received
	if cutErr != nil {
		t.Fatal(cutErr)
	}
	checkFault(t, "io.Copy", err, path)
	checkReceived(t, n, got, data)
}

// countWriter accepts everything but returns the count that lie makes of
// the length asked.
type countWriter struct{ lie func(int) int }

func (w countWriter) Write(p []byte) (int, error) { return w.lie(len(p)), nil }

// countReader returns the bytes of good as they are, then the count that
// lie makes of the length asked.
type countReader struct {
	good []byte
	lie  func(int) int
}

func (r *countReader) Read(p []byte) (int, error) {
	if len(r.good) > 0 {
		n := copy(p, r.good)
		r.good = r.good[n:]
		return n, nil
	}
	return r.lie(len(p)), nil
}

// impossibleCounts are the counts no Read or Write may return.
var impossibleCounts = map[string]func(int) int{
	"n > len(p)": func(n int) int { return n + 1 },
	"n < 0":      func(int) int { return -1 },
}

// TestPeerImpossibleCounts gives WriteTo a writer and ReadFrom a reader
// that return counts outside [0, len(p)]: each returns an error, never a
// panic; ReadFrom keeps exactly the bytes read before; the File works on.
func TestPeerImpossibleCounts(t *testing.T) {
	for name, lie := range impossibleCounts {
		t.Run("WriteTo/"+name, func(t *testing.T) {
			data := testkit.TextPattern(100<<10, 1)
			f, err := mmfile.Open(writeFile(t, "src", data))
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			if p := testkit.Catch(func() { n, err = io.Copy(countWriter{lie}, f) }); p != nil {
				t.Fatalf("io.Copy into a writer returning %s panicked: %v", name, p)
			}
			if err == nil {
				t.Errorf("io.Copy into a writer returning %s = %d, nil; want an error", name, n)
			}
			got := make([]byte, 10)
			if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, data[:10]) {
				t.Errorf("ReadAt afterwards: %v", err)
			}
			if err := f.Close(); err != nil {
				t.Error(err)
			}
		})
		t.Run("ReadFrom/"+name, func(t *testing.T) {
			head := testkit.TextPattern(5000, 1)
			path := writeFile(t, "dst", head)
			f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(0, io.SeekEnd); err != nil {
				t.Fatal(err)
			}
			good := testkit.TextPattern(10, 2)
			var n int64
			if p := testkit.Catch(func() { n, err = f.ReadFrom(&countReader{good: good, lie: lie}) }); p != nil {
				t.Fatalf("ReadFrom of a reader returning %s panicked: %v", name, p)
			}
			if err == nil || n != int64(len(good)) {
				t.Errorf("ReadFrom of a reader returning %s = %d, %v; want %d and an error", name, n, err, len(good))
			}
			stillWorks(t, f, path, append(bytes.Clone(head), good...))
		})
	}
}

// TestPeerPanics has the writer of WriteTo and the reader of a ReadFrom
// inside the file panic: the panic reaches the caller unchanged, and the
// File works on; ReadFrom leaves exactly the bytes read.
func TestPeerPanics(t *testing.T) {
	t.Run("writer", func(t *testing.T) {
		data := testkit.TextPattern(1<<20, 1)
		path := writeFile(t, "src", data)
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		w := &testkit.Panicker{Room: 100 << 10, Boom: errors.New("writer exploded")}
		if p := testkit.Catch(func() { _, _ = io.Copy(w, f) }); p != w.Boom {
			t.Errorf("io.Copy into a panicking writer: panic %v; want the writer's own %v", p, w.Boom)
		}
		stillWorks(t, f, path, data)
	})
	t.Run("reader", func(t *testing.T) {
		data := testkit.TextPattern(64<<10, 1)
		path := writeFile(t, "dst", data)
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		read := testkit.TextPattern(5000, 2)
		r := &panicReader{chunks: [][]byte{read[:3000], read[3000:]}, boom: errors.New("reader exploded")}
		if p := testkit.Catch(func() { _, _ = f.ReadFrom(r) }); p != r.boom {
			t.Errorf("ReadFrom of a panicking reader: panic %v; want the reader's own %v", p, r.boom)
		}
		want := append(bytes.Clone(read), data[len(read):]...)
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Errorf("after the panic the file holds %d bytes, or others than the %d read over its start", len(got), len(read))
		}
		stillWorks(t, f, path, want)
	})
}
