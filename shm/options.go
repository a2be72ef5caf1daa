package shm

import (
	"io/fs"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// An Option changes how a segment is created or opened. Options are made by
// the functions of this package only; a nil Option is ignored. An option
// that the platform cannot honour makes the call fail with an error
// wrapping [ioadapt.ErrUnsupported] that names the option and the
// platform: none is ever ignored.
type Option interface {
	apply(*config)
}

type config struct {
	readOnly   bool
	perm       fs.FileMode
	permSet    bool // Mode was given
	secure     bool
	global     bool
	expectSize int64
	expectSet  bool
	dir        string // "": the system's shared-memory directory
}

// newConfig applies opts and refuses an invalid one, or one that this
// platform cannot honour (checkOptionsOS).
func newConfig(opts []Option) (*config, error) {
	c := &config{perm: 0o600}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if err := errs.CheckMode(c.perm); err != nil {
		return nil, err
	}
	if err := checkOptionsOS(c); err != nil {
		return nil, err
	}
	return c, nil
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// ReadOnly maps the segment without write access: every write returns an
// error wrapping [ioadapt.ErrReadOnly], and on Linux the segment is opened
// O_RDONLY, so read permission suffices. With Create it still creates the
// segment (zero-filled) and maps it read-only; the descriptor behind it,
// and so the file that [Segment.File] returns, stays open for writing.
func ReadOnly() Option { return optionFunc(func(c *config) { c.readOnly = true }) }

// Mode sets the permission bits of a segment that is created, 0600 (owner
// only) by default. They are applied with fchmod(2) after creation, so the
// process umask cannot narrow them. Only the permission bits (0777) are
// allowed: others make the call fail with an error wrapping
// [fs.ErrInvalid]. With [RequireSecure], they are also the most an opened
// segment may grant. Windows refuses it (an error wrapping
// [ioadapt.ErrUnsupported]): its objects get the default security of the
// creating process, which no mode describes.
func Mode(perm fs.FileMode) Option {
	return optionFunc(func(c *config) { c.perm, c.permSet = perm, true })
}

// RequireSecure makes Open (and the open half of OpenOrCreate) refuse, with
// an error wrapping [ErrInsecure], a segment that is owned by a user other
// than the effective user, or whose permissions grant anything beyond those
// of [Mode] (0600 by default): a segment that someone else may have planted
// or may read. Windows, which has no owner and mode to check, refuses it.
func RequireSecure() Option { return optionFunc(func(c *config) { c.secure = true }) }

// Global puts the name in the Windows Global\ namespace, shared by all
// sessions, instead of the default Local\ (the session's own). Creating a
// Global\ object needs SeCreateGlobalPrivilege. Other systems, which have
// one namespace, refuse it.
func Global() Option { return optionFunc(func(c *config) { c.global = true }) }

// ExpectSize makes Open and FromFile check that the segment is size bytes
// long and fail with an error wrapping [ErrSizeMismatch] if not. Opening
// never changes a segment's size. On Windows, where a mapping's size is
// known only in whole pages, the check is that size rounds up to the
// mapping's size, and Size then reports size.
func ExpectSize(size int64) Option {
	return optionFunc(func(c *config) { c.expectSize, c.expectSet = size, true })
}
