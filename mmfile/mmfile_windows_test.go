package mmfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestWindowsSpecialFiles checks that what cannot be mapped as a file is
// refused with a clear error: the NUL device and a named pipe (which
// Windows has instead of FIFOs in the file system).
func TestWindowsSpecialFiles(t *testing.T) {
	pipe := fmt.Sprintf(`\\.\pipe\mmapkit-test-%d`, os.Getpid())
	p, err := windows.UTF16PtrFromString(pipe)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateNamedPipe(p, windows.PIPE_ACCESS_DUPLEX, windows.PIPE_TYPE_BYTE, windows.PIPE_UNLIMITED_INSTANCES, 512, 512, 0, nil)
	if err != nil {
		t.Fatalf("CreateNamedPipe: %v", err)
	}
	defer windows.CloseHandle(h)
	for path, msg := range map[string]string{
		"NUL": "open NUL: not a regular file: is a character device",
		pipe:  "open " + pipe + ": not a regular file: is a named pipe",
	} {
		f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			f.Close()
			t.Fatalf("%s mapped", path)
		}
		if !errors.Is(err, mmfile.ErrNotRegular) || err.Error() != msg {
			t.Errorf("error %q; want %q", err, msg)
		}
	}
}

// TestWindowsResizeWhileMappedElsewhere covers the rule that shapes growth
// on Windows: no file may shrink while any view of it is mapped, in any
// process (a second File in this process stands for the other process).
// Resize unmaps its own view first, so a refused shrink must leave the
// File mapped, at its old size and contents; growing is allowed and the
// other view keeps seeing the bytes it maps.
func TestWindowsResizeWhileMappedElsewhere(t *testing.T) {
	const g = allocationGranularity
	data := testkit.Pattern(2 * g)
	path := writeFile(t, "resized", data)
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	err = f.Truncate(g)
	var pe *fs.PathError
	if !errors.Is(err, windows.ERROR_USER_MAPPED_FILE) || !errors.As(err, &pe) || pe.Path != path {
		t.Fatalf("shrinking a file mapped elsewhere = %v; want an *fs.PathError naming the file, wrapping ERROR_USER_MAPPED_FILE", err)
	}
	if f.Size() != 2*g || fileSize(t, path) != 2*g {
		t.Fatalf("after a refused shrink: Size %d, file %d bytes; want %d", f.Size(), fileSize(t, path), 2*g)
	}
	if err := iotest.TestReader(f, data); err != nil {
		t.Fatalf("after a refused shrink: %v", err)
	}
	if _, err := f.WriteAt([]byte("still mapped"), 10); err != nil {
		t.Fatal(err)
	}
	copy(data[10:], "still mapped")

	tail := bytes.Repeat([]byte("grown"), 1000)
	if _, err := f.WriteAt(tail, 2*g); err != nil {
		t.Fatalf("growing a file mapped elsewhere: %v", err)
	}
	data = append(data, tail...)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := iotest.TestReader(f, data); err != nil {
		t.Fatalf("after growth: %v", err)
	}
	// The other File follows the file's size, as an os.File would: it
	// reads the growth too.
	if err := iotest.TestReader(other, data); err != nil {
		t.Fatalf("the other view after growth: %v", err)
	}

	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(g); err != nil {
		t.Fatalf("shrinking once no other view is mapped: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data[:g]) {
		t.Fatalf("file has %d bytes, differs from the %d expected", len(got), g)
	}
}

// TestWindowsFaultInView checks that a fault in a mapped view is an error
// wrapping ErrFault, not a crash. Windows itself never lets a mapped file
// shrink (ERROR_USER_MAPPED_FILE), and its other causes of a fault in a
// view (a failing disk, a network share gone, a full volume under a sparse
// file) cannot be staged in a test; Wine, though, maps the view from the
// Unix file, so a Unix process can shrink the file behind Windows's back.
// Wine then delivers EXCEPTION_ACCESS_VIOLATION where Windows would raise
// EXCEPTION_IN_PAGE_ERROR; the Go runtime treats the two alike.
func TestWindowsFaultInView(t *testing.T) {
	truncate := wineUnixTruncate(t)
	page := os.Getpagesize()
	path := writeFile(t, "shrinks", testkit.Pattern(4*page))
	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	truncate(path, int64(page))

	if _, err := f.ReadAt(make([]byte, 100), 0); err != nil {
		t.Fatalf("read of the page that remains: %v", err)
	}
	checks := map[string]error{}
	_, checks["ReadAt"] = f.ReadAt(make([]byte, 10), int64(2*page))
	_, checks["WriteAt"] = f.WriteAt([]byte("x"), int64(3*page))
	checks["Access"] = f.Access(func(b []byte) error {
		b[len(b)-1] = 1
		return nil
	})
	for name, err := range checks {
		var pe *fs.PathError
		if !errors.Is(err, ioadapt.ErrFault) || !errors.As(err, &pe) || pe.Path != path {
			t.Errorf("%s of a vanished page = %v; want an *fs.PathError naming the file, wrapping ErrFault", name, err)
		}
	}
	t.Logf("error reads: %v", checks["ReadAt"])
}

// wineUnixTruncate returns a function that shrinks a file with the Unix
// truncate(1), past Windows's refusal. It skips the test where there is no
// Unix side: on Windows proper.
func wineUnixTruncate(t *testing.T) func(path string, size int64) {
	t.Helper()
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() != nil {
		t.Skip("Windows refuses to shrink a mapped file and has no Unix side to do it behind its back (runs under Wine)")
	}
	kernel32 := windows.NewLazySystemDLL("kernel32.dll")
	toUnix := kernel32.NewProc("wine_get_unix_file_name")
	toDOS := kernel32.NewProc("wine_get_dos_file_name")
	heapFree := kernel32.NewProc("HeapFree")
	heap, _, err := kernel32.NewProc("GetProcessHeap").Call()
	if heap == 0 {
		t.Fatalf("GetProcessHeap: %v", err)
	}
	// Both conversions return a string on the process heap.
	free := func(p uintptr) { heapFree.Call(heap, 0, p) }
	unixPath := func(path string) string {
		t.Helper()
		p, err := windows.UTF16PtrFromString(path)
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := toUnix.Call(uintptr(unsafe.Pointer(p)))
		if r == 0 {
			t.Fatalf("wine_get_unix_file_name(%s): %v", path, err)
		}
		defer free(r)
		return windows.BytePtrToString((*byte)(heapPointer(r)))
	}
	b, err := windows.BytePtrFromString("/usr/bin/truncate")
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := toDOS.Call(uintptr(unsafe.Pointer(b)))
	if r == 0 {
		t.Fatalf("wine_get_dos_file_name(/usr/bin/truncate): %v", err)
	}
	exe := windows.UTF16PtrToString((*uint16)(heapPointer(r)))
	free(r)
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("no truncate(1) on the Unix side: %v", err)
	}
	return func(path string, size int64) {
		t.Helper()
		// Wine runs a Unix program by fork and exec and hands back no
		// process handle to wait on (os/exec cannot run it), so start it
		// and wait for the new size instead.
		p, err := os.StartProcess(exe, []string{"truncate", "-s", fmt.Sprint(size), unixPath(path)}, &os.ProcAttr{Files: []*os.File{nil, os.Stderr, os.Stderr}})
		if err != nil {
			t.Fatalf("starting truncate(1): %v", err)
		}
		_ = p.Release()
		deadline := time.Now().Add(10 * time.Second)
		for {
			fi, err := os.Stat(path)
			if err == nil && fi.Size() == size {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("truncate(1) did not shrink %s to %d bytes: %v, %v", path, size, fi, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// heapPointer turns an address returned by a system call, of memory on the
// process heap (outside Go's), into a pointer, without the conversion
// from uintptr that vet rightly distrusts in general.
func heapPointer(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }
