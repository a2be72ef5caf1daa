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
