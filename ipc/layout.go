package ipc

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// The layout of docs/ipc-layout.md, version 1.2: offsets from the start of
// the object. layout_test.go checks them against the tables of the doc.
const (
	versionMajor = 1
	versionMinor = 2
	lineSize     = 128

	// Line 0: the header.
	offMagic      = 0
	offMajor      = 8
	offMinor      = 10
	offHeaderSize = 12
	offKind       = 16
	offFlags      = 20
	offLineSize   = 24
	offSlotCount  = 28
	offCapacity   = 32
	offDataOffset = 40
	offLockBase   = 48
	offLockDev    = 56
	offLockIno    = 64
	offState      = 72
	offWaitID     = 80

	// Lines 1-5: the pipe's control words.
	offWriterState   = 128
	offReaderState   = 132
	offTail          = 256
	offHead          = 384
	offDataSeq       = 512
	offDataSleepers  = 516
	offSpaceSeq      = 640
	offSpaceSleepers = 644
	offWakeTime      = 8 // from a seq word: the time of the last wake of its sleeper

	// The participant slots, slotSize bytes each.
	offSlots      = 1024
	slotSize      = 64
	offSlotOwner  = 0
	offSlotRole   = 8
	offSlotStart  = 16
	offSlotPidNS  = 24
	pipeSlots     = 2
	slotWriter    = 0
	slotReader    = 1
	pipeHeaderEnd = offSlots + pipeSlots*slotSize // header_size of a pipe

	// pipeDataOffset is where a pipe's ring starts: the header page.
	pipeDataOffset = 4096

	minCapacity = 64
	maxCapacity = 1 << 40
)

// magic is "MMKITIPC" as the little-endian u64 at offset 0.
var magic = binary.LittleEndian.Uint64([]byte("MMKITIPC"))

// Kinds of object.
const (
	kindBytes     = 1
	kindMessages  = 2
	kindMutex     = 3
	kindSemaphore = 4
	kindEvent     = 5
)

// The layout of a Mutex, a Semaphore and an Event (section 8 of the doc):
// the header line, one line of the object's words, then the slots, one
// line each, since each is written by its own participant.
const (
	offObjSlots    = 2 * lineSize // the first slot
	objSlotStride  = lineSize
	offSlotPermits = 64 // in a semaphore's slot: held and in-flight permits
	// MaxParticipants is the most handles a Mutex, Semaphore or Event
	// can have attached at once: each has a bit in the 32-bit words that
	// record sleepers and transfers in flight.
	MaxParticipants = 32

	// Line 1 of a mutex.
	offMutexLock     = 128
	offMutexSeq      = 136
	offMutexSleepers = 140

	// Line 1 of a semaphore.
	offSemCount    = 128
	offSemMax      = 136
	offSemSeq      = 140
	offSemSleepers = 144

	// Line 1 of an event.
	offEventState    = 128
	offEventMode     = 132
	offEventSeq      = 136
	offEventSleepers = 140
)

// The mutex's lock word: 0 when free; else a state in its low byte and
// the holder's slot epoch and index above, as a slot's owner word holds
// a state, an epoch and a pid.
const (
	lockHeld          = 1 // held, the data consistent
	lockInconsistent  = 2 // held by a process that took it from a dead owner, before MarkConsistent
	lockUnrecoverable = 3 // released inconsistent: nobody can take it again
)

// objSize is the bytes of a Mutex, Semaphore or Event with n slots.
func objSize(n int) int { return offObjSlots + n*objSlotStride }

// objSlotOff is the offset of slot i of a Mutex, Semaphore or Event.
func objSlotOff(i int) int { return offObjSlots + i*objSlotStride }

// lockWord packs the mutex's lock word.
func lockWord(state uint8, epoch uint32, slot int) uint64 {
	return uint64(state) | uint64(epoch&0xffffff)<<8 | uint64(uint32(slot))<<32
}

func lockSlot(w uint64) int { return int(uint32(w >> 32)) }

// Header flags.
const (
	flagLocks  = 1 << 0 // participants hold OFD locks on the region's file
	knownFlags = flagLocks
)

// Header states.
const (
	stateEmpty    = 0
	stateInit     = 1
	stateReady    = 2
	stateClosed   = 3
	statePoisoned = 4
)

var stateNames = [...]string{"empty", "init", "ready", "closed", "poisoned"}

func stateName(s uint32) string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Role states (writer_state, reader_state).
const (
	roleNone   = 0
	roleOpen   = 1
	roleClosed = 2
)

// Slot states, the low byte of a slot's owner word.
const (
	slotFree     = 0
	slotClaiming = 1
	slotAttached = 2
)

// Slot roles.
const (
	roleWriter = 1
	roleReader = 2
)

// Message frames.
const (
	frameHeader  = 8
	frameRecord  = 1
	framePadding = 2
)

// owner packs a slot's owner word: state, epoch (24 bits) and pid.
func owner(state uint8, epoch uint32, pid int) uint64 {
	return uint64(state) | uint64(epoch&0xffffff)<<8 | uint64(uint32(pid))<<32
}

func ownerState(w uint64) uint8  { return uint8(w) }
func ownerEpoch(w uint64) uint32 { return uint32(w>>8) & 0xffffff }
func ownerPid(w uint64) int      { return int(int32(uint32(w >> 32))) }

// header is line 0, decoded.
type header struct {
	magic      uint64
	major      uint16
	minor      uint16
	headerSize uint32
	kind       uint32
	flags      uint32
	lineSize   uint32
	slotCount  uint32
	capacity   uint64
	dataOffset uint64
	lockBase   uint64
	lockDev    uint64
	lockIno    uint64
	state      uint32
	waitID     uint64
}

// decodeHeader reads line 0 of b, which holds at least lineSize bytes at
// an 8-byte aligned address. magic and state are loaded atomically, as the
// creator stores them.
func decodeHeader(b []byte) header {
	le := binary.LittleEndian
	return header{
		magic:      atomic.LoadUint64(u64(b, offMagic)),
		major:      le.Uint16(b[offMajor:]),
		minor:      le.Uint16(b[offMinor:]),
		headerSize: le.Uint32(b[offHeaderSize:]),
		kind:       le.Uint32(b[offKind:]),
		flags:      le.Uint32(b[offFlags:]),
		lineSize:   le.Uint32(b[offLineSize:]),
		slotCount:  le.Uint32(b[offSlotCount:]),
		capacity:   le.Uint64(b[offCapacity:]),
		dataOffset: le.Uint64(b[offDataOffset:]),
		lockBase:   le.Uint64(b[offLockBase:]),
		lockDev:    le.Uint64(b[offLockDev:]),
		lockIno:    le.Uint64(b[offLockIno:]),
		state:      atomic.LoadUint32(u32(b, offState)),
		waitID:     le.Uint64(b[offWaitID:]),
	}
}

// encodeHeader writes every field of h but magic and state, which the
// creator stores last (section 2.1 of the doc).
func encodeHeader(b []byte, h *header) {
	le := binary.LittleEndian
	le.PutUint16(b[offMajor:], h.major)
	le.PutUint16(b[offMinor:], h.minor)
	le.PutUint32(b[offHeaderSize:], h.headerSize)
	le.PutUint32(b[offKind:], h.kind)
	le.PutUint32(b[offFlags:], h.flags)
	le.PutUint32(b[offLineSize:], h.lineSize)
	le.PutUint32(b[offSlotCount:], h.slotCount)
	le.PutUint64(b[offCapacity:], h.capacity)
	le.PutUint64(b[offDataOffset:], h.dataOffset)
	le.PutUint64(b[offLockBase:], h.lockBase)
	le.PutUint64(b[offLockDev:], h.lockDev)
	le.PutUint64(b[offLockIno:], h.lockIno)
	le.PutUint64(b[offWaitID:], h.waitID)
}

// checkRegion refuses memory that cannot hold a header: too small for
// line 0, or at an address that 64-bit atomics cannot use.
func checkRegion(b []byte) error {
	if len(b) < lineSize {
		return detail(ErrInvalidHeader, "region is %d bytes, smaller than the %d-byte header line", len(b), lineSize)
	}
	if a := uintptr(unsafe.Pointer(unsafe.SliceData(b))); a%8 != 0 {
		return detail(ErrInvalidHeader, "region starts at address %#x, which is not 8-byte aligned", a)
	}
	return nil
}

// validate checks a header in the ready state against this version of the
// layout and a region of size bytes, in the order of section 2.2 of the
// doc. The error names the field and the value found.
func (h *header) validate(size int64) error {
	if err := h.validateVersion(); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return detail(ErrInvalidHeader, format, args...)
	}
	if h.kind != kindBytes && h.kind != kindMessages {
		return bad("kind %d is not a pipe (1: bytes, 2: messages)", h.kind)
	}
	if h.headerSize != pipeHeaderEnd {
		return bad("header_size %d, want %d for a pipe", h.headerSize, pipeHeaderEnd)
	}
	if h.lineSize != lineSize {
		return bad("line_size %d, want %d", h.lineSize, lineSize)
	}
	if h.slotCount != pipeSlots {
		return bad("slot_count %d, want %d for a pipe", h.slotCount, pipeSlots)
	}
	if err := h.validateFlags(); err != nil {
		return err
	}
	if h.capacity < minCapacity || h.capacity > maxCapacity || bits.OnesCount64(h.capacity) != 1 {
		return bad("capacity %d is not a power of two from %d to %d", h.capacity, minCapacity, uint64(maxCapacity))
	}
	if h.dataOffset%lineSize != 0 || h.dataOffset < uint64(h.headerSize) {
		return bad("data_offset %d is not a multiple of %d at or past the header's %d bytes", h.dataOffset, lineSize, h.headerSize)
	}
	// Not data_offset + capacity > size: the sum of two words a peer
	// wrote can wrap around.
	if size < 0 || h.dataOffset > uint64(size) || h.capacity > uint64(size)-h.dataOffset {
		return bad("data_offset %d + capacity %d runs past the end of the %d-byte region", h.dataOffset, h.capacity, size)
	}
	return h.validateLockBase()
}

// validateObject checks the header of a Mutex, Semaphore or Event (kind)
// in the size bytes from the object's start to the end of its Region, in
// the order of section 8.1 of the doc.
func (h *header) validateObject(kind uint32, size int64) error {
	if err := h.validateVersion(); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return detail(ErrInvalidHeader, format, args...)
	}
	if h.kind != kind {
		return bad("kind %d is not %s (%d)", h.kind, aKind(kind), kind)
	}
	if h.slotCount < 1 || h.slotCount > MaxParticipants {
		return bad("slot_count %d is not from 1 to %d", h.slotCount, MaxParticipants)
	}
	if want := objSize(int(h.slotCount)); h.headerSize != uint32(want) {
		return bad("header_size %d, want %d for %s of %d slots", h.headerSize, want, aKind(kind), h.slotCount)
	}
	if h.lineSize != lineSize {
		return bad("line_size %d, want %d", h.lineSize, lineSize)
	}
	if err := h.validateFlags(); err != nil {
		return err
	}
	if h.capacity != 0 || h.dataOffset != 0 {
		return bad("capacity %d and data_offset %d, want 0 and 0: %s has no ring", h.capacity, h.dataOffset, aKind(kind))
	}
	if size < 0 || uint64(h.headerSize) > uint64(size) {
		return bad("header_size %d runs past the end of the region (%d bytes from the %s)", h.headerSize, size, kindName(kind))
	}
	return h.validateLockBase()
}

// validateVersion is the first check of every kind: the magic, then the
// major version.
func (h *header) validateVersion() error {
	if h.magic != magic {
		return detail(ErrInvalidHeader, "magic %q is not %q: the region holds no mmapkit ipc object", magicString(h.magic), "MMKITIPC")
	}
	if h.major != versionMajor {
		return detail(ErrInvalidHeader, "version_major %d (version %d.%d): this package reads version %d.x", h.major, h.major, h.minor, versionMajor)
	}
	return nil
}

func (h *header) validateFlags() error {
	if u := h.flags &^ knownFlags; u != 0 {
		return detail(ErrInvalidHeader, "flags %#x has unknown bits %#x", h.flags, u)
	}
	return nil
}

func (h *header) validateLockBase() error {
	if h.flags&flagLocks != 0 && (h.lockBase < 1<<62 || h.lockBase > 1<<63-1-256) {
		return detail(ErrInvalidHeader, "lock_base %#x is not in [2^62, 2^63-256)", h.lockBase)
	}
	return nil
}

// kindName names a kind of object in messages.
func kindName(kind uint32) string {
	switch kind {
	case kindBytes, kindMessages:
		return "pipe"
	case kindMutex:
		return "mutex"
	case kindSemaphore:
		return "semaphore"
	case kindEvent:
		return "event"
	}
	return "kind " + strconv.Itoa(int(kind))
}

// aKind is kindName with its article, for messages.
func aKind(kind uint32) string {
	if kind == kindEvent {
		return "an event"
	}
	return "a " + kindName(kind)
}

func magicString(m uint64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], m)
	return string(b[:])
}

// u32 and u64 return the word at off of b for atomic access. The callers
// have checked that b holds it and is 8-byte aligned.
// The bounds are checked without loading from the memory, which the race
// detector would count as a plain read racing with the atomic stores.
func u32(b []byte, off int) *uint32 {
	if off < 0 || off > len(b)-4 {
		panic("ipc: word out of range")
	}
	return (*uint32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), off))
}

func u64(b []byte, off int) *uint64 {
	if off < 0 || off > len(b)-8 {
		panic("ipc: word out of range")
	}
	return (*uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), off))
}

// slotOff is the offset of slot i.
func slotOff(i int) int { return offSlots + i*slotSize }
