package mmfile_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// pathEnv carries the file a job works on.
const pathEnv = "MMAPKIT_TEST_PATH"

// TestMain lets the test binary serve as the other process of
// cross-process tests: with a job named it does that job and exits
// instead of running tests.
func TestMain(m *testing.M) {
	testkit.Serve(jobs, growthJobs, attackJobs)
	os.Exit(m.Run())
}

// jobs are what the test binary does as the other process of the
// cross-process tests, on the file MMAPKIT_TEST_PATH.
var jobs = testkit.Jobs{
	// cat: print the file as read(2) sees it
	"cat": func() error {
		path := os.Getenv(pathEnv)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(b)
		return err
	},
	// mapcat: print the file as a mapping of it sees it
	"mapcat": func() error {
		path := os.Getenv(pathEnv)
		f, err := mmfile.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(os.Stdout, f)
		return err
	},
	"truncate": func() error {
		path := os.Getenv(pathEnv)
		size, err := strconv.ParseInt(os.Getenv("MMAPKIT_TEST_SIZE"), 10, 64)
		if err != nil {
			return err
		}
		err = os.Truncate(path, size)
		var errno syscall.Errno
		if errors.As(err, &errno) {
			// The number, for the parent to check whatever the language
			// of the system's message.
			err = fmt.Errorf("%w (errno %d)", err, uintptr(errno))
		}
		return err
	},
	// sync-writer: append records, syncing each, and report it
	"sync-writer": func() error {
		path := os.Getenv(pathEnv)
		f, err := mmfile.Create(path, 0)
		if err != nil {
			return err
		}
		for i := 0; ; i++ {
			if _, err := f.Write(record(i)); err != nil {
				return err
			}
			if err := f.Sync(); err != nil {
				return err
			}
			fmt.Println(i)
		}
	},
	// range-writer: write this process's slot of a shared file
	"range-writer": func() error {
		path := os.Getenv(pathEnv)
		slot, span, round, err := testkit.SlotFromEnv()
		if err != nil {
			return err
		}
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		if err := testkit.WriteSlot(f, slot, span, round); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	},
	// pending-hold: start a new version; commit it when told
	"pending-hold": func() error {
		path := os.Getenv(pathEnv)
		return pendingHold(path)
	},
	// replace-loop: replace the file with whole versions until killed
	"replace-loop": func() error {
		path := os.Getenv(pathEnv)
		for i := 0; ; i++ {
			content := versionContent(i % 2)
			p, err := mmfile.NewPending(path, int64(len(content)))
			if err != nil {
				return err
			}
			if _, err := p.WriteAt(content, 0); err != nil {
				return err
			}
			if err := p.Commit(); err != nil {
				return err
			}
			if i == 0 {
				fmt.Println("ready")
			}
		}
	},
}

// child returns a command that runs the test binary as another process
// doing job on path.
func child(job, path string, env ...string) *exec.Cmd {
	return testkit.Command(job, append(env, pathEnv+"="+path)...)
}

const recordSize = 64

// record is the i-th record that the sync writer appends.
func record(i int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, recordSize)
	binary.LittleEndian.PutUint64(b, uint64(i))
	return b
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestIOTestReader(t *testing.T) {
	p := os.Getpagesize()
	for _, n := range []int{0, 1, p - 1, p, p + 1, 5*p + 3} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			data := testkit.Pattern(n)
			f, err := mmfile.Open(writeFile(t, "f", data))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := iotest.TestReader(f, data); err != nil {
				t.Fatal(err)
			}
		})
	}
	files, _ := filepath.Glob("../testdata/*")
	if len(files) == 0 {
		t.Fatal("no files in ../testdata")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := mmfile.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := iotest.TestReader(f, want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// allocationGranularity is the unit of view offsets on Windows; ranges
// around it check the alignment that Range does there (on other systems it
// is just another offset that is a multiple of the page size).
const allocationGranularity = 64 << 10

// TestRangeAnyOffset maps ranges at offsets that are not page-aligned and
// checks that exactly the asked bytes are exposed and written.
func TestRangeAnyOffset(t *testing.T) {
	p := int64(os.Getpagesize())
	g := int64(allocationGranularity)
	size := 2*g + 4*p
	data := testkit.Pattern(int(size))
	path := writeFile(t, "ranged", data)
	for _, r := range [][2]int64{
		{0, 0}, {1, 10}, {p - 1, 2}, {p, p}, {p + 3, 2*p + 5}, {4*p - 1, 1}, {4 * p, 0},
		{g - 1, 2}, {g, p}, {g + 3, g + 5}, {2*g - 1, 2*p + 1}, {size - 1, 1}, {size, 0},
	} {
		t.Run(fmt.Sprintf("%d+%d", r[0], r[1]), func(t *testing.T) {
			f, err := mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.Range(r[0], r[1]))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want := data[r[0] : r[0]+r[1]]
			if err := iotest.TestReader(f, want); err != nil {
				t.Fatal(err)
			}
			if r[1] == 0 {
				return
			}
			if _, err := f.WriteAt([]byte{'R'}, r[1]-1); err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte{'x'}, r[1]); !errors.Is(err, ioadapt.ErrFixedSize) {
				t.Fatalf("write past a range = %v; want ErrFixedSize", err)
			}
			onDisk, _ := os.ReadFile(path)
			if onDisk[r[0]+r[1]-1] != 'R' {
				t.Fatal("write through a range did not reach the file at the right offset")
			}
			onDisk[r[0]+r[1]-1] = data[r[0]+r[1]-1]
			if !bytes.Equal(onDisk, data) {
				t.Fatal("write through a range changed the file outside the range")
			}
			// Restore the file for the next range with the mapping closed:
			// Windows refuses to truncate a file that has a view mapped
			// (ERROR_USER_MAPPED_FILE), and os.WriteFile truncates.
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, "ten", []byte("0123456789"))
	tests := []struct {
		name string
		open func() (*mmfile.File, error)
		want error
		msg  string
	}{
		{"directory", func() (*mmfile.File, error) { return mmfile.Open(dir) }, mmfile.ErrNotRegular, "open " + dir + ": not a regular file: is a directory"},
		{"missing", func() (*mmfile.File, error) { return mmfile.Open(filepath.Join(dir, "nope")) }, fs.ErrNotExist, ""},
		{"exclusive", func() (*mmfile.File, error) {
			return mmfile.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		}, fs.ErrExist, ""},
		{"write-only", func() (*mmfile.File, error) { return mmfile.OpenFile(path, os.O_WRONLY, 0) }, mmfile.ErrBadFlag, "open " + path + ": flag not supported for a mapped file: 0x1"},
		{"append", func() (*mmfile.File, error) { return mmfile.OpenFile(path, os.O_RDWR|os.O_APPEND, 0) }, mmfile.ErrBadFlag, ""},
		{"negative range", func() (*mmfile.File, error) { return mmfile.Open(path, mmfile.Range(-1, 2)) }, mmfile.ErrRange, "open " + path + ": range [-1, -1+2) is outside the file of 10 bytes"},
		{"range past end", func() (*mmfile.File, error) { return mmfile.Open(path, mmfile.Range(5, 6)) }, mmfile.ErrRange, ""},
		{"range overflow", func() (*mmfile.File, error) { return mmfile.Open(path, mmfile.Range(5, math.MaxInt64)) }, mmfile.ErrRange, ""},
		{"negative size", func() (*mmfile.File, error) { return mmfile.Create(filepath.Join(dir, "neg"), -1) }, ioadapt.ErrInvalidSize, "create " + filepath.Join(dir, "neg") + ": negative size -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.open()
			if err == nil {
				f.Close()
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v; want %v", err, tt.want)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				t.Errorf("error %v is not a *fs.PathError", err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("error %q; want %q", err, tt.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "neg")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create with a negative size left a file behind: %v", err)
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	path := writeFile(t, "ro", []byte("keep"))
	f, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, ioadapt.ErrReadOnly) {
		t.Fatalf("WriteAt on a read-only mapping = %v", err)
	}
	if err := f.Truncate(0); !errors.Is(err, ioadapt.ErrReadOnly) {
		t.Fatalf("Truncate on a read-only mapping = %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "keep" {
		t.Fatalf("file changed: %q", got)
	}
}

func TestPrivateCopyOnWrite(t *testing.T) {
	path := writeFile(t, "cow", []byte("original"))
	f, err := mmfile.Open(path, mmfile.Private())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("CHANGED!"), 0); err != nil {
		t.Fatal(err)
	}
	if got := string(f.Bytes()); got != "CHANGED!" {
		t.Fatalf("private mapping reads %q", got)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "original" {
		t.Fatalf("a private write reached the file: %q", got)
	}
	if _, err := f.WriteAt([]byte("!"), 8); !errors.Is(err, ioadapt.ErrFixedSize) {
		t.Fatalf("private mapping grew: %v", err)
	}
}

func TestOptions(t *testing.T) {
	path := writeFile(t, "opts", testkit.Pattern(1<<20))
	if runtime.GOOS != "linux" {
		// MAP_POPULATE is Linux's. Elsewhere Populate is refused, never
		// ignored, whether or not there is anything to map.
		for _, p := range []string{path, writeFile(t, "empty", nil)} {
			f, err := mmfile.Open(p, mmfile.Populate())
			if err == nil {
				f.Close()
			}
			var pe *fs.PathError
			if !errors.Is(err, ioadapt.ErrUnsupported) || !errors.As(err, &pe) {
				t.Errorf("Populate on %s = %v; want an *fs.PathError wrapping ErrUnsupported", runtime.GOOS, err)
			}
		}
	}
	if runtime.GOOS == "windows" {
		testOptionsWindows(t, path)
		return
	}
	opts := []mmfile.Option{mmfile.WithAdvice(mmfile.Sequential), mmfile.LockMemory()}
	if runtime.GOOS == "linux" {
		opts = append(opts, mmfile.Populate())
	}
	f, err := mmfile.Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// DontNeed is refused for locked pages: unlock first.
	if err := f.UnlockMemory(); err != nil {
		t.Error(err)
	}
	for _, a := range []mmfile.Advice{mmfile.Normal, mmfile.Sequential, mmfile.Random, mmfile.WillNeed, mmfile.DontNeed} {
		if err := f.Advise(a); err != nil {
			t.Errorf("Advise(%s) = %v", a, err)
		}
	}
	if err := f.Advise(mmfile.Advice(99)); !errors.Is(err, ioadapt.ErrUnsupported) {
		t.Errorf("unknown advice = %v; want ErrUnsupported", err)
	}
	if err := f.LockMemory(); err != nil {
		t.Error(err)
	}
	// The data survives DontNeed: a shared mapping reads it back.
	if got := f.Bytes()[12345]; got != testkit.Pattern(1 << 20)[12345] {
		t.Errorf("byte after DontNeed = %d", got)
	}
	if _, err := mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.ReadWrite()); !errors.Is(err, mmfile.ErrBadFlag) {
		t.Errorf("ReadWrite given to OpenFile = %v; want ErrBadFlag", err)
	}
}

// testOptionsWindows checks the options on Windows, which has VirtualLock
// but no madvise: Normal, the default, is the one advice it honours, and
// any other is refused at open and by Advise, never silently ignored.
func testOptionsWindows(t *testing.T, path string) {
	for _, a := range []mmfile.Advice{mmfile.Sequential, mmfile.Random, mmfile.WillNeed, mmfile.DontNeed, mmfile.HugePage} {
		if f, err := mmfile.Open(path, mmfile.WithAdvice(a)); !errors.Is(err, ioadapt.ErrUnsupported) {
			if err == nil {
				f.Close()
			}
			t.Errorf("open with advice %s = %v; want ErrUnsupported", a, err)
		}
	}
	// VirtualLock locks no more than the process's minimum working set
	// holds, 200 KiB by default: lock less than that.
	want := testkit.Pattern(allocationGranularity)
	small := writeFile(t, "locked", want)
	f, err := mmfile.OpenFile(small, os.O_RDWR, 0, mmfile.LockMemory(), mmfile.WithAdvice(mmfile.Normal))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.UnlockMemory(); err != nil {
		t.Error(err)
	}
	if err := f.Advise(mmfile.Normal); err != nil {
		t.Errorf("Advise(normal) = %v", err)
	}
	for _, a := range []mmfile.Advice{mmfile.Sequential, mmfile.Random, mmfile.WillNeed, mmfile.DontNeed, mmfile.HugePage, mmfile.Advice(99)} {
		if err := f.Advise(a); !errors.Is(err, ioadapt.ErrUnsupported) {
			t.Errorf("Advise(%s) = %v; want ErrUnsupported", a, err)
		}
	}
	if err := f.LockMemory(); err != nil {
		t.Error(err)
	}
	// Locked pages are read and written as any others.
	if _, err := f.WriteAt([]byte("locked"), 1000); err != nil {
		t.Fatal(err)
	}
	copy(want[1000:], "locked")
	if err := iotest.TestReader(f, want); err != nil {
		t.Error(err)
	}
	if err := f.UnlockMemory(); err != nil {
		t.Error(err)
	}
	if _, err := mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.ReadWrite()); !errors.Is(err, mmfile.ErrBadFlag) {
		t.Errorf("ReadWrite given to OpenFile = %v; want ErrBadFlag", err)
	}
}

func TestZeroLengthFile(t *testing.T) {
	path := writeFile(t, "empty", nil)
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read of an empty file = %d, %v", n, err)
	}
	if n, err := f.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt of an empty file = %d, %v", n, err)
	}
	if _, err := f.Write([]byte("grown")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "grown" {
		t.Fatalf("file holds %q", got)
	}
}

// TestGrowthLikeOSFile appends and truncates and checks the file on disk
// against the logical size after every step.
func TestGrowthLikeOSFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	f, err := mmfile.Create(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := range 3000 {
		line := fmt.Appendf(nil, "entry %d\n", i)
		if _, err := f.Write(line); err != nil {
			t.Fatal(err)
		}
		want = append(want, line...)
		if i%500 == 0 && fileSize(t, path) != int64(len(want)) {
			t.Fatalf("after %d appends the file has %d bytes; want %d", i+1, fileSize(t, path), len(want))
		}
	}
	if f.Size() != int64(len(want)) {
		t.Fatalf("Size = %d; want %d", f.Size(), len(want))
	}
	// A write past the end leaves a gap of zeros, as os.File does.
	if _, err := f.WriteAt([]byte("tail"), int64(len(want))+10); err != nil {
		t.Fatal(err)
	}
	want = append(append(want, make([]byte, 10)...), "tail"...)
	if err := f.Truncate(int64(len(want)) - 2); err != nil {
		t.Fatal(err)
	}
	want = want[:len(want)-2]
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Fatalf("file has %d bytes, differs from the %d written", len(got), len(want))
	}
}

// TestLargeWritesCoherent writes ranges large enough to go to the file by
// pwrite, in place and growing, whole-file and ranged: the mapping, the
// file and another process all see the same bytes.
func TestLargeWritesCoherent(t *testing.T) {
	size := 4 * ioadapt.DirectWriteMin
	path := writeFile(t, "large", make([]byte, size))
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := make([]byte, size)
	big := testkit.Pattern(ioadapt.DirectWriteMin + 5)
	for _, off := range []int{1, size - len(big), size - 100, size + 4096} {
		if _, err := f.WriteAt(big, int64(off)); err != nil {
			t.Fatal(err)
		}
		if end := off + len(big); end > len(want) {
			want = append(want, make([]byte, end-len(want))...)
		}
		copy(want[off:], big)
	}
	if !bytes.Equal(f.Bytes(), want) {
		t.Fatal("the mapping does not show the large writes")
	}
	ranged, err := mmfile.OpenFile(path, os.O_RDWR, 0, mmfile.Range(3, int64(2*ioadapt.DirectWriteMin)))
	if err != nil {
		t.Fatal(err)
	}
	defer ranged.Close()
	if _, err := ranged.WriteAt(big, 7); err != nil {
		t.Fatal(err)
	}
	copy(want[10:], big)
	if !bytes.Equal(f.Bytes(), want) {
		t.Fatal("a large write through a range landed in the wrong place")
	}
	out, err := child("cat", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Fatal("another process reads other bytes than the mapping holds")
	}
}

// TestReadAtDuringGrowth reads a fixed prefix from many goroutines while
// another appends, forcing remaps: no read ever sees wrong bytes.
func TestReadAtDuringGrowth(t *testing.T) {
	head := testkit.Pattern(8192)
	path := writeFile(t, "growing", head)
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, 512)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				off := int64((g*977 + i*131) % (len(head) - len(p)))
				if _, err := f.ReadAt(p, off); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(p, head[off:off+int64(len(p))]) {
					t.Errorf("torn read at %d", off)
					return
				}
			}
		}()
	}
	chunk := make([]byte, 4096)
	for range 2000 {
		if _, err := f.WriteAt(chunk, f.Size()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

// TestSharedWithOtherProcesses writes through the mapping — no write(2) —
// and has other processes read the file with read(2) and with a mapping.
func TestSharedWithOtherProcesses(t *testing.T) {
	path := writeFile(t, "shared", bytes.Repeat([]byte{'.'}, 64))
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A store into the mapped bytes is the file's byte.
	if err := f.Access(func(b []byte) error {
		b[1] = 'a'
		copy(b[10:], "stored")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("written"), 20); err != nil {
		t.Fatal(err)
	}
	want := []byte(".a........stored....written.....................................")
	for _, job := range []string{"cat", "mapcat"} {
		out, err := child(job, path).Output()
		if err != nil {
			t.Fatalf("%s: %v", job, err)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s sees %q; want %q", job, out, want)
		}
	}
}

// TestWritesFromOtherProcesses has child processes write disjoint ranges
// of a file through mappings of their own while this process keeps its
// mapping open: every byte they stored shows in it, without a remap.
func TestWritesFromOtherProcesses(t *testing.T) {
	const writers, span = 3, allocationGranularity
	path := filepath.Join(t.TempDir(), "shared")
	f, err := mmfile.Create(path, writers*span)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []*exec.Cmd
	for w := range writers {
		cmd := child("range-writer", path, testkit.SlotEnv(w, span, 1)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() && stderr.Len() > 0 {
				t.Logf("writer %d: %s", w, stderr.Bytes())
			}
		})
		cmds = append(cmds, cmd)
	}
	for w, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	got := make([]byte, span)
	for w := range writers {
		if _, err := f.ReadAt(got, int64(w*span)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, testkit.SlotContent(w, span, 1)) {
			t.Errorf("slot %d as this process's mapping sees it differs from what writer %d stored", w, w)
		}
	}
}

// errnoUserMappedFile is how the truncate child reports Windows's
// ERROR_USER_MAPPED_FILE: the file has a view mapped, so it cannot shrink.
const errnoUserMappedFile = "(errno 1224)"

func TestTruncatedUnderMapping(t *testing.T) {
	page := os.Getpagesize()
	path := writeFile(t, "shrinks", testkit.Pattern(4*page))
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := child("truncate", path, "MMAPKIT_TEST_SIZE=100").CombinedOutput()
	if runtime.GOOS == "windows" {
		// Windows refuses to shrink a file while any process has a view of
		// it (ERROR_USER_MAPPED_FILE), so a mapping there never loses its
		// pages this way: the guarantee to check is the refusal, and that
		// the mapping and the file are untouched.
		if err == nil || !bytes.Contains(out, []byte(errnoUserMappedFile)) {
			t.Fatalf("child truncating a mapped file: %v: %s; want it refused with %s", err, out, errnoUserMappedFile)
		}
		if got := fileSize(t, path); got != int64(4*page) {
			t.Fatalf("file has %d bytes after a refused truncate; want %d", got, 4*page)
		}
		if err := iotest.TestReader(f, testkit.Pattern(4*page)); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	_, err = f.ReadAt(make([]byte, 10), int64(2*page))
	if !errors.Is(err, ioadapt.ErrFault) {
		t.Fatalf("read of a truncated range = %v; want ErrFault", err)
	}
	if _, err := io.Copy(io.Discard, io.NewSectionReader(f, int64(page), int64(page))); !errors.Is(err, ioadapt.ErrFault) {
		t.Fatalf("io.Copy of a truncated range = %v; want ErrFault", err)
	}
	// Once the file is whole again, a fresh mapping works.
	if err := os.WriteFile(path, testkit.Pattern(4*page), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := iotest.TestReader(g, testkit.Pattern(4*page)); err != nil {
		t.Fatal(err)
	}
}

func TestMapOpenFile(t *testing.T) {
	path := writeFile(t, "mapped", []byte("hello"))
	osf, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mmfile.Map(osf, mmfile.ReadWrite())
	if err != nil {
		t.Fatal(err)
	}
	// The File owns a descriptor of its own: closing the caller's does not
	// stop it from growing the file.
	if err := osf.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(", world"), 5); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "hello, world" {
		t.Fatalf("file holds %q", got)
	}
	ro, _ := os.Open(path)
	defer ro.Close()
	g, err := mmfile.Map(ro)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.WriteAt([]byte("x"), 0); !errors.Is(err, ioadapt.ErrReadOnly) {
		t.Fatalf("Map without ReadWrite wrote: %v", err)
	}
}

func TestSyncVariants(t *testing.T) {
	path := filepath.Join(t.TempDir(), "synced")
	f, err := mmfile.Create(path, 3*int64(os.Getpagesize()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("dirty"), 5000); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"SyncRange": f.SyncRange(4999, 10),
		"SyncAsync": f.SyncAsync(),
		"Sync":      f.Sync(),
		"clipped":   f.SyncRange(0, math.MaxInt64),
		"past end":  f.SyncRange(math.MaxInt64, 1), // once overflowed into a panic
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := f.SyncRange(-1, 1); !errors.Is(err, ioadapt.ErrInvalidOffset) {
		t.Errorf("SyncRange(-1, 1) = %v", err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != f.Size() {
		t.Errorf("Stat = %v, %v; want size %d", fi, err, f.Size())
	}
}

// TestDroppedFileIsClosed drops Files without Close: their cleanups sync
// them (the writes through them are in the file), unmap them and close
// their descriptors. It counts only this file's descriptors and mappings,
// and waits for the cleanups as long as they take: they run in their own
// goroutine after a collection, which a loaded machine delays.
func TestDroppedFileIsClosed(t *testing.T) {
	const files = 8
	path := writeFile(t, "dropped", testkit.Pattern(files*4096))
	if n := testkit.OpenHandles(t, path); n != 0 {
		t.Fatalf("%d handles on a file just written", n)
	}
	openDropped(t, path, files)
	// Only a hang is a failure: cleanups run when the runtime gets to them.
	for deadline := time.Now().Add(2 * time.Minute); testkit.OpenHandles(t, path) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d handles on the file 2 minutes after dropping its Files", testkit.OpenHandles(t, path))
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if string(got[i*4096:i*4096+3]) != "gc"+strconv.Itoa(i) {
			t.Errorf("write through dropped File %d lost: %q", i, got[i*4096:i*4096+3])
		}
	}
}

// openDropped opens n Files of path, writes through each, and drops them.
func openDropped(t *testing.T, path string, n int) {
	t.Helper()
	var open []*mmfile.File
	for i := range n {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("gc"+strconv.Itoa(i)), int64(i*4096)); err != nil {
			t.Fatal(err)
		}
		open = append(open, f)
	}
	if testkit.OpenHandles(t, path) == 0 {
		t.Fatalf("no handle seen with %d Files open: the count does not see them", n)
	}
	runtime.KeepAlive(open) // from here on, all are unreachable
}

// TestTruncatedReadGivesBytesBeforeHole truncates a mapped file in another
// process to a size inside a page: a read that runs into the hole still
// gets the bytes the file has, the same that os.File reads, and no zero
// past the file's end, then the fault.
func TestTruncatedReadGivesBytesBeforeHole(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows refuses to shrink a mapped file (see TestTruncatedUnderMapping)")
	}
	page := os.Getpagesize()
	path := writeFile(t, "shrinks", testkit.Pattern(4*page))
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := page + page/2
	if out, err := child("truncate", path, "MMAPKIT_TEST_SIZE="+strconv.Itoa(size)).CombinedOutput(); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	oracle, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer oracle.Close()
	off := int64(page / 2)
	want := make([]byte, 4*page)
	wn, werr := oracle.ReadAt(want, off)
	if wn != size-page/2 || werr != io.EOF {
		t.Fatalf("os.File.ReadAt = %d, %v", wn, werr)
	}
	got := make([]byte, 4*page)
	n, err := f.ReadAt(got, off)
	if n != wn || !bytes.Equal(got[:n], want[:wn]) || !errors.Is(err, ioadapt.ErrFault) {
		t.Errorf("ReadAt into the hole = %d, %v; want the %d bytes os.File reads, then ErrFault", n, err, wn)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	n, err = f.Read(got)
	if n != wn || !bytes.Equal(got[:n], want[:wn]) || !errors.Is(err, ioadapt.ErrFault) {
		t.Errorf("Read into the hole = %d, %v; want the %d bytes os.File reads, then ErrFault", n, err, wn)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != off+int64(wn) {
		t.Errorf("position after the Read = %d; want %d", pos, off+int64(wn))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	// WriteTo asks where the file ends now, as io.Copy from an os.File
	// would find out: it copies the file as it is, without an error.
	var buf bytes.Buffer
	m, err := f.WriteTo(&buf)
	if m != int64(size) || !bytes.Equal(buf.Bytes(), testkit.Pattern(4 * page)[:size]) || err != nil {
		t.Errorf("WriteTo(bytes.Buffer) of the shrunk file = %d (buffer %d), %v; want the file's %d bytes", m, buf.Len(), err, size)
	}
}

// TestWriteIntoHoleLandsAsOSFile has another process truncate a mapped
// file, then writes into the hole, small and large: both land, extending
// the file again, as the same writes through an os.File do on a twin.
func TestWriteIntoHoleLandsAsOSFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows refuses to shrink a mapped file (see TestTruncatedUnderMapping)")
	}
	page := os.Getpagesize()
	path := writeFile(t, "holes", testkit.Pattern(8*page))
	twin := writeFile(t, "twin", testkit.Pattern(8*page))
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o, err := os.OpenFile(twin, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, p := range []string{path, twin} {
		if out, err := child("truncate", p, "MMAPKIT_TEST_SIZE="+strconv.Itoa(page)).CombinedOutput(); err != nil {
			t.Fatalf("child: %v: %s", err, out)
		}
	}
	small, large := []byte("small"), bytes.Repeat([]byte("L"), ioadapt.DirectWriteMin)
	for _, w := range []struct {
		p   []byte
		off int64
	}{{small, int64(3 * page)}, {large, int64(2*page + 7)}} {
		n, err := f.WriteAt(w.p, w.off)
		wn, werr := o.WriteAt(w.p, w.off)
		if n != wn || (err == nil) != (werr == nil) {
			t.Errorf("WriteAt(%d bytes, %d) into the hole = %d, %v; os.File: %d, %v", len(w.p), w.off, n, err, wn, werr)
		}
	}
	got, _ := os.ReadFile(path)
	want, _ := os.ReadFile(twin)
	if !bytes.Equal(got, want) {
		t.Errorf("the file holds %d bytes after the writes into the hole; the os.File twin %d, or other bytes", len(got), len(want))
	}
}
