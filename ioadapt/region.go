package ioadapt

// Region is a run of mapped or in-process memory with a lifetime. File
// mappings, shared-memory segments, anonymous mappings and byte slices all
// satisfy it, and so does [IO] itself, so a section of a Region is a Region.
//
// A Region need not be safe for concurrent use: [IO] serialises Resize and
// Close against every other call of the Region. Its memory is another
// matter: on a [Retirer], ReadAt and WriteAt copy without a lock, so
// Close and Resize must retire memory rather than unmap it.
type Region interface {
	// Bytes returns the Region's memory, len(Bytes()) == Size(). The slice
	// aliases the mapping: it is valid only until Close or a resize.
	Bytes() []byte
	// Size is the Region's size in bytes.
	Size() int64
	// Writable reports whether the memory may be written.
	Writable() bool
	// Name identifies the Region in errors: a path, a segment name, a key.
	Name() string
	// Sync makes the Region's contents durable where there is a backing
	// store; it is a no-op for memory that has none.
	Sync() error
	// Close releases the Region. The memory must not be touched afterwards.
	Close() error
}

// Resizer is implemented by a Region that can change size, such as a
// writable file mapping. Resize sets the size, as [os.File.Truncate] does:
// [IO] calls it for Truncate, and for a write past the end of a Region
// that has no [Grower]. It is called with the IO's exclusive lock held, so
// no other call of the Region runs and no call touches the memory, except
// the lock-free copies on a [Retirer]; after Resize returns, Bytes and
// Size describe the size the Region has, whether or not it succeeded. A
// Region without Resizer has a fixed size.
type Resizer interface {
	Resize(size int64) error
}

// Grower is implemented by a Resizer whose backing store grows as bytes
// are written to it, such as a file that pwrite(2) extends exactly to the
// last byte it wrote. Grow writes p at off, where off+len(p) runs past
// Size, and returns the count written: the Region then ends at the last
// byte written, or further if it was already larger; a larger end that
// the backing store reached meanwhile is learned at the next refresh
// ([Refresher]).
// A failed or short Grow leaves the size at what was written: no size is
// ever set ahead of the data, and none is set back, so bytes that other
// processes wrote are kept. [IO] calls it with its exclusive lock held.
type Grower interface {
	Grow(p []byte, off int64) (int, error)
}

// Refresher is implemented by a Region whose backing store can change size
// behind it, such as a file that other processes append to or truncate.
// [IO] asks whenever a call needs to know where the data ends (Size, a
// Seek from the end, a read that reaches the end, a write past it), so
// that bytes appended elsewhere are seen as an [os.File] would see them.
type Refresher interface {
	// StoreSize returns the backing store's size now. IO calls it with
	// its shared lock held: it must not change the Region.
	StoreSize() (int64, error)
	// Refresh makes the Region's size that of the backing store, mapping
	// more memory if need be. IO calls it with its exclusive lock held.
	Refresh() error
}

// RangeSyncer is implemented by a Region that can make part of itself
// durable; [IO.Sync] on a section uses it to sync only the section.
type RangeSyncer interface {
	SyncRange(off, n int64) error
}

// DirectWriter is implemented by a Region whose backing store can take a
// write without the memory being touched, and coherently with it: a shared
// file mapping, through pwrite(2), whose bytes land in the same page cache
// that the mapping shows. A store into mapped memory costs a page fault for
// every page not yet written through the mapping, a system call costs one
// trap, so [IO] writes through WriteDirect where the faults would cost
// more: writes of [DirectWriteMin] bytes or more, and writes that grow the
// Region. A store that faults is also retried through WriteDirect, so
// that a write lands as it would by write(2) even where the file shrank
// under the mapping. off is an offset in the Region, within its size.
type DirectWriter interface {
	WriteDirect(p []byte, off int64) (int, error)
}

// DirectWriteMin is the size from which [IO] writes through a
// [DirectWriter] rather than into the memory: 16 pages of 4 KiB, past
// which a system call costs less than the page faults it may save.
const DirectWriteMin = 64 << 10

// FaultFree is implemented by a Region whose memory cannot fault, such as
// memory on the Go heap; [IO] then skips the fault handling on its hot
// path.
type FaultFree interface {
	FaultFree()
}

// Retirer is implemented by a Region that never unmaps memory a call of
// [IO] may still be copying from. Where such a Region's Close or Resize
// (or Refresh, or Grow) drops memory, it retires it instead: it replaces
// the range, in one system call, by an inaccessible reservation of the
// same addresses (mmap MAP_FIXED with PROT_NONE), so that the addresses
// cannot be taken by another mapping, and a copy still running there
// faults rather than reading or writing someone else's bytes. Retired
// returns the reservations made since its last call and forgets them; IO
// calls it with its exclusive lock held, after every call that may have
// changed the memory, and unmaps each reservation once no call holds the
// memory any longer ([runtime.AddCleanup] on the view it belonged to).
//
// Implementing Retirer takes the lock off ReadAt, WriteAt, Read and Write:
// they load the memory through an atomic pointer instead of holding the
// IO's read lock, so they never wait for Close or a resize, nor make them
// wait, and parallel readers write no shared cache line. A fault on a
// retired range is told apart from a real one: the call returns
// [ErrClosed] if the Region was closed, or runs again on the memory the
// Region has now. A Region without Retirer (Windows views, whose memory
// cannot be retired in one call, and System V segments outside Linux,
// which stay attached until shmdt) keeps the read lock on every call, so
// that its Close and resizes wait for the calls in flight before
// unmapping.
//
// A Region that is [FaultFree] as well is copied without a fault guard,
// so it must never leave a reservation where a call may copy: it hands
// its memory to Retired still mapped as it was, for IO to unmap once no
// call holds it (a sealed memfd segment), or never retires anything (heap
// memory, which the garbage collector keeps while a call holds it). A
// call in flight at Close then completes on that memory. Retired memory
// waits for a collection to find that no call holds it: once 64 MiB of
// memory has been retired still mapped since the last collection that IO
// started began, IO starts another, so that closed segments give back
// their RAM without waiting for the program's heap to grow.
type Retirer interface {
	Retired() [][]byte
	// StopRetiring makes the Region unmap and move memory again, as one
	// without Retirer does. IO calls it at most once, with its exclusive
	// lock held, when retiring left a resize short of address space
	// (ENOMEM: the old and new ranges at once, under RLIMIT_AS), after it
	// has made every call take the lock and seen that no call holds the
	// memory without it.
	StopRetiring()
}

// Unheld is implemented by a [Retirer] that can unmap memory at once
// when no call holds it. IO calls Unheld, with its exclusive lock held,
// just before a Close that finds that no lock-free call ever copied from
// or to the memory it is closing (its view was never held); until the
// next call of Retired, the Region may then unmap what it drops rather
// than retire it, sparing a system call and a cleanup.
type Unheld interface {
	Unheld()
}
