//go:build linux

package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// A peer is a program in another language that joins pipes following
// docs/ipc-layout.md: testdata/peer.c and testdata/peer.py.
type peer struct {
	name string
	argv []string // the command, before its arguments
}

// interopPeers builds the C pipe peer and finds Python.
func interopPeers(t *testing.T) []peer { return buildPeers(t, "peer") }

// buildPeers builds testdata/NAME.c and finds Python for
// testdata/NAME.py; a peer whose tool is missing is skipped, saying so.
func buildPeers(t *testing.T, name string) []peer {
	t.Helper()
	var peers []peer
	if gcc, err := exec.LookPath("gcc"); err != nil {
		t.Log("no gcc on this machine: the C peer is not run")
	} else {
		bin := filepath.Join(t.TempDir(), name)
		out, err := exec.Command(gcc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", bin, "testdata/"+name+".c").CombinedOutput()
		if err != nil {
			t.Fatalf("building the C peer: %v\n%s", err, out)
		}
		peers = append(peers, peer{"C", []string{bin}})
	}
	if py, err := exec.LookPath("python3"); err != nil {
		t.Log("no python3 on this machine: the Python peer is not run")
	} else {
		peers = append(peers, peer{"Python", []string{py, "testdata/" + name + ".py"}})
	}
	if len(peers) == 0 {
		t.Skip("needs gcc or python3 for the peers in other languages")
	}
	return peers
}

func (p peer) command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.argv[0], append(p.argv[1:], args...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// start runs the peer with args, stdin as its standard input, and its
// standard output collected in the buffer it returns.
func (p peer) start(t *testing.T, stdin io.Reader, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := p.command(args...)
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout = stdin, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// encodeRecords writes records as the peers read and write them on their
// standard streams: a 4-byte little-endian length, then the bytes.
func encodeRecords(recs [][]byte) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		binary.Write(&b, binary.LittleEndian, uint32(len(r)))
		b.Write(r)
	}
	return b.Bytes()
}

func decodeRecords(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var recs [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("%d stray bytes after %d records", len(b), len(recs))
		}
		n := binary.LittleEndian.Uint32(b)
		if uint32(len(b)-4) < n {
			t.Fatalf("record %d of %d bytes cut short", len(recs), n)
		}
		recs = append(recs, b[4:4+n])
		b = b[4+n:]
	}
	return recs
}

// TestInterop runs the C and Python peers against Go, each direction,
// bytes and messages, end of stream and broken pipe, and the death of
// either side.
func TestInterop(t *testing.T) {
	peers := interopPeers(t)
	streamData := pattern(0, 1<<20)
	var recs [][]byte
	for i := range 300 {
		recs = append(recs, record(i))
	}
	for _, pr := range peers {
		t.Run(pr.name, func(t *testing.T) {
			t.Run("Go writes bytes", func(t *testing.T) {
				p, region := namedPipe(t, 1<<16)
				cmd, out := pr.start(t, nil, "read", "/dev/shm/"+region[len("shm:"):])
				w, err := p.Writer()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write(streamData); err != nil {
					t.Fatal(err)
				}
				w.Close()
				within(t, "the peer reading", func() {
					if err := cmd.Wait(); err != nil {
						t.Fatalf("peer: %v", err)
					}
				})
				if !bytes.Equal(out.Bytes(), streamData) {
					t.Fatalf("the peer read %d bytes that differ from the %d written", out.Len(), len(streamData))
				}
			})
			t.Run("peer writes bytes", func(t *testing.T) {
				p, region := namedPipe(t, 1<<16)
				r, err := p.Reader()
				if err != nil {
					t.Fatal(err)
				}
				cmd, _ := pr.start(t, bytes.NewReader(streamData), "write", "/dev/shm/"+region[len("shm:"):])
				got, err := io.ReadAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Wait(); err != nil {
					t.Fatalf("peer: %v", err)
				}
				if !bytes.Equal(got, streamData) {
					t.Fatalf("read %d bytes that differ from the %d the peer wrote", len(got), len(streamData))
				}
			})
			t.Run("Go writes messages", func(t *testing.T) {
				p, region := namedPipe(t, 1<<13, Messages())
				cmd, out := pr.start(t, nil, "read", "/dev/shm/"+region[len("shm:"):])
				w, err := p.Writer()
				if err != nil {
					t.Fatal(err)
				}
				for _, rec := range recs {
					if _, err := w.Write(rec); err != nil {
						t.Fatal(err)
					}
				}
				w.Close()
				within(t, "the peer reading", func() {
					if err := cmd.Wait(); err != nil {
						t.Fatalf("peer: %v", err)
					}
				})
				got := decodeRecords(t, out.Bytes())
				if len(got) != len(recs) {
					t.Fatalf("the peer read %d records, %d were written", len(got), len(recs))
				}
				for i := range recs {
					if !bytes.Equal(got[i], recs[i]) {
						t.Fatalf("record %d differs", i)
					}
				}
			})
			t.Run("peer writes messages", func(t *testing.T) {
				p, region := namedPipe(t, 1<<13, Messages())
				r, err := p.Reader()
				if err != nil {
					t.Fatal(err)
				}
				cmd, _ := pr.start(t, bytes.NewReader(encodeRecords(recs)), "write", "/dev/shm/"+region[len("shm:"):])
				buf := make([]byte, p.MaxMessage())
				for i, want := range recs {
					n, err := r.Read(buf)
					if err != nil || !bytes.Equal(buf[:n], want) {
						t.Fatalf("record %d: %d bytes, %v", i, n, err)
					}
				}
				if _, err := r.Read(buf); err != io.EOF {
					t.Fatalf("after the last record: %v", err)
				}
				if err := cmd.Wait(); err != nil {
					t.Fatalf("peer: %v", err)
				}
			})
			t.Run("peer closes early", func(t *testing.T) {
				p, region := namedPipe(t, 1<<12)
				cmd, out := pr.start(t, nil, "read", "/dev/shm/"+region[len("shm:"):], "1000")
				w, err := p.Writer()
				if err != nil {
					t.Fatal(err)
				}
				within(t, "writing to a peer that stops reading", func() {
					_, err = w.Write(streamData)
				})
				wantErr(t, err, syscall.EPIPE, "the reader closed")
				if err := cmd.Wait(); err != nil {
					t.Fatalf("peer: %v", err)
				}
				if !bytes.Equal(out.Bytes(), streamData[:1000]) {
					t.Fatalf("the peer read %d bytes", out.Len())
				}
			})
			t.Run("peer writer killed", func(t *testing.T) {
				p, region := namedPipe(t, 1<<16)
				r, err := p.Reader()
				if err != nil {
					t.Fatal(err)
				}
				cmd := pr.command("write", "/dev/shm/"+region[len("shm:"):], "hold")
				cmd.Stdin = bytes.NewReader(streamData[:5000])
				stdout, _ := cmd.StdoutPipe()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer cmd.Wait()
				defer cmd.Process.Kill()
				if n, err := checkStreamN(r, 0, 5000); err != nil {
					t.Fatalf("read %d bytes: %v", n, err)
				}
				line := make([]byte, 8)
				io.ReadFull(stdout, line)
				errc := make(chan error, 1)
				go func() { _, err := r.Read(make([]byte, 1)); errc <- err }()
				killed := time.Now()
				cmd.Process.Signal(syscall.SIGKILL)
				select {
				case err = <-errc:
				case <-time.After(deathBound):
					t.Fatalf("Read still blocked %v after the %s writer's SIGKILL", deathBound, pr.name)
				}
				t.Logf("ErrPeerDead %v after SIGKILL", time.Since(killed))
				wantErr(t, err, ErrPeerDead, "writer process "+strconv.Itoa(cmd.Process.Pid))
			})
			t.Run("Go writer killed", func(t *testing.T) {
				p, region := namedPipe(t, 1<<16)
				c := startChild(t, "write", region, "from=0,count=5000,chunk=999,hold=1")
				c.expect("ready")
				cmd, out := pr.start(t, nil, "read", "/dev/shm/"+region[len("shm:"):])
				c.expect("written")
				c.kill()
				var err error
				within(t, "the peer reading from a dead writer", func() { err = cmd.Wait() })
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 3 {
					t.Fatalf("peer: %v, want exit status 3 (peer dead)", err)
				}
				if !bytes.Equal(out.Bytes(), streamData[:5000]) {
					t.Fatalf("the peer read %d bytes before the death, want 5000", out.Len())
				}
				p.Close()
			})
		})
	}
}
