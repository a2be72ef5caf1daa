package mmfile_test

// The other processes of the growth, peer and fault tests: the test
// binary re-run with MMAPKIT_TEST_JOB naming one of growthJobs. Each job
// does its part and exits; a failure is its exit status and a message on
// stderr.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// talk starts cmd, a child process to talk to, and waits for its first
// line, which must be first.
func talk(cmd *exec.Cmd, first string) (*testkit.Talker, error) {
	p, err := testkit.Talk(cmd)
	if err != nil {
		return nil, err
	}
	if err := p.Expect(first); err != nil {
		return nil, err
	}
	return p, nil
}

// writerFile is what the copying jobs write through: an *mmfile.File, or
// the *os.File that serves as the oracle (MMAPKIT_TEST_IMPL=os).
type writerFile interface {
	io.ReadWriteSeeker
	io.Closer
}

func openForJob(path string) (writerFile, error) {
	if os.Getenv("MMAPKIT_TEST_IMPL") == "os" {
		return os.OpenFile(path, os.O_RDWR, 0)
	}
	return mmfile.OpenFile(path, os.O_RDWR, 0)
}

func envInt64(name string) int64 {
	n, _ := strconv.ParseInt(os.Getenv(name), 10, 64)
	return n
}

// growthJobs are the other processes of the growth, peer and fault
// tests, on the file MMAPKIT_TEST_PATH.
var growthJobs = testkit.Jobs{
	// append: append MMAPKIT_TEST_BYTES bytes of textPattern to each path (one a line)
	"append": func() error {
		path := os.Getenv(pathEnv)
		for _, p := range strings.Split(path, "\n") {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			if _, err := f.Write(testkit.TextPattern(int(envInt64("MMAPKIT_TEST_BYTES")), int(envInt64("MMAPKIT_TEST_SEED")))); err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		return nil
	},
	// slot-copy: io.Copy this process's slot of a shared file
	"slot-copy": func() error {
		path := os.Getenv(pathEnv)
		return slotCopyJob(path)
	},
	// slow-copy: io.Copy stdin into the file until stdin ends (or a kill)
	"slow-copy": func() error {
		path := os.Getenv(pathEnv)
		f, err := openForJob(path)
		if err != nil {
			return err
		}
		fmt.Println("open")
		if _, err := io.Copy(f, os.Stdin); err != nil {
			return err
		}
		return f.Close()
	},
	"pipe-copy": func() error {
		path := os.Getenv(pathEnv)
		return pipeCopyJob(path)
	},
	"huge-write": func() error {
		path := os.Getenv(pathEnv)
		return hugeWriteJob(path, envInt64("MMAPKIT_TEST_END"))
	},
	"lock-grow": func() error {
		path := os.Getenv(pathEnv)
		return lockGrowJob(path)
	},
	"as-grow": func() error {
		path := os.Getenv(pathEnv)
		return addressSpaceJob(path, envInt64("MMAPKIT_TEST_BYTES"))
	},
	"as-held": func() error {
		return heldReservationJob(os.Getenv(pathEnv))
	},
}

// heldReservationJob sets a generous RLIMIT_AS (64 GiB above what the
// process has mapped), keeps 128 MiB of a File's memory reserved with a
// Hold across a shrink that maps it afresh, then opens and closes 20
// small files with the heap's collections off, and prints how many
// collections that took.
func heldReservationJob(dir string) error {
	_, _, err := limitAddressSpace(64 << 30)
	if err != nil {
		return err
	}
	f, err := mmfile.Create(filepath.Join(dir, "held"), 100<<20)
	if err != nil {
		return err
	}
	defer f.Close()
	_, hold, err := ioadapt.HoldMemory(f)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(hold)
	if err := f.Truncate(50 << 20); err != nil {
		return err
	}
	debug.SetGCPercent(-1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 20 {
		g, err := mmfile.Create(filepath.Join(dir, "small"+strconv.Itoa(i)), 4096)
		if err != nil {
			return err
		}
		if err := g.Close(); err != nil {
			return err
		}
	}
	runtime.ReadMemStats(&after)
	fmt.Println("collections", after.NumGC-before.NumGC)
	return nil
}

// slotSpan is the size of each process's slot in the slot-copy scenario.
const slotSpan = 1000

// slotCopyJob opens the shared file, says so, and once the parent closes
// its stdin (the start for all), io.Copies slotSpan bytes into slot
// MMAPKIT_TEST_SLOT: from a pipe (its stdin) or from a strings.Reader
// whose WriteTo is hidden, so that both go through ReadFrom.
func slotCopyJob(path string) error {
	slot := int(envInt64("MMAPKIT_TEST_SLOT"))
	f, err := openForJob(path)
	if err != nil {
		return err
	}
	if _, err := f.Seek(int64(slot*slotSpan), io.SeekStart); err != nil {
		return err
	}
	fmt.Println("open")
	var src io.Reader = os.Stdin // the parent writes the slot's bytes and closes it
	if os.Getenv("MMAPKIT_TEST_SOURCE") == "strings" {
		if _, err := io.Copy(io.Discard, os.Stdin); err != nil { // the start
			return err
		}
		src = struct{ io.Reader }{strings.NewReader(string(slotBytes(slot, int(envInt64("MMAPKIT_TEST_ROUND")))))}
	}
	n, err := io.Copy(f, src)
	if err != nil {
		return err
	}
	if n != slotSpan {
		return fmt.Errorf("copied %d bytes; want %d", n, slotSpan)
	}
	return f.Close()
}

// slotBytes is what slot writes in round.
func slotBytes(slot, round int) []byte {
	return testkit.TextPattern(slotSpan, slot*1009+round)
}

// pipeResult is what the pipe-copy job reports on its last line.
type pipeResult struct {
	N        int64  // io.Copy's count
	Received int    // what the pipe's reader received
	Intact   bool   // whether the received bytes are the file's
	Err      string // io.Copy's error
	Fault    bool   // whether it wraps ioadapt.ErrFault
}

// pipeCopyJob maps the file (textPattern of its size, seed 0) and
// io.Copies it into an io.Pipe, whose reader is another goroutine. Once
// that reader has received its first bytes it prints "ready" and waits
// for a line on stdin, while the parent truncates the file; then it reads
// on to the end, and the job prints a pipeResult.
func pipeCopyJob(path string) error {
	f, err := mmfile.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	want := testkit.TextPattern(int(f.Size()), 0)
	chunk := max(1, int(envInt64("MMAPKIT_TEST_CHUNK")))
	pr, pw := io.Pipe()
	got := make(chan []byte)
	go func() {
		var b bytes.Buffer
		buf := make([]byte, chunk)
		stdin := bufio.NewReader(os.Stdin)
		waited := false
		for {
			n, err := pr.Read(buf)
			b.Write(buf[:n])
			if !waited && b.Len() > 0 {
				fmt.Println("ready")
				if _, err := stdin.ReadString('\n'); err != nil {
					fmt.Fprintln(os.Stderr, "no go-ahead:", err)
				}
				waited = true
			}
			if err != nil {
				break
			}
		}
		got <- b.Bytes()
	}()
	n, err := io.Copy(pw, f)
	pw.CloseWithError(err)
	received := <-got
	res := pipeResult{N: n, Received: len(received), Intact: bytes.Equal(received, want[:min(len(received), len(want))])}
	if err != nil {
		res.Err, res.Fault = err.Error(), errors.Is(err, ioadapt.ErrFault)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// hugeWriteJob writes 3 bytes that end at end into a file holding
// "0123456789", by WriteAt and by Seek and Write (with fallocate refused
// when MMAPKIT_TEST_NOFALLOCATE is set): each must fail without changing
// the file, and the File must still read, write, grow and close.
func hugeWriteJob(path string, end int64) error {
	if os.Getenv("MMAPKIT_TEST_NOFALLOCATE") != "" {
		if err := refuseFallocate(); err != nil {
			return err
		}
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	p := []byte("far")
	unchanged := func(what string, n int, err error) error {
		fmt.Printf("%s: %d, %v\n", what, n, err)
		if err == nil {
			return fmt.Errorf("%s ending at %d succeeded", what, end)
		}
		if n != 0 {
			return fmt.Errorf("%s ending at %d wrote %d bytes and failed: %v", what, end, n, err)
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != "0123456789" {
			return fmt.Errorf("after %s ending at %d failed, the file holds %d bytes (%v)", what, end, len(got), err)
		}
		return nil
	}
	n, err := f.WriteAt(p, end-int64(len(p)))
	if err := unchanged("WriteAt", n, err); err != nil {
		return err
	}
	if _, err := f.Seek(end-int64(len(p)), io.SeekStart); err != nil {
		return err
	}
	n, err = f.Write(p)
	if err := unchanged("Write", n, err); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte("ab"), 3); err != nil {
		return fmt.Errorf("WriteAt after the failed growth: %v", err)
	}
	got := make([]byte, 10)
	if _, err := f.ReadAt(got, 0); err != nil || string(got) != "012ab56789" {
		return fmt.Errorf("ReadAt after the failed growth = %q, %v", got, err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	if _, err := f.Write([]byte("!")); err != nil {
		return fmt.Errorf("append after the failed growth: %v", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "012ab56789!" {
		return fmt.Errorf("file holds %q (%v); want %q", got, err, "012ab56789!")
	}
	return nil
}

// refuseFallocate makes every fallocate(2) of this process fail with
// EOPNOTSUPP (a seccomp filter on all its threads), which is what a file
// system without fallocate answers; the file stays on a tmpfs of bounded
// size, where a ramfs would let a runaway fill the memory.
func refuseFallocate() error {
	if err := mmfile.RefuseSyscall(unix.SYS_FALLOCATE, unix.EOPNOTSUPP); err != nil {
		return err
	}
	if err := unix.Fallocate(int(os.Stdin.Fd()), 0, 0, 1); !errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("fallocate under the filter = %v; want EOPNOTSUPP", err)
	}
	return nil
}

// lockGrowJob runs as an unprivileged user under a low RLIMIT_MEMLOCK: it
// checks that the limit bites, opens the file with the LockMemory option
// and grows it far past the limit by Write, WriteAt and io.Copy.
func lockGrowJob(path string) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return err
	}
	probe := make([]byte, 4<<20)
	if err := unix.Mlock(probe); err == nil {
		_ = unix.Munlock(probe)
		return fmt.Errorf("mlock of 4 MiB succeeded: RLIMIT_MEMLOCK %d does not bite (uid %d)", lim.Cur, os.Getuid())
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.LockMemory())
	if err != nil {
		return fmt.Errorf("open with LockMemory under RLIMIT_MEMLOCK %d: %v", lim.Cur, err)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	chunk := testkit.TextPattern(4096, 1)
	for i := range 512 {
		if _, err := f.Write(chunk); err != nil {
			return fmt.Errorf("append %d (file at %d bytes): %v", i, len(want), err)
		}
		want = append(want, chunk...)
	}
	if _, err := f.WriteAt(chunk, int64(len(want))+1<<20); err != nil {
		return fmt.Errorf("WriteAt 1 MiB past the end: %v", err)
	}
	want = append(append(want, make([]byte, 1<<20)...), chunk...)
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	more := testkit.TextPattern(256<<10, 2)
	if _, err := io.Copy(f, struct{ io.Reader }{bytes.NewReader(more)}); err != nil {
		return fmt.Errorf("io.Copy onto the end: %v", err)
	}
	want = append(want, more...)
	if err := f.Close(); err != nil {
		return err
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		return fmt.Errorf("file holds %d bytes (%v); want the %d written", len(got), err, len(want))
	}
	return nil
}

// limitAddressSpace sets RLIMIT_AS to what the process has mapped (vm,
// in kB) plus above bytes, and returns vm and the limit.
func limitAddressSpace(above uint64) (vm int64, limit uint64, err error) {
	if vm, err = vmSize(); err != nil {
		return 0, 0, err
	}
	limit = uint64(vm)<<10 + above
	return vm, limit, unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: limit, Max: limit})
}

// addressSpaceJob lowers RLIMIT_AS to what the process has mapped plus
// 1.5 GiB, checks that the limit bites, and appends size bytes to the
// file, 1 MiB at a time.
func addressSpaceJob(path string, size int64) error {
	vm, limit, err := limitAddressSpace(3 << 29)
	if err != nil {
		return err
	}
	if b, err := unix.Mmap(-1, 0, min(2<<30, math.MaxInt), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err == nil {
		_ = unix.Munmap(b)
		return fmt.Errorf("mapped 2 GiB under RLIMIT_AS %d: the limit does not bite", limit)
	}
	f, err := openForJob(path)
	if err != nil {
		return err
	}
	chunk := testkit.TextPattern(1<<20, 3)
	start := time.Now()
	for written := int64(0); written < size; written += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			return fmt.Errorf("append at %d bytes under RLIMIT_AS (1.5 GiB above the %d kB mapped): %v", written, vm, err)
		}
	}
	fmt.Printf("appended %d bytes in %v\n", size, time.Since(start))
	return f.Close()
}

// vmSize returns what this process has mapped, in kB (VmSize in
// /proc/self/status).
func vmSize() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmSize in /proc/self/status")
}
