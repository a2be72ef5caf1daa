package mmfile

import (
	"strconv"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// Option configures how a file is mapped. Options are made by the functions
// of this package; a nil Option is ignored. A platform that cannot honour
// an option makes the open fail with an error wrapping
// [ioadapt.ErrUnsupported] that names the option and the platform; none
// is ever ignored.
type Option interface {
	apply(*config)
}

type config struct {
	off, n    int64 // the range; n < 0 means to the end of the file
	ranged    bool
	private   bool
	populate  bool
	lock      bool
	readWrite bool // for Map: map the *os.File for writing
	advice    []Advice
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// newConfig applies opts and refuses what this platform cannot honour.
// Without options it returns the defaults without touching the heap: the
// config that options write through a pointer escapes (applyOptions).
func newConfig(opts []Option) (config, error) {
	if len(opts) == 0 {
		return config{n: -1}, nil
	}
	return applyOptions(opts)
}

func applyOptions(opts []Option) (config, error) {
	c := config{n: -1}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.populate && populateFlag == 0 {
		return c, errs.Unsupported("Populate (MAP_POPULATE)")
	}
	return c, nil
}

// Range maps only n bytes of the file starting at offset off. Any offset is
// allowed: the mapping is aligned to pages internally and exposes exactly
// the bytes asked for, at offsets 0 to n. The range must lie within the
// file, and a ranged mapping never grows.
func Range(off, n int64) Option {
	return optionFunc(func(c *config) { c.off, c.n, c.ranged = off, n, true })
}

// Private maps the file copy-on-write: writes change this process's view
// only, never the file, and are lost at Close. The file may be opened
// read-only. A private mapping never grows, Sync does nothing, and
// [DontNeed] advice is refused, as it would discard the writes.
func Private() Option {
	return optionFunc(func(c *config) { c.private = true })
}

// Populate prefaults the whole mapping at open (MAP_POPULATE on Linux), so
// that the first touch of each page costs no page fault. It pays off for
// files read in full, and costs time at open for large files read sparsely.
func Populate() Option {
	return optionFunc(func(c *config) { c.populate = true })
}

// LockMemory locks the mapped pages in memory (mlock), so that they are
// never paged out; see [File.LockMemory].
func LockMemory() Option {
	return optionFunc(func(c *config) { c.lock = true })
}

// WithAdvice gives the kernel a hint about the access pattern at open; see
// [File.Advise].
func WithAdvice(a Advice) Option {
	return optionFunc(func(c *config) { c.advice = append(c.advice, a) })
}

// ReadWrite makes [Map] map the file for writing; the *os.File must have
// been opened with O_RDWR. Without it, Map maps read-only.
func ReadWrite() Option {
	return optionFunc(func(c *config) { c.readWrite = true })
}

// Advice is a hint about how a mapping will be used (madvise(2)).
type Advice int

const (
	// Normal is the default readahead behaviour.
	Normal Advice = iota
	// Sequential expects reads in order: aggressive readahead, pages
	// dropped soon after use.
	Sequential
	// Random expects reads in no order: readahead off.
	Random
	// WillNeed starts reading the pages in now.
	WillNeed
	// DontNeed lets the kernel drop the pages; a shared file mapping reads
	// them back from the file on the next touch. A [Private] mapping refuses
	// it: its pages hold its writes, which dropping them would discard.
	DontNeed
	// HugePage asks for transparent huge pages where the file system
	// supports them (tmpfs, and Linux with CONFIG_READ_ONLY_THP_FOR_FS).
	HugePage
)

func (a Advice) String() string {
	switch a {
	case Normal:
		return "normal"
	case Sequential:
		return "sequential"
	case Random:
		return "random"
	case WillNeed:
		return "willneed"
	case DontNeed:
		return "dontneed"
	case HugePage:
		return "hugepage"
	}
	return "advice(" + strconv.Itoa(int(a)) + ")"
}
