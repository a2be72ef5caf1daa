package mmfile_test

// Growth against the world: other processes that write and grow the same
// file, writers killed mid-copy, readers that stop or panic, full disks,
// huge offsets, memory locks and address-space limits. The size of a file
// on disk never runs ahead of the bytes written, and nothing anyone else
// wrote is ever cut; os.File, doing the same, is the control.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// slotWriters is how many processes share the file of the slot scenario.
const slotWriters = 6

// TestGrowthSlotsFromManyProcesses has six processes open an empty file
// and each io.Copy 1000 bytes, from a pipe or a strings.Reader, into its
// own slot: every slot holds what its process wrote, as with os.File.
func TestGrowthSlotsFromManyProcesses(t *testing.T) {
	dir := t.TempDir()
	for _, impl := range []string{"os", "mmfile"} {
		for _, source := range []string{"pipe", "strings"} {
			t.Run(impl+"/"+source, func(t *testing.T) {
				for round := range testkit.EnvInt("MMAPKIT_GROWTH_ROUNDS", 2) {
					if err := slotRound(dir, impl, source, round); err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
			})
		}
	}
}

// slotRound runs one round of the slot scenario.
func slotRound(dir, impl, source string, round int) error {
	path := filepath.Join(dir, fmt.Sprintf("slots-%s-%s-%d", impl, source, round))
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return err
	}
	defer os.Remove(path)
	var procs []*testkit.Talker
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	for slot := range slotWriters {
		// Every process has the file open, empty, before any writes.
		p, err := talk(child("slot-copy", path, "MMAPKIT_TEST_IMPL="+impl, "MMAPKIT_TEST_SOURCE="+source,
			"MMAPKIT_TEST_SLOT="+strconv.Itoa(slot), "MMAPKIT_TEST_ROUND="+strconv.Itoa(round)), "open")
		if err != nil {
			return fmt.Errorf("process %d: %v", slot, err)
		}
		procs = append(procs, p)
	}
	var wg sync.WaitGroup
	for slot, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if source == "pipe" {
				_, _ = p.Stdin.Write(slotBytes(slot, round))
			}
			_ = p.Stdin.Close()
		}()
	}
	wg.Wait()
	for slot, p := range procs {
		if err := p.Cmd.Wait(); err != nil {
			return fmt.Errorf("process %d: %v: %s", slot, err, p.Stderr())
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var lost []string
	for slot := range slotWriters {
		end := min(len(got), (slot+1)*slotSpan)
		have := got[min(len(got), slot*slotSpan):end]
		if !bytes.Equal(have, slotBytes(slot, round)) {
			lost = append(lost, fmt.Sprintf("slot %d (%d of its bytes there, %d NUL)", slot, len(have), bytes.Count(have, []byte{0})))
		}
	}
	if len(got) != slotWriters*slotSpan || len(lost) > 0 {
		return fmt.Errorf("file holds %d bytes, want %d; lost or wrong: %s", len(got), slotWriters*slotSpan, strings.Join(lost, ", "))
	}
	return nil
}

// TestGrowthKilledCopy kills a process in the middle of an io.Copy of a
// slow stream into a file: while it runs and after it dies, the file holds
// exactly a prefix of what was sent, never more and never NUL padding, as
// with os.File.
func TestGrowthKilledCopy(t *testing.T) {
	dir := t.TempDir()
	for _, impl := range []string{"os", "mmfile"} {
		t.Run(impl, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for round := range testkit.EnvInt("MMAPKIT_GROWTH_ROUNDS", 2) {
				if err := killedCopyRound(filepath.Join(dir, impl), impl, round, rng); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		})
	}
}

// killedCopyRound feeds a child's io.Copy a few chunks through a pipe,
// waiting after each until the file shows it (the copy writes what it
// reads), then kills the child, after a chunk it may not have read yet.
func killedCopyRound(path, impl string, round int, rng *rand.Rand) error {
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return err
	}
	p, err := talk(child("slow-copy", path, "MMAPKIT_TEST_IMPL="+impl), "open")
	if err != nil {
		return err
	}
	defer p.Stop()
	stream := testkit.TextPattern(1<<16, round)
	sent := 0
	chunks := 1 + rng.IntN(8)
	for i := range chunks {
		k := 1 + rng.IntN(1500)
		if _, err := p.Stdin.Write(stream[sent : sent+k]); err != nil {
			return fmt.Errorf("feeding the child: %v", err)
		}
		sent += k
		if i == chunks-1 && rng.IntN(2) == 0 {
			break // kill it with this chunk perhaps unread
		}
		for deadline := time.Now().Add(testkit.HangTimeout); ; time.Sleep(time.Millisecond) {
			n, err := prefixOf(path, stream[:sent])
			if err != nil {
				return fmt.Errorf("while the copy runs, %d bytes sent: %v", sent, err)
			}
			if n == sent {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the file holds %d bytes %v after %d were sent", n, testkit.HangTimeout, sent)
			}
		}
	}
	p.Stop() // SIGKILL
	n, err := prefixOf(path, stream[:sent])
	if err != nil {
		return fmt.Errorf("after the kill, %d bytes sent: %v", sent, err)
	}
	// Nothing is reserved ahead of an append: the file holds no block
	// past the pages of its data.
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return err
	}
	if held, data := st.Blocks*512, (int64(n)+4095)/4096*4096; held > data {
		return fmt.Errorf("after the kill the file of %d bytes holds %d bytes of blocks", n, held)
	}
	return nil
}

// prefixOf returns the size of the file at path, or an error if it is not
// a prefix of sent.
func prefixOf(path string, sent []byte) (int, error) {
	got, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(got) > len(sent) {
		return 0, fmt.Errorf("file holds %d bytes, %d more than were sent (%d of its bytes NUL)",
			len(got), len(got)-len(sent), bytes.Count(got, []byte{0}))
	}
	if !bytes.Equal(got, sent[:len(got)]) {
		return 0, fmt.Errorf("file's %d bytes differ from those sent (%d of them NUL)", len(got), bytes.Count(got, []byte{0}))
	}
	return len(got), nil
}

// openAtEnd opens a file holding head for writing, at its end.
func openAtEnd(t *testing.T, head []byte) (*mmfile.File, string) {
	t.Helper()
	path := writeFile(t, "file", head)
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	return f, path
}

// gatedReader returns the chunks the test hands it, one Read at a time,
// and tells the test when a Read waits for the next one.
type gatedReader struct {
	chunks  chan []byte   // closed: end of stream
	waiting chan struct{} // a Read waits for a chunk
	pending []byte
}

func newGatedReader() *gatedReader {
	return &gatedReader{chunks: make(chan []byte, 4), waiting: make(chan struct{}, 1)}
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if len(r.pending) == 0 {
		r.waiting <- struct{}{}
		c, ok := <-r.chunks
		if !ok {
			return 0, io.EOF
		}
		r.pending = c
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// TestGrowthReadFromCutByClose closes a File while its growing ReadFrom
// waits in the reader's Read: Close does not wait for the reader, the
// file holds exactly the bytes read (also while it waits), and ReadFrom
// returns their count with fs.ErrClosed.
func TestGrowthReadFromCutByClose(t *testing.T) {
	for _, initial := range []int{0, 5000} {
		t.Run(strconv.Itoa(initial), func(t *testing.T) {
			head := testkit.TextPattern(initial, 9)
			f, path := openAtEnd(t, head)
			data := testkit.TextPattern(3000, 4)
			r := newGatedReader()
			type result struct {
				n   int64
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := f.ReadFrom(r)
				done <- result{n, err}
			}()
			<-r.waiting
			r.chunks <- data
			<-r.waiting // it has taken all of data and asks for more
			want := append(bytes.Clone(head), data...)
			if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
				t.Errorf("while ReadFrom waits after %d bytes, the file holds %d bytes (%d NUL); want %d",
					len(data), len(got), bytes.Count(got, []byte{0}), len(want))
			}
			closed := make(chan error, 1)
			testkit.Finishes(t, "Close while ReadFrom waits in its reader's Read", func() { closed <- f.Close() })
			r.chunks <- testkit.TextPattern(500, 5) // too late: the File is closed
			close(r.chunks)
			var res result
			if !testkit.Finishes(t, "ReadFrom", func() { res = <-done }) {
				return
			}
			if err := <-closed; err != nil {
				t.Errorf("Close: %v", err)
			}
			if res.n != int64(len(data)) || !errors.Is(res.err, fs.ErrClosed) {
				t.Errorf("ReadFrom = %d, %v; want %d, fs.ErrClosed", res.n, res.err, len(data))
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
				t.Errorf("after Close the file holds %d bytes (%d NUL); want exactly the %d read",
					len(got), bytes.Count(got, []byte{0}), len(want))
			}
		})
	}
}

// panicReader returns its chunks, then panics with boom.
type panicReader struct {
	chunks [][]byte
	boom   error
}

func (r *panicReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		panic(r.boom)
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// TestGrowthReadFromPanics has the reader of a growing ReadFrom panic
// after some bytes: the panic reaches the caller unchanged, the file holds
// exactly the bytes read, and the File works on (no lock is left held).
func TestGrowthReadFromPanics(t *testing.T) {
	for _, initial := range []int{0, 5000} {
		t.Run(strconv.Itoa(initial), func(t *testing.T) {
			head := testkit.TextPattern(initial, 9)
			f, path := openAtEnd(t, head)
			data := testkit.TextPattern(2100, 6)
			r := &panicReader{chunks: [][]byte{data[:700], data[700:1400], data[1400:]}, boom: errors.New("reader exploded")}
			var recovered any
			if !testkit.Finishes(t, "ReadFrom of a panicking reader", func() {
				defer func() { recovered = recover() }()
				_, _ = f.ReadFrom(r)
			}) {
				return
			}
			if recovered != r.boom {
				t.Errorf("ReadFrom's panic = %v; want the reader's own %v", recovered, r.boom)
			}
			want := append(bytes.Clone(head), data...)
			if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
				t.Errorf("after the panic the file holds %d bytes (%d NUL); want exactly the %d read",
					len(got), bytes.Count(got, []byte{0}), len(want))
			}
			stillWorks(t, f, path, want)
		})
	}
}

// stillWorks checks that f, whose file holds want, takes a growing write,
// a read and a Close, without waiting on a lock left held.
func stillWorks(t *testing.T, f *mmfile.File, path string, want []byte) {
	t.Helper()
	testkit.Finishes(t, "WriteAt, ReadAt and Close after the failure", func() {
		if size := f.Size(); size != int64(len(want)) {
			t.Errorf("Size = %d; want %d", size, len(want))
		}
		if _, err := f.WriteAt([]byte("more"), int64(len(want))); err != nil {
			t.Errorf("WriteAt at the end: %v", err)
		}
		got := make([]byte, len(want)+4)
		if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, append(bytes.Clone(want), "more"...)) {
			t.Errorf("ReadAt of the whole file: %v", err)
		}
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if got, _ := os.ReadFile(path); !bytes.Equal(got, append(bytes.Clone(want), "more"...)) {
		t.Errorf("file holds %d bytes; want %d", len(got), len(want)+4)
	}
}

// appendByChild has another process append n bytes of testkit.TextPattern(n, seed)
// to each of paths.
func appendByChild(t *testing.T, n, seed int, paths ...string) {
	t.Helper()
	out, err := child("append", strings.Join(paths, "\n"), "MMAPKIT_TEST_BYTES="+strconv.Itoa(n), "MMAPKIT_TEST_SEED="+strconv.Itoa(seed)).CombinedOutput()
	if err != nil {
		t.Fatalf("appending process: %v: %s", err, out)
	}
}

// TestGrowthNoSpaceKeepsOthersData opens a 1 MiB file on a 4 MiB tmpfs, has
// another process append 2 MiB, and then writes more than the free space:
// far past the end, and onto the end. Each fails with ENOSPC, and the
// other process's 2 MiB are still there, as the File sees too.
func TestGrowthNoSpaceKeepsOthersData(t *testing.T) {
	for _, how := range []string{"WriteAt far past the end", "Write at the end"} {
		t.Run(how, func(t *testing.T) {
			path := filepath.Join(testkit.SmallTmpfs(t, 4<<20), "shared")
			head := testkit.TextPattern(1<<20, 1)
			f := openWith(t, path, head)
			appendByChild(t, 2<<20, 2, path)
			want := append(bytes.Clone(head), testkit.TextPattern(2<<20, 2)...)
			p := testkit.TextPattern(2<<20, 3)
			off := int64(64 << 20)
			var (
				n   int
				err error
			)
			if how == "Write at the end" {
				if off, err = f.Seek(0, io.SeekEnd); err != nil || off != int64(len(want)) {
					t.Fatalf("Seek to the end = %d, %v; want %d, where the other process left it", off, err, len(want))
				}
				n, err = f.Write(p)
			} else {
				n, err = f.WriteAt(p, off)
			}
			if !errors.Is(err, unix.ENOSPC) {
				t.Errorf("writing 2 MiB with 1 MiB free = %d, %v; want ENOSPC", n, err)
			}
			got, _ := os.ReadFile(path)
			if len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
				t.Fatalf("the file holds %d bytes; the other process's 2 MiB after the first 1 MiB are gone or changed", len(got))
			}
			if n == 0 && len(got) != len(want) {
				t.Errorf("a write that wrote nothing left the file at %d bytes; it was %d", len(got), len(want))
			}
			if n > 0 && (int64(len(got)) != off+int64(n) || !bytes.Equal(got[off:], p[:n])) {
				t.Errorf("a write of %d bytes at %d left the file at %d bytes", n, off, len(got))
			}
			b := make([]byte, 4096)
			if _, err := f.ReadAt(b, 1<<20); err != nil || !bytes.Equal(b, want[1<<20:1<<20+4096]) {
				t.Errorf("ReadAt where the other process wrote: %v, or other bytes", err)
			}
		})
	}
}

// TestGrowthSmallReadFromNearlyFull copies 14 bytes onto the end of a
// 12 MiB file with 8 MiB free: they fit, so the copy succeeds, by
// ReadFrom and by io.Copy from a pipe.
func TestGrowthSmallReadFromNearlyFull(t *testing.T) {
	path := filepath.Join(testkit.SmallTmpfs(t, 20<<20), "big")
	want := testkit.TextPattern(12<<20, 1)
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if n, err := f.ReadFrom(strings.NewReader("fourteen bytes")); n != 14 || err != nil {
		t.Errorf("ReadFrom of 14 bytes with 8 MiB free = %d, %v", n, err)
	}
	want = append(want, "fourteen bytes"...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = pw.WriteString("and fourteen!!")
		pw.Close()
	}()
	n, err := io.Copy(f, pr)
	pr.Close()
	if n != 14 || err != nil {
		t.Errorf("io.Copy of 14 bytes from a pipe with 8 MiB free = %d, %v", n, err)
	}
	want = append(want, "and fourteen!!"[:n]...)
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Errorf("file holds %d bytes; want %d", len(got), len(want))
	}
}

// TestGrowthHugeEnd writes bytes that end at math.MaxInt64 and at 2^62
// into a small file, on a tmpfs and where fallocate is refused (as on a
// file system without it): each write fails, promptly, leaving the file
// as it was and the File usable. It runs in a child process, killed if it
// hangs.
func TestGrowthHugeEnd(t *testing.T) {
	dir := testkit.SmallTmpfs(t, 16<<20)
	for _, fsys := range []string{"tmpfs", "no-fallocate"} {
		for _, end := range []int64{math.MaxInt64, 1 << 62} {
			t.Run(fmt.Sprintf("%s/%d", fsys, end), func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(dir, fmt.Sprintf("%s-%d", fsys, end))
				if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
					t.Fatal(err)
				}
				env := []string{"MMAPKIT_TEST_END=" + strconv.FormatInt(end, 10)}
				if fsys == "no-fallocate" {
					env = append(env, "MMAPKIT_TEST_NOFALLOCATE=1")
				}
				out, err := runBounded(child("huge-write", path, env...))
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				t.Logf("%s", out)
			})
		}
	}
}

// runBounded runs cmd for its combined output, killing it if it runs
// past testkit.HangTimeout.
func runBounded(cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	hung := time.AfterFunc(testkit.HangTimeout, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	if !hung.Stop() {
		return out.Bytes(), fmt.Errorf("killed after %v: it hangs", testkit.HangTimeout)
	}
	return out.Bytes(), err
}

// TestGrowthAfterLockMemory locks an open File's pages, then grows it by
// Write, WriteAt and io.Copy, as an os.File twin is grown: every growth
// works and the files are equal. The File is opened on its data, or
// created empty and grown to it first, so that its mapping may hold more
// than the data when the lock is taken.
func TestGrowthAfterLockMemory(t *testing.T) {
	head := testkit.TextPattern(16<<10+100, 1)
	for _, how := range []string{"opened", "grown"} {
		t.Run(how, func(t *testing.T) {
			path, twin := writeFile(t, "locked", head), writeFile(t, "twin", head)
			f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
			if how == "grown" {
				f, err = mmfile.Create(path, 0)
				if err == nil {
					_, err = f.Write(head)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.LockMemory(); err != nil {
				if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.EAGAIN) {
					t.Skipf("mlock is not permitted here: %v", err)
				}
				t.Fatal(err)
			}
			o, err := os.OpenFile(twin, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			for _, w := range []writerFile{f, o} {
				if _, err := w.Seek(0, io.SeekEnd); err != nil {
					t.Fatal(err)
				}
			}
			chunk := testkit.TextPattern(4096, 2)
			for i := range 300 {
				if _, err := f.Write(chunk); err != nil {
					t.Fatalf("append %d after LockMemory: %v", i, err)
				}
				_, _ = o.Write(chunk)
			}
			end := int64(len(head) + 300*len(chunk))
			if _, err := f.WriteAt(chunk, end+1<<20); err != nil {
				t.Fatalf("WriteAt past the end after LockMemory: %v", err)
			}
			_, _ = o.WriteAt(chunk, end+1<<20)
			for _, w := range []writerFile{f, o} {
				if _, err := w.Seek(0, io.SeekEnd); err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(w, struct{ io.Reader }{bytes.NewReader(testkit.TextPattern(200<<10, 3))}); err != nil {
					t.Fatalf("io.Copy onto the end after LockMemory: %v", err)
				}
			}
			if err := f.UnlockMemory(); err != nil {
				t.Errorf("UnlockMemory: %v", err)
			}
			got, _ := os.ReadFile(path)
			want, _ := os.ReadFile(twin)
			if !bytes.Equal(got, want) {
				t.Fatalf("file holds %d bytes, its os.File twin %d", len(got), len(want))
			}
		})
	}
}

// TestGrowthLockOptionUnprivileged opens a file with the LockMemory option
// as the user nobody under ulimit -l 64 (KiB), and grows it to over 3 MiB:
// the option locks what was mapped at the open, not the growth, so the
// limit does not stop it.
func TestGrowthLockOptionUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running a child process as another user needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody on this machine: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	// The test binary and the file, where nobody can reach them.
	dir, err := os.MkdirTemp("", "mmapkit-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "test")
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "locked")
	if err := os.WriteFile(path, testkit.TextPattern(16<<10, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, bin, path} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `ulimit -l 64 && exec "$0"`, bin)
	cmd.Env = testkit.JobEnviron("lock-grow", pathEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child as nobody under ulimit -l 64: %v\n%s", err, out)
	}
}

// TestGrowthUnderAddressSpaceLimit appends 1 GiB + 64 MiB, 1 MiB at a
// time, in a child whose RLIMIT_AS leaves 1.5 GiB above what it has
// mapped (ulimit -v): os.File gets there, and so must a File. The files
// live on a tmpfs the test mounts and removes.
func TestGrowthUnderAddressSpaceLimit(t *testing.T) {
	const size = 1<<30 + 64<<20
	dir := testkit.SmallTmpfs(t, 1200<<20)
	for _, impl := range []string{"os", "mmfile"} {
		t.Run(impl, func(t *testing.T) {
			path := filepath.Join(dir, impl)
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(path)
			out, err := runBounded(child("as-grow", path, "MMAPKIT_TEST_IMPL="+impl, "MMAPKIT_TEST_BYTES="+strconv.Itoa(size)))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			t.Logf("%s", out)
			if got := fileSize(t, path); got != size {
				t.Fatalf("file holds %d bytes; want %d", got, size)
			}
			last := make([]byte, 1<<20)
			o, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if _, err := o.ReadAt(last, size-1<<20); err != nil || !bytes.Equal(last, testkit.TextPattern(1<<20, 3)) {
				t.Fatalf("the last MiB is not what was appended (%v)", err)
			}
		})
	}
}

// TestExternalGrowth has another process append to a file that a File and
// an os.File twin hold open: Size, Seek to the end, Read and ReadAt at the
// old end, io.Copy from there, a write past the old end and an append after
// Seek to the end all see the new bytes, as the os.File does.
func TestExternalGrowth(t *testing.T) {
	type probe struct {
		name   string
		write  bool
		before func(r probed) // before the other process appends
		after  func(r probed, old int64) string
	}
	probes := []probe{
		{name: "Size", after: func(r probed, _ int64) string { return fmt.Sprint(r.size()) }},
		{name: "Seek end", after: func(r probed, _ int64) string {
			pos, err := r.Seek(0, io.SeekEnd)
			return fmt.Sprintf("%d %s", pos, errKind(err))
		}},
		{name: "Read at old end", before: readToEnd, after: func(r probed, _ int64) string {
			p := make([]byte, 8192)
			n, err := r.Read(p)
			return fmt.Sprintf("%d %s %q", n, errKind(err), p[:n])
		}},
		{name: "ReadAt old end", after: func(r probed, old int64) string {
			p := make([]byte, 8192)
			n, err := r.ReadAt(p, old)
			return fmt.Sprintf("%d %s %q", n, errKind(err), p[:n])
		}},
		{name: "io.Copy from old end", before: readToEnd, after: func(r probed, _ int64) string {
			var b bytes.Buffer
			n, err := io.Copy(&b, r)
			return fmt.Sprintf("%d %s %q", n, errKind(err), b.Bytes())
		}},
		{name: "WriteAt past old end", write: true, after: func(r probed, old int64) string {
			n, err := r.(io.WriterAt).WriteAt([]byte("written past the old end"), old+4000)
			return fmt.Sprintf("%d %s", n, errKind(err))
		}},
		{name: "Write after Seek end", write: true, after: func(r probed, _ int64) string {
			pos, err := r.Seek(0, io.SeekEnd)
			n, werr := r.(io.Writer).Write([]byte("appended"))
			return fmt.Sprintf("%d %s %d %s", pos, errKind(err), n, errKind(werr))
		}},
	}
	// Every case is set up first, so that one other process appends to
	// all the files.
	type growthCase struct {
		name      string
		probe     probe
		old       int64
		m, o      probed
		mpath, op string
	}
	dir := t.TempDir()
	var cases []growthCase
	var paths []string
	for _, pr := range probes {
		for _, writable := range []bool{true, false} {
			if pr.write && !writable {
				continue
			}
			for _, initial := range []int{0, 5000, 8192} {
				c := growthCase{name: fmt.Sprintf("%s/%s/%d", pr.name, map[bool]string{true: "rdwr", false: "rdonly"}[writable], initial),
					probe: pr, old: int64(initial)}
				c.mpath = filepath.Join(dir, fmt.Sprintf("mapped%d", len(cases)))
				c.op = filepath.Join(dir, fmt.Sprintf("twin%d", len(cases)))
				flag := os.O_RDONLY
				if writable {
					flag = os.O_RDWR
				}
				head := testkit.TextPattern(initial, 1)
				for _, p := range []string{c.mpath, c.op} {
					if err := os.WriteFile(p, head, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				m, err := mmfile.OpenFile(c.mpath, flag, 0)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { m.Close() })
				c.m, c.o = mmfileProbed{m}, osProbed{openT(t, c.op, flag)}
				if pr.before != nil {
					pr.before(c.m)
					pr.before(c.o)
				}
				cases = append(cases, c)
				paths = append(paths, c.mpath, c.op)
			}
		}
	}
	appendByChild(t, 3000, 7, paths...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, want := c.probe.after(c.m, c.old), c.probe.after(c.o, c.old)
			if got != want {
				t.Errorf("after another process appended 3000 bytes:\nFile:    %.200s\nos.File: %.200s", got, want)
			}
			mb, _ := os.ReadFile(c.mpath)
			ob, _ := os.ReadFile(c.op)
			if !bytes.Equal(mb, ob) {
				t.Errorf("the File's file holds %d bytes, the os.File's %d, or other bytes", len(mb), len(ob))
			}
		})
	}
}

// probed is what TestExternalGrowth asks of a File and of an os.File.
type probed interface {
	io.ReadSeeker
	io.ReaderAt
	size() int64
}

type mmfileProbed struct{ *mmfile.File }

func (p mmfileProbed) size() int64 { return p.Size() }

type osProbed struct{ *os.File }

func (p osProbed) size() int64 {
	fi, err := p.Stat()
	if err != nil {
		return -1
	}
	return fi.Size()
}

func readToEnd(r probed) { _, _ = io.Copy(io.Discard, r) }

// errKind names an error the way both kinds of file share: none, io.EOF,
// or some other.
func errKind(err error) string {
	switch {
	case err == nil:
		return "nil"
	case err == io.EOF:
		return "EOF"
	}
	return "error"
}

// TestAppendAllocatesNothing appends 4 KiB at a time, by Write and by
// WriteAt past the end, and reads each chunk back as it lands: a growth
// that fits the mapping publishes the new size without allocating, as
// os.File's write allocates nothing; only the occasional remap may.
func TestAppendAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	f, err := mmfile.Create(filepath.Join(t.TempDir(), "append"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk, back := bytes.Repeat([]byte{'a'}, 4096), make([]byte, 4096)
	var off int64
	for name, write := range map[string]func() (int, error){
		"Write":   func() (int, error) { return f.Write(chunk) },
		"WriteAt": func() (int, error) { return f.WriteAt(chunk, off) },
	} {
		allocs := testing.AllocsPerRun(2000, func() {
			chunk[0]++
			if _, err := write(); err != nil {
				t.Fatal(err)
			}
			if _, err := f.ReadAt(back, off); err != nil || back[0] != chunk[0] {
				t.Fatalf("%s: read back %q at %d (%v), want %q", name, back[0], off, err, chunk[0])
			}
			off += int64(len(chunk))
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
		})
		if allocs >= 1 {
			t.Errorf("%s: %v allocations per 4 KiB append, want none but the remaps'", name, allocs)
		}
	}
}

// TestHeldReservationReclaimedOnce: under an address-space limit, a new
// mapping first reclaims retired memory when much waits. Memory that a
// Hold keeps reserved cannot be reclaimed, and must not make every later
// mapping collect and wait for it in vain (100 ms each): 20 small files
// opened and closed beside 128 MiB held, in a child under a 64 GiB
// RLIMIT_AS, may take at most 2 collections.
func TestHeldReservationReclaimedOnce(t *testing.T) {
	out, err := child("as-held", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "collections %d", &n); err != nil {
		t.Fatalf("child printed %q", out)
	}
	if n > 2 {
		t.Errorf("%d collections for 20 small files beside a held reservation; want at most 2", n)
	}
}
