package errs_test

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/mmapkit/mmapkit/internal/errs"
)

var errSentinel = errors.New("sentinel")

// TestNew checks the message and the matching of the one detailed error:
// the message as given, an errno's text appended and a sentinel's not,
// every wrapped error found by errors.Is and errors.As, nils dropped.
func TestNew(t *testing.T) {
	err := errs.New("no segment has this key", errSentinel, nil, syscall.ENOENT)
	if got, want := err.Error(), "no segment has this key: "+syscall.ENOENT.Error(); got != want {
		t.Errorf("message %q; want %q", got, want)
	}
	var errno syscall.Errno
	if !errors.Is(err, errSentinel) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &errno) || errno != syscall.ENOENT {
		t.Errorf("%v does not match its sentinel, ENOENT and fs.ErrNotExist", err)
	}
	if err := errs.Detail(errSentinel, "negative size %d", -1); err.Error() != "negative size -1" || !errors.Is(err, errSentinel) {
		t.Errorf("Detail = %q, matching the sentinel %v", err, errors.Is(err, errSentinel))
	}
}

func TestUnsupported(t *testing.T) {
	err := errs.Unsupported("Global")
	if want := "Global on " + runtime.GOOS + ": unsupported operation"; err.Error() != want {
		t.Errorf("message %q; want %q", err, want)
	}
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("%v does not match errors.ErrUnsupported", err)
	}
}

// TestRollback joins a failed rollback onto the first error, as bbolt
// does, and keeps the first error's type when the rollback succeeded.
func TestRollback(t *testing.T) {
	first := &fs.PathError{Op: "mmap", Path: "f", Err: syscall.ENOMEM}
	if err := errs.Rollback(first, nil); err != error(first) {
		t.Errorf("Rollback(err, nil) = %#v; want err itself", err)
	}
	second := &fs.PathError{Op: "close", Path: "f", Err: os.ErrClosed}
	err := errs.Rollback(first, second)
	if !errors.Is(err, syscall.ENOMEM) || !errors.Is(err, os.ErrClosed) {
		t.Errorf("Rollback = %v; want both errors matched", err)
	}
	if want := first.Error() + "\n" + second.Error(); err.Error() != want {
		t.Errorf("Rollback message %q; want %q", err, want)
	}
}
