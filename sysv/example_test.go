//go:build linux

package sysv_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/mmapkit/mmapkit/sysv"
)

// Two programs agree on a key derived from a file they both know, as C
// programs do with ftok(3). The creator removes the segment when done.
func ExampleCreate() {
	dir, err := os.MkdirTemp("", "sysv-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	keyFile := filepath.Join(dir, "rendezvous")
	if err := os.WriteFile(keyFile, nil, 0o600); err != nil {
		log.Fatal(err)
	}
	key, err := sysv.Ftok(keyFile, 'M') // the key C's ftok(3) gives for this file
	if err != nil {
		log.Fatal(err)
	}

	s, err := sysv.Create(key, 4096, sysv.Mode(0o600))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	defer s.Remove() // the creator removes it; it lives on until the last detach
	if _, err := s.WriteAt([]byte("hello, peers"), 0); err != nil {
		log.Fatal(err)
	}

	// The peer, usually another process.
	peer, err := sysv.Open(key, sysv.ReadOnly(), sysv.ExpectSize(4096))
	if err != nil {
		log.Fatal(err)
	}
	defer peer.Close()
	msg := make([]byte, 12)
	if _, err := peer.ReadAt(msg, 0); err != nil {
		log.Fatal(err)
	}
	info, err := s.Stat()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, %d bytes, mode %v, %d attaches\n", msg, info.Size, info.Mode, info.Attaches)
	// Output: hello, peers, 4096 bytes, mode -rw-------, 2 attaches
}

// A segment without a key is reached by its id, which the creator hands to
// its peers. Removing it at once, once every peer is attached, means the
// memory is freed by the last Close even if a process crashes.
func ExampleCreatePrivate() {
	s, err := sysv.CreatePrivate(1 << 20)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	peer, err := sysv.AttachID(s.ID()) // in a peer, with the id it was given
	if err != nil {
		log.Fatal(err)
	}
	defer peer.Close()
	if err := s.Remove(); err != nil {
		log.Fatal(err)
	}

	fmt.Fprintf(peer, "written through the peer")
	buf := make([]byte, 24)
	s.ReadAt(buf, 0)
	fmt.Println(string(buf))
	// Output: written through the peer
}

func ExampleOpen_missing() {
	_, err := sysv.Open(0x7e57ab1e)
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	fmt.Println(err)
	// Output:
	// true
	// open key 0x7e57ab1e: no segment has this key: no such file or directory
}

// List finds segments left behind: they outlive their processes.
func ExampleList() {
	segs, err := sysv.List()
	if err != nil {
		log.Fatal(err)
	}
	for _, info := range segs {
		if info.Attaches == 0 && info.CreatorUID == os.Getuid() {
			fmt.Printf("unattached: key %v id %d, %d bytes; remove with: ipcrm -m %d\n",
				info.Key, info.ID, info.Size, info.ID)
		}
	}
}

func ExampleParseKey() {
	// One key as ipcs -m, a shell's $((0x9faf9a1b)), /proc/sysvipc/shm and
	// an octal literal write it.
	for _, s := range []string{"0x9faf9a1b", "2679085595", "-1615881701", "023753715033"} {
		k, err := sysv.ParseKey(s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(k, int32(k))
	}
	_, err := sysv.ParseKey("4294967297") // ipcrm -M would take it as key 1
	fmt.Println(err)
	// Output:
	// 0x9faf9a1b -1615881701
	// 0x9faf9a1b -1615881701
	// 0x9faf9a1b -1615881701
	// 0x9faf9a1b -1615881701
	// sysv: parse key "4294967297": out of range: a key is 32 bits, from 0 to 4294967295 (0xffffffff), or negative down to -2147483648 (-0x80000000)
}
