package ioadapt

// Region is a run of mapped or in-process memory with a lifetime. File
// mappings, shared-memory segments, anonymous mappings and byte slices all
// satisfy it, and so does [IO] itself, so a section of a Region is a Region.
//
// A Region need not be safe for concurrent use: [IO] serialises Resize and
// Close against every other call.
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
// writable file mapping. [IO] calls Resize with its exclusive lock held, so
// no other call is touching the memory; after Resize returns, Bytes and
// Size describe the new size. A Region without Resizer has a fixed size.
type Resizer interface {
	Resize(size int64) error
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
// Region. off is an offset in the Region, within its size.
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
