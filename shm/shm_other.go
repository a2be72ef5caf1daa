//go:build !linux && !windows

package shm

import (
	"io/fs"
	"os"

	"github.com/mmapkit/mmapkit/internal/errs"
	"github.com/mmapkit/mmapkit/internal/region"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// On the BSDs and macOS shm_open(2) is reached through libc or a raw
// system call that golang.org/x/sys/unix does not wrap, and without cgo
// this package does not call it. Every entry point reports that; no
// segment is ever made, so its methods below are never called.

type segment struct{ region.Fixed }

func (r *segment) Close() error { return nil }

func unsupported(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: errs.Unsupported("shared memory")}
}

// checkOptionsOS has nothing to refuse: every call fails anyway.
func checkOptionsOS(*config) error { return nil }

func checkNameOS(string) error { return nil }

func openNamed(op, _, name string, _ how, _ int64, _ *config) (*segment, error) {
	return nil, unsupported(op, name)
}

func createAnon(op string, _ int64, _ *config) (*segment, error) {
	return nil, unsupported(op, anonName)
}

func fromFile(op string, f *os.File, _ *config) (*segment, error) {
	return nil, unsupported(op, f.Name())
}

func unlinkName(_, name string) error { return unsupported("unlink", name) }

func (r *segment) unlink() error            { return unsupported("unlink", r.Label) }
func (r *segment) dup() (*os.File, error)   { return nil, unsupported("file", r.Label) }
func (r *segment) stat() (Info, error)      { return Info{}, unsupported("stat", r.Label) }
func listDir(string) ([]Info, error)        { return nil, unsupported("list", "") }
func inUse(string) (map[string]bool, error) { return nil, unsupported("removestale", "") }

// region returns r.
func (r *segment) region(bool) ioadapt.Region { return r }
