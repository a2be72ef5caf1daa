//go:build linux

package bench

// Two-process benchmarks of package ipc against an OS pipe (os.Pipe) and a
// unix socketpair, measured side by side in one run. The peer is this test
// binary run again with ipcChildEnv set to its job.
//
//	BenchmarkIPCStream     1 GiB in 64 KiB writes, the reader copying every
//	                       byte out (impl=ipc, os.Pipe, socketpair), and
//	                       the zero-copy path (impl=ipc-zerocopy: Reserve,
//	                       copy in, Commit; Peek, read every byte in
//	                       place, Release)
//	BenchmarkIPCRoundTrip  64-byte round trips, with p50, p99, p99.9, max
//	                       and mean per round trip as metrics (impl=
//	                       ipc-adaptive, ipc-sleep, ipc-spin, os.Pipe,
//	                       socketpair, and spin-line: a raw two-process
//	                       cache-line ping-pong, the floor of the machine);
//	                       hog=1 runs a CPU hog beside
//	BenchmarkIPCIdle       CPU time per second of an end blocked with
//	                       nothing to do, against a process that sleeps
//	BenchmarkIPCCalls      the calls of both ends in one process, for
//	                       their allocations: the peers of the others run
//	                       half the calls where ReportAllocs cannot see
//
// Run with -benchtime 1000000x for the round trips (a million each) and
// 3x for the stream.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mmapkit/mmapkit/ipc"
	"github.com/mmapkit/mmapkit/shm"
	"golang.org/x/sys/unix"
)

const (
	ipcChildEnv = "MMAPKIT_BENCH_IPC" // the peer's job
	ipcArgEnv   = "MMAPKIT_BENCH_IPC_ARG"
	streamTotal = 1 * gib
	streamChunk = 64 * kib
	ringSize    = 1 * mib
	msgSize     = 64
)

// runIPCChild runs the peer's job and exits, if this process is an ipc
// peer. TestMain calls it first: a job run from init would run on the
// main goroutine while init still locks it to its thread, so that every
// park and yield of the job would hand its thread's P to another thread
// and back, and the benchmarks would time that.
func runIPCChild() {
	job := os.Getenv(ipcChildEnv)
	if job == "" {
		return
	}
	if err := ipcChild(job, os.Getenv(ipcArgEnv)); err != nil {
		fmt.Fprintf(os.Stderr, "ipc bench child %s: %v\n", job, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// fold reads every 8-byte word of b and mixes it into sink, so that a
// zero-copy reader touches every byte without copying it.
var sink atomic.Uint64

func fold(b []byte) {
	var x uint64
	words := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	for _, w := range words {
		x ^= w
	}
	for _, c := range b[len(words)*8:] {
		x ^= uint64(c)
	}
	sink.Add(x)
}

func ipcChild(job, arg string) error {
	if fn, ok := mutexJobs[job]; ok {
		return fn(arg)
	}
	switch job {
	case "hog": // burn a CPU until killed
		for x := 0; ; x++ {
			sink.Add(uint64(x))
		}
	case "stream-read", "stream-zerocopy": // read streamTotal bytes per round, then ack on stdout
		p, err := ipc.OpenNamedPipe(arg)
		if err != nil {
			return err
		}
		r, err := p.Reader()
		if err != nil {
			return err
		}
		buf := make([]byte, streamChunk)
		for {
			for got := 0; got < streamTotal; {
				if job == "stream-read" {
					n, err := r.Read(buf[:min(len(buf), streamTotal-got)])
					if err == io.EOF {
						return nil
					}
					if err != nil {
						return err
					}
					got += n
					continue
				}
				b, err := r.Peek(min(streamChunk, streamTotal-got))
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				fold(b)
				got += len(b)
				if err := r.Release(len(b)); err != nil {
					return err
				}
			}
			os.Stdout.Write([]byte{1})
		}
	case "fd-read": // the same over descriptor 3
		f := os.NewFile(3, "in")
		buf := make([]byte, streamChunk)
		for {
			for got := 0; got < streamTotal; {
				n, err := f.Read(buf[:min(len(buf), streamTotal-got)])
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				got += n
			}
			os.Stdout.Write([]byte{1})
		}
	case "ipc-echo": // echo 64-byte messages from pipe arg+"-ab" to arg+"-ba"
		mode, name, _ := strings.Cut(arg, ":")
		in, err := ipc.OpenNamedPipe(name + "-ab")
		if err != nil {
			return err
		}
		out, err := ipc.OpenNamedPipe(name + "-ba")
		if err != nil {
			return err
		}
		m, _ := strconv.Atoi(mode)
		r, err := in.Reader(ipc.WithWaitMode(ipc.WaitMode(m)))
		if err != nil {
			return err
		}
		w, err := out.Writer(ipc.WithWaitMode(ipc.WaitMode(m)))
		if err != nil {
			return err
		}
		return echo(r, w)
	case "fd-echo": // echo from descriptor 3 to descriptor 4 (or 3, a socket)
		in := os.NewFile(3, "in")
		var out io.Writer = in
		if arg == "pipe" {
			out = os.NewFile(4, "out")
		}
		return echo(in, out)
	case "line-echo": // the raw ping-pong over the memory of descriptor 3
		f := os.NewFile(3, "shared")
		b, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return err
		}
		ping, pong := (*uint64)(unsafe.Pointer(&b[0])), (*uint64)(unsafe.Pointer(&b[128]))
		for want := uint64(1); ; want++ {
			for {
				v := atomic.LoadUint64(ping)
				if v == ^uint64(0) {
					return nil
				}
				if v == want {
					break
				}
			}
			atomic.StoreUint64(pong, want)
		}
	case "idle-read", "idle-write", "idle-sleep": // wait idle for arg seconds
		secs, _ := strconv.Atoi(arg[:1])
		name := arg[2:]
		p, err := ipc.OpenNamedPipe(name)
		if err != nil {
			return err
		}
		d := time.Duration(secs) * time.Second
		switch job {
		case "idle-read":
			r, err := p.Reader()
			if err != nil {
				return err
			}
			r.SetReadDeadline(time.Now().Add(d))
			if _, err := r.Read(make([]byte, 1)); !os.IsTimeout(err) {
				return fmt.Errorf("idle read: %v", err)
			}
		case "idle-write":
			w, err := p.Writer()
			if err != nil {
				return err
			}
			w.Write(make([]byte, p.Capacity())) // fills the ring
			w.SetWriteDeadline(time.Now().Add(d))
			if _, err := w.Write(make([]byte, 1)); !os.IsTimeout(err) {
				return fmt.Errorf("idle write: %v", err)
			}
		default:
			time.Sleep(d)
		}
		return nil
	}
	return fmt.Errorf("unknown job %q", job)
}

func echo(r io.Reader, w io.Writer) error {
	buf := make([]byte, msgSize)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

// ipcPeer starts the peer doing job with arg; extra files become
// descriptors 3 and up.
func ipcPeer(b *testing.B, job, arg string, extra ...*os.File) (*exec.Cmd, *bufio.Reader) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), ipcChildEnv+"="+job, ipcArgEnv+"="+arg)
	cmd.ExtraFiles = extra
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, bufio.NewReader(out)
}

var pipeSeq atomic.Int64

func pipeName() string {
	return fmt.Sprintf("mmapkit-bench-ipc-%d-%d", os.Getpid(), pipeSeq.Add(1))
}

// namedPipe makes a named pipe of the given capacity, removed when the
// benchmark ends.
func namedPipe(b *testing.B, name string, capacity int64) *ipc.Pipe {
	b.Helper()
	p, err := ipc.CreateNamedPipe(name, capacity)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func socketpair(b *testing.B) (*os.File, *os.File) {
	b.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	return os.NewFile(uintptr(fds[0]), "sock0"), os.NewFile(uintptr(fds[1]), "sock1")
}

// osFileConn makes a socket file a net.Conn, as Go programs use sockets.
func osFileConn(b *testing.B, f *os.File) net.Conn {
	b.Helper()
	c, err := net.FileConn(f)
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	return c
}

func BenchmarkIPCStream(b *testing.B) {
	src := make([]byte, streamChunk)
	fill(src, 0)
	// stream sends streamTotal bytes with write, then waits for the
	// peer's acknowledgement that it has read them all.
	stream := func(b *testing.B, write func([]byte) error, ack *bufio.Reader) {
		b.SetBytes(streamTotal)
		b.ReportAllocs()
		for b.Loop() {
			for sent := 0; sent < streamTotal; sent += streamChunk {
				if err := write(src); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := ack.ReadByte(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("impl=ipc", func(b *testing.B) {
		name := pipeName()
		p := namedPipe(b, name, ringSize)
		w, err := p.Writer()
		if err != nil {
			b.Fatal(err)
		}
		_, ack := ipcPeer(b, "stream-read", name)
		stream(b, func(s []byte) error { _, err := w.Write(s); return err }, ack)
	})
	b.Run("impl=ipc-zerocopy", func(b *testing.B) {
		name := pipeName()
		p := namedPipe(b, name, ringSize)
		w, err := p.Writer()
		if err != nil {
			b.Fatal(err)
		}
		_, ack := ipcPeer(b, "stream-zerocopy", name)
		stream(b, func(s []byte) error {
			for len(s) > 0 {
				room, err := w.Reserve(len(s))
				if err != nil {
					return err
				}
				n := copy(room, s)
				if err := w.Commit(n); err != nil {
					return err
				}
				s = s[n:]
			}
			return nil
		}, ack)
	})
	b.Run("impl=os.Pipe", func(b *testing.B) {
		pr, pw, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		defer pw.Close()
		_, ack := ipcPeer(b, "fd-read", "", pr)
		pr.Close()
		stream(b, func(s []byte) error { _, err := pw.Write(s); return err }, ack)
	})
	b.Run("impl=socketpair", func(b *testing.B) {
		a, c := socketpair(b)
		_, ack := ipcPeer(b, "fd-read", "", c)
		c.Close()
		conn := osFileConn(b, a)
		defer conn.Close()
		stream(b, func(s []byte) error { _, err := conn.Write(s); return err }, ack)
	})
}

// roundTrips times b.N round trips of a 64-byte message through rt and
// reports the distribution per round trip.
func roundTrips(b *testing.B, rt func(msg []byte) error) {
	msg := make([]byte, msgSize)
	for range 1000 { // warm up both processes
		if err := rt(msg); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]int64, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if err := rt(msg); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, int64(time.Since(t0)))
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))]) }
	var sum int64
	for _, l := range lat {
		sum += l
	}
	b.ReportMetric(q(0.5), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
	b.ReportMetric(q(0.999), "p99.9-ns")
	b.ReportMetric(float64(lat[len(lat)-1]), "max-ns")
	b.ReportMetric(float64(sum)/float64(len(lat)), "mean-ns")
}

func BenchmarkIPCRoundTrip(b *testing.B) {
	for _, hog := range []bool{false, true} {
		hogName := "hog=0"
		if hog {
			hogName = "hog=1"
		}
		b.Run(hogName, func(b *testing.B) {
			if hog {
				// One spinning process beside the two that ping-pong:
				// three runnable on two CPUs.
				ipcPeer(b, "hog", "")
			}
			for _, m := range []struct {
				name string
				mode ipc.WaitMode
			}{{"ipc-adaptive", ipc.Adaptive}, {"ipc-sleep", ipc.SleepOnly}, {"ipc-spin", ipc.SpinOnly}} {
				if hog && m.mode == ipc.SpinOnly {
					continue // spinning against a hog measures the scheduler's time slice
				}
				b.Run("impl="+m.name, func(b *testing.B) {
					name := pipeName()
					ab, ba := namedPipe(b, name+"-ab", 4096), namedPipe(b, name+"-ba", 4096)
					w, err := ab.Writer(ipc.WithWaitMode(m.mode))
					if err != nil {
						b.Fatal(err)
					}
					r, err := ba.Reader(ipc.WithWaitMode(m.mode))
					if err != nil {
						b.Fatal(err)
					}
					ipcPeer(b, "ipc-echo", strconv.Itoa(int(m.mode))+":"+name)
					defer w.Close()
					roundTrips(b, func(msg []byte) error {
						if _, err := w.Write(msg); err != nil {
							return err
						}
						_, err := io.ReadFull(r, msg)
						return err
					})
				})
			}
			b.Run("impl=os.Pipe", func(b *testing.B) {
				ar, aw, _ := os.Pipe()
				br, bw, _ := os.Pipe()
				ipcPeer(b, "fd-echo", "pipe", ar, bw)
				ar.Close()
				bw.Close()
				defer aw.Close()
				roundTrips(b, func(msg []byte) error {
					if _, err := aw.Write(msg); err != nil {
						return err
					}
					_, err := io.ReadFull(br, msg)
					return err
				})
			})
			b.Run("impl=socketpair", func(b *testing.B) {
				a, c := socketpair(b)
				ipcPeer(b, "fd-echo", "socket", c)
				c.Close()
				conn := osFileConn(b, a)
				defer conn.Close()
				roundTrips(b, func(msg []byte) error {
					if _, err := conn.Write(msg); err != nil {
						return err
					}
					_, err := io.ReadFull(conn, msg)
					return err
				})
			})
			if hog {
				return
			}
			b.Run("impl=spin-line", func(b *testing.B) {
				s, err := shm.CreateAnonymous(4096)
				if err != nil {
					b.Skipf("no memfd: %v", err)
				}
				defer s.Close()
				f, err := s.File()
				if err != nil {
					b.Fatal(err)
				}
				ipcPeer(b, "line-echo", "", f)
				f.Close()
				mem := s.Bytes()
				ping, pong := (*uint64)(unsafe.Pointer(&mem[0])), (*uint64)(unsafe.Pointer(&mem[128]))
				var seq uint64
				defer atomic.StoreUint64(ping, ^uint64(0))
				roundTrips(b, func([]byte) error {
					seq++
					atomic.StoreUint64(ping, seq)
					for atomic.LoadUint64(pong) != seq {
					}
					return nil
				})
			})
		})
	}
}

// BenchmarkIPCIdle measures the CPU time that an end blocked with nothing
// to do costs per second (a reader on an empty ring, a writer on a full
// one), less that of a process that attaches nothing and sleeps as long.
func BenchmarkIPCIdle(b *testing.B) {
	const secs = 3
	cpu := func(b *testing.B, job, name string) time.Duration {
		cmd, _ := ipcPeer(b, job, strconv.Itoa(secs)+":"+name)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("%s: %v", job, err)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, job := range []string{"idle-read", "idle-write"} {
		b.Run("end="+job[len("idle-"):]+"/impl=ipc", func(b *testing.B) {
			var idle, base time.Duration
			for b.Loop() {
				name := pipeName()
				p, err := ipc.CreateNamedPipe(name, 4096)
				if err != nil {
					b.Fatal(err)
				}
				// A live peer that does nothing.
				if job == "idle-read" {
					_, err = p.Writer()
				} else {
					_, err = p.Reader()
				}
				if err != nil {
					b.Fatal(err)
				}
				idle += cpu(b, job, name)
				base += cpu(b, "idle-sleep", name)
				p.Close()
			}
			n := float64(b.N) * secs
			b.ReportMetric(float64(idle-base)/1e6/n, "cpu-ms/s")
			b.ReportMetric(float64(idle)/1e6/n, "cpu-ms/s-total")
		})
	}
}

// BenchmarkIPCCalls makes each call of the io path in one process, the
// writer and the reader on the same named pipe taking turns, so that
// allocs/op counts the allocations of the calls themselves: the
// two-process benchmarks above see only the calls of the parent's end.
// One operation is one call of each method named in calls=.
func BenchmarkIPCCalls(b *testing.B) {
	calls := []struct {
		name string
		op   func(w *ipc.Writer, r *ipc.Reader, buf []byte) error
	}{
		{"Write+Read", func(w *ipc.Writer, r *ipc.Reader, buf []byte) error {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			_, err := io.ReadFull(r, buf)
			return err
		}},
		{"Reserve+Commit+Peek+Release", func(w *ipc.Writer, r *ipc.Reader, buf []byte) error {
			room, err := w.Reserve(len(buf))
			if err != nil {
				return err
			}
			if err := w.Commit(copy(room, buf)); err != nil {
				return err
			}
			got, err := r.Peek(len(buf))
			if err != nil {
				return err
			}
			return r.Release(len(got))
		}},
	}
	for _, c := range calls {
		b.Run("calls="+c.name+"/impl=ipc", func(b *testing.B) {
			p := namedPipe(b, pipeName(), 4096)
			w, err := p.Writer()
			if err != nil {
				b.Fatal(err)
			}
			r, err := p.Reader()
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, msgSize)
			b.SetBytes(msgSize)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.op(w, r, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
