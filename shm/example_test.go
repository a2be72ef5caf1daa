package shm_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
)

func ExampleCreate() {
	name := fmt.Sprintf("mmapkit-example-%d", os.Getpid())
	s, err := shm.Create(name, 4096)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	defer shm.Unlink(name) // the creator removes the name (no-op error on Windows)

	if _, err := s.WriteAt([]byte("hello, peers"), 0); err != nil {
		log.Fatal(err)
	}

	// Another process would do this: open by name, checking the size.
	peer, err := shm.Open("/"+name, shm.ExpectSize(4096), shm.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer peer.Close()
	buf := make([]byte, 12)
	if _, err := peer.ReadAt(buf, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%d bytes)\n", buf, peer.Size())
	// Output: hello, peers (4096 bytes)
}

func ExampleOpen_sizeMismatch() {
	name := fmt.Sprintf("mmapkit-example-mismatch-%d", os.Getpid())
	s, err := shm.Create(name, 1<<20)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	defer shm.Unlink(name)

	// Opening checks the size; it never resizes the segment.
	_, err = shm.Open(name, shm.ExpectSize(2<<20))
	fmt.Println(errors.Is(err, ioadapt.ErrSizeMismatch))
	// Output: true
}

func ExampleCreate_exclusive() {
	name := fmt.Sprintf("mmapkit-example-excl-%d", os.Getpid())
	s, err := shm.Create(name, 64)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	defer shm.Unlink(name)

	_, err = shm.Create(name, 64)
	fmt.Println(errors.Is(err, os.ErrExist))
	// Output: true
}

func ExampleCreateUnique() {
	s, err := shm.CreateUnique("myapp-", 4096)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	defer s.Unlink()
	fmt.Println(len(s.Name()))
	// Output: 38
}

// Share memory with another process by name: a Go peer here, a Python one
// in the comment (it unregisters the segment from Python's resource
// tracker, which would otherwise remove it when Python exits).
func Example_peers() {
	seg, err := shm.CreateUnique("demo-", 4096) // named demo-<32 hex digits>, mode 0600
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	defer seg.Unlink() // the name goes; every mapping stays valid
	if _, err := seg.WriteAt([]byte("hello"), 0); err != nil {
		log.Fatal(err)
	}
	// Another process opens it by seg.Name(), as Go's shm.Open or Python's
	// multiprocessing.shared_memory does:
	// python3 -c 'import sys; from multiprocessing import shared_memory as sm, resource_tracker as rt; m = sm.SharedMemory(sys.argv[1]); rt.unregister(m._name, "shared_memory"); print(bytes(m.buf[:5])); m.close()' NAME

	peer, err := shm.Open(seg.Name(), shm.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer peer.Close()
	buf := make([]byte, 5)
	if _, err := peer.ReadAt(buf, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", buf)
	// Output: hello
}
