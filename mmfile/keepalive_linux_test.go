package mmfile_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestDroppedFileUnmapsItsBytes shows what the documentation of Bytes
// warns about: a File that is no longer referenced is unmapped by its
// cleanup although the slice from Bytes is still held (reading it then
// would read unmapped memory), and runtime.KeepAlive of the File keeps the
// slice mapped until that point.
func TestDroppedFileUnmapsItsBytes(t *testing.T) {
	path := writeFile(t, "bytes", testkit.Pattern(8192))
	b := bytesOfDroppedFile(t, path)
	for deadline := time.Now().Add(2 * time.Minute); testkit.OpenHandles(t, path) > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the dropped File is still mapped 2 minutes later")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if len(b) != 8192 {
		t.Fatalf("held slice of %d bytes", len(b))
	}
	// b is still referenced here, and its memory is no longer mapped.

	f, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	kept := f.Bytes() // the last use of f but for the KeepAlive below
	for range 5 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if testkit.OpenHandles(t, path) == 0 || string(kept[:100]) != string(testkit.Pattern(100)) {
		t.Fatal("the File was unmapped before its runtime.KeepAlive")
	}
	runtime.KeepAlive(f) // f, and so kept, stays mapped until here
}

// bytesOfDroppedFile returns the bytes of a File of path that it drops.
func bytesOfDroppedFile(t *testing.T, path string) []byte {
	f, err := mmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return f.Bytes()
}
