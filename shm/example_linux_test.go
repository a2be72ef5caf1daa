package shm_test

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"time"

	"github.com/mmapkit/mmapkit/shm"
)

func ExampleCreateAnonymous() {
	s, err := shm.CreateAnonymous(1 << 20)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	f, err := s.File()
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	// The child finds the segment as descriptor 3 and maps it with
	// shm.FromFile(os.NewFile(3, "shm"), shm.ExpectSize(1<<20)).
	cmd := exec.Command("true")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Run(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Anonymous(), s.Size())
	// Output: true 1048576
}

func ExampleRemoveStale() {
	// At start-up, remove what earlier runs that crashed left behind.
	removed, err := shm.RemoveStale("myapp-", 24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range removed {
		log.Printf("removed stale segment %s", name)
	}
}
