package ipc

import (
	"os"
	"runtime"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/shm"
	"golang.org/x/sys/unix"
)

// sealedWords maps, for the mutex at offset off of r, the page of r's
// file that holds its lock, seq and sleepers words, when r is an
// anonymous segment ([shm.CreateAnonymous], [shm.FromFile]) whose memfd
// is sealed against shrinking. Those words then cannot fault: the file
// cannot shrink under the mapping (a hole that another process punches
// reads as zeros, and a store fills it), and no Close unmaps it, since
// the mapping is the Mutex's own and a cleanup unmaps it once no call
// holds the words. It returns nil for any other Region, or when the
// mapping fails; the fast paths then keep the fault guard.
func sealedWords(r ioadapt.Region, off int) *fastWords {
	s, ok := r.(*shm.Segment)
	if !ok || !s.Anonymous() {
		return nil
	}
	f, err := s.File()
	if err != nil {
		return nil
	}
	defer f.Close()
	if seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0); err != nil || seals&unix.F_SEAL_SHRINK == 0 {
		return nil
	}
	// A segment's memory is its file from offset 0.
	page := os.Getpagesize()
	first, end := off+offMutexLock, off+offMutexSleepers+4
	start := first &^ (page - 1)
	mem, err := unix.Mmap(int(f.Fd()), int64(start), (end-start+page-1)&^(page-1), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	b := mem[first-start:]
	w := &fastWords{lock: u64(b, 0), seq: u32(b, offMutexSeq-offMutexLock), sleepers: u32(b, offMutexSleepers-offMutexLock)}
	runtime.AddCleanup(w, func(mem []byte) { _ = unix.Munmap(mem) }, mem)
	return w
}
