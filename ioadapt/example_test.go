package ioadapt_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// An in-process buffer with the io methods of a mapped file.
func ExampleNewMemory() {
	buf := ioadapt.New(ioadapt.NewMemory(make([]byte, 16)))
	defer buf.Close()

	if _, err := buf.WriteString("hello, world"); err != nil {
		log.Fatal(err)
	}
	p := make([]byte, 5)
	if _, err := buf.ReadAt(p, 7); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", p)
	// Output: world
}

// A buffer in this process's memory, filled from a reader: the Region is
// the slice itself, of a fixed size.
func ExampleNew() {
	r := strings.NewReader("anything an io.Reader gives")

	buf := ioadapt.New(ioadapt.NewMemory(make([]byte, 1<<20))) // 1 MiB, never more
	defer buf.Close()
	n, err := io.Copy(buf, r) // past 1 MiB: an error wrapping ErrFixedSize
	if err != nil {
		log.Fatal(err)
	}

	fmt.Printf("%d bytes: %s\n", n, buf.Bytes()[:n])
	// Output: 27 bytes: anything an io.Reader gives
}

// A section is a view of a chunk of its parent, an alias of its bytes.
func ExampleIO_Section() {
	buf := ioadapt.New(ioadapt.NewMemory([]byte("header|payload|trailer")))
	defer buf.Close()

	payload, err := buf.Section(7, 7)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := payload.WriteAt([]byte("PAY"), 0); err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(os.Stdout, buf); err != nil {
		log.Fatal(err)
	}
	fmt.Println()
	// Output: header|PAYload|trailer
}

// Access runs code over the raw bytes, pinned against Close, with faults
// turned into errors.
func ExampleIO_Access() {
	buf := ioadapt.New(ioadapt.NewMemory([]byte("shout")))
	defer buf.Close()

	err := buf.Access(func(b []byte) error {
		copy(b, strings.ToUpper(string(b)))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", buf.Bytes())
	// Output: SHOUT
}

// A write past the end of a fixed-size Region writes what fits and says
// how much did not.
func ExampleErrFixedSize() {
	buf := ioadapt.New(ioadapt.NewMemory(make([]byte, 4)))
	n, err := buf.WriteAt([]byte("abcdef"), 0)
	fmt.Println(n, err)
	// Output: 4 write memory: write of 6 bytes at offset 0 runs past the end of the fixed-size region (size 4)
}
