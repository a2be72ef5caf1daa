package mmfile_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/mmapkit/mmapkit/mmfile"
)

// Edit a file in place, and grow it: a store through the mapping is the
// file's byte, and a write at the end extends the file.
func ExampleOpenFile() {
	dir, err := os.MkdirTemp("", "mmfile-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "data.bin")
	if err := os.WriteFile(path, []byte("hello, world\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	f, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("J"), 0); err != nil { // byte 0 of the file: no write(2)
		log.Fatal(err)
	}
	// Write writes at the position, which starts at 0; at the end it
	// grows the file, by pwrite(2).
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		log.Fatal(err)
	}
	if _, err := f.Write([]byte("and more\n")); err != nil {
		log.Fatal(err)
	}
	if err := f.Sync(); err != nil { // msync, plus fsync after growth
		log.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(b))
	// Output:
	// Jello, world
	// and more
}

// Append to a growing log: Write at the end extends the file.
func Example_appendLog() {
	path := filepath.Join(os.TempDir(), "mmfile-example-log")
	defer os.Remove(path)

	f, err := mmfile.Create(path, 0)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		if _, err := fmt.Fprintf(f, "entry %d\n", i); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("size:", f.Size())
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output:
	// size: 24
	// entry 0
	// entry 1
	// entry 2
}

// Copy a mapped file with io.Copy: WriteTo hands the writer the mapped
// bytes in one call, with no buffer in between.
func Example_copy() {
	f, err := mmfile.Open("../testdata/hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes, sha256 %x\n", n, h.Sum(nil)[:4])
	// Output: 60 bytes, sha256 87c23e59
}

// Replace a file atomically: readers see the old contents or the new,
// never a mix.
func ExampleNewPending() {
	dir, err := os.MkdirTemp("", "mmfile-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.bin")
	if err := os.WriteFile(path, []byte("version=1\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	next := []byte("version=2\n")

	p, err := mmfile.NewPending(path, int64(len(next)))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Cleanup() // removes the temporary file unless committed
	copy(p.Bytes(), next)
	if err := p.Commit(); err != nil { // readers see the old file or the new, never a mix
		log.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(b))
	// Output: version=2
}

// Work on the mapped bytes directly: the File must stay reachable until
// the last use of the slice, or its cleanup may unmap the slice under it.
func ExampleFile_Bytes() {
	path := filepath.Join(os.TempDir(), "mmfile-example-bytes")
	defer os.Remove(path)
	if err := os.WriteFile(path, []byte("count the bytes\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	f, err := mmfile.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close() // keeps f, and so its bytes, mapped until the return
	b := f.Bytes()
	fmt.Println(bytes.Count(b, []byte(" ")), "spaces")
	// Output: 2 spaces
}
