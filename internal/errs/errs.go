// Package errs builds the errors of every package of the module in one
// way, so that they read and match alike:
//
//   - [New] and [Detail] give one or more sentinels (and errnos) a message
//     that carries the values involved, while [errors.Is] still finds each
//     of them; the caller puts the result in an [*fs.PathError] that names
//     the user's call and the Region;
//   - [Unsupported] is the one shape of "this platform cannot": it names
//     what and the platform, and wraps [errors.ErrUnsupported];
//   - [Rollback] joins the error of a rollback onto the error that caused
//     it, as bbolt does, without changing the first error's type when the
//     rollback succeeded.
package errs

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"syscall"
)

// detailed is an error with a message of its own that still matches each
// of errs with errors.Is and errors.As.
type detailed struct {
	msg  string
	errs []error
}

func (e *detailed) Error() string   { return e.msg }
func (e *detailed) Unwrap() []error { return e.errs }

// New returns an error that reads as msg and wraps every non-nil error of
// wrapped. The text of a wrapped [syscall.Errno] is appended ("...: no
// such file or directory"), so that the kernel's word is never lost; the
// text of a sentinel is not, as msg says what went wrong in its own words.
func New(msg string, wrapped ...error) error {
	var kept []error
	var b strings.Builder
	b.WriteString(msg)
	for _, err := range wrapped {
		if err == nil {
			continue
		}
		kept = append(kept, err)
		if _, ok := err.(syscall.Errno); ok {
			b.WriteString(": ")
			b.WriteString(err.Error())
		}
	}
	return &detailed{msg: b.String(), errs: kept}
}

// Detail returns an error that reads as the formatted message and wraps
// sentinel: New with one sentinel and a format.
func Detail(sentinel error, format string, args ...any) error {
	return &detailed{msg: fmt.Sprintf(format, args...), errs: []error{sentinel}}
}

// Unsupported returns the error of something this platform cannot do:
// "what on GOOS: unsupported operation", wrapping [errors.ErrUnsupported].
func Unsupported(what string) error {
	return &detailed{
		msg:  what + " on " + runtime.GOOS + ": " + errors.ErrUnsupported.Error(),
		errs: []error{errors.ErrUnsupported},
	}
}

// Rollback returns err, the error that made a call undo what it had done,
// with the error of the undoing joined onto it ([errors.Join]): err
// itself when the rollback succeeded, so that an [*fs.PathError] stays
// one at the top.
func Rollback(err, rollback error) error {
	if rollback == nil {
		return err
	}
	return errors.Join(err, rollback)
}

// CheckMode returns nil for permission bits that a Mode option may carry
// (0777 and no more), and else an error wrapping [fs.ErrInvalid] that
// gives the mode: the one rule for the Mode options of every package.
func CheckMode(perm fs.FileMode) error {
	if perm&^fs.ModePerm != 0 {
		return Detail(fs.ErrInvalid, "mode %v has bits other than the permission bits 0777", perm)
	}
	return nil
}
