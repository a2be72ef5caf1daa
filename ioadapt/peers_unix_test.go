//go:build unix

package ioadapt_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// mappedRegion writes size bytes of pattern to a file and maps it with
// plain mmap(2), shared, as an IO.
func mappedRegion(t *testing.T, size int) (*ioadapt.IO, string, []byte) {
	t.Helper()
	data := testkit.Pattern(size)
	path := filepath.Join(t.TempDir(), "mapped")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	c := ioadapt.New(mapFile(t, path))
	t.Cleanup(func() { c.Close() })
	return c, path, data
}

// wantFault fails t unless err wraps ErrFault in an *fs.PathError naming
// the mapped file at path, and the peer holds exactly the n bytes counted,
// the file's own.
func wantFault(t *testing.T, err error, path string, n int64, got, data []byte) {
	t.Helper()
	var pe *fs.PathError
	if !errors.Is(err, ioadapt.ErrFault) || !errors.As(err, &pe) || pe.Path != path {
		t.Errorf("copy over a truncated mapping = %v; want an error wrapping ErrFault that names %s", err, path)
	}
	if n != int64(len(got)) || !bytes.Equal(got, data[:min(len(got), len(data))]) {
		t.Errorf("the copy counted %d bytes; the peer holds %d, the file's: %v", n, len(got), bytes.Equal(got, data[:min(len(got), len(data))]))
	}
}

// TestPeersGetNoMappedMemory copies a mapping that can fault into a Go
// writer and from a Go reader: neither is handed the mapped memory, whose
// faults their code could not survive.
func TestPeersGetNoMappedMemory(t *testing.T) {
	c, _, _ := mappedRegion(t, 64<<10)
	mem := c.Bytes()
	w := &holder{}
	if _, err := io.Copy(w, c); err != nil {
		t.Fatal(err)
	}
	r := &holder{}
	if _, err := c.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*holder{"WriteTo's writer": w, "ReadFrom's reader": r} {
		for _, p := range h.got {
			if inside(p, mem) {
				t.Errorf("%s was handed %d bytes of the mapping", name, len(p))
				break
			}
		}
	}
}

// TestPeerBufferAndFileFaultCore copies a mapping whose file another
// process truncated into a bytes.Buffer and into a file: the count is what
// each holds, and the error names the mapped file, not the destination.
func TestPeerBufferAndFileFaultCore(t *testing.T) {
	t.Run("bytes.Buffer", func(t *testing.T) {
		c, path, data := mappedRegion(t, 4<<20)
		if err := truncateByChild(path, 1<<20); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, c)
		wantFault(t, err, path, n, buf.Bytes(), data)
	})
	t.Run("file", func(t *testing.T) {
		c, path, data := mappedRegion(t, 4<<20)
		dst, err := os.Create(filepath.Join(t.TempDir(), "dst"))
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		if err := truncateByChild(path, 1<<20); err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(dst, c)
		got, _ := os.ReadFile(dst.Name())
		wantFault(t, err, path, n, got, data)
	})
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

// TestSocketWriteErrorNamesPeer writes a Region into a TCP and a unix
// socket whose reader has gone: the bytes go to the socket by write(2)
// from the memory, so the error is the system call's, wrapped in an
// *fs.PathError that names the peer as package net's RemoteAddr does.
func TestSocketWriteErrorNamesPeer(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			send, recv := testkit.ConnectedSockets(t, network)
			recv.Close()
			c := ioadapt.New(ioadapt.NewMemory(make([]byte, 1<<20)))
			var err error
			for i := 0; i < 64 && err == nil; i++ {
				if _, err = c.Seek(0, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				_, err = c.WriteTo(send)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Op != "write" || pe.Path != send.RemoteAddr().String() ||
				!errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("WriteTo a socket whose reader closed = %v; want write(2)'s EPIPE or ECONNRESET in an *fs.PathError naming %q",
					err, send.RemoteAddr().String())
			}
		})
	}
}

// ownWrite is a connection with a Write of its own, as a wrapper that
// counts, frames or encrypts the bytes has: it embeds a *net.TCPConn, and
// so its SyscallConn as well.
type ownWrite struct {
	*net.TCPConn
	calls, bytes int
}

func (w *ownWrite) Write(p []byte) (int, error) {
	w.calls++
	w.bytes += len(p)
	return w.TCPConn.Write(p)
}

// TestEmbeddedConnKeepsItsWrite copies a Region into a type that embeds a
// *net.TCPConn: its own Write must see every byte, never be bypassed by a
// write(2) on the descriptor that the embedded SyscallConn gives.
func TestEmbeddedConnKeepsItsWrite(t *testing.T) {
	send, recv := testkit.ConnectedSockets(t, "tcp")
	data := testkit.Pattern(3 << 20)
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(recv)
		got <- b
	}()
	w := &ownWrite{TCPConn: send.(*net.TCPConn)}
	n, err := ioadapt.New(ioadapt.NewMemory(bytes.Clone(data))).WriteTo(w)
	send.(*net.TCPConn).CloseWrite()
	if err != nil || n != int64(len(data)) {
		t.Fatalf("WriteTo = %d, %v; want %d, nil", n, err, len(data))
	}
	if w.bytes != len(data) || w.calls == 0 {
		t.Errorf("the wrapper's Write saw %d bytes in %d calls; want all %d", w.bytes, w.calls, len(data))
	}
	if b := <-got; !bytes.Equal(b, data) {
		t.Errorf("the reader got %d bytes, not the Region's %d", len(b), len(data))
	}
}
