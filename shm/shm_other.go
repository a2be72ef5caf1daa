//go:build !linux && !windows

package shm

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// On the BSDs and macOS shm_open(2) is reached through libc or a raw
// system call that golang.org/x/sys/unix does not wrap, and without cgo
// this package does not call it. Every entry point reports that.

type region struct{ name string }

func (r *region) Bytes() []byte  { return nil }
func (r *region) Size() int64    { return 0 }
func (r *region) Writable() bool { return false }
func (r *region) Name() string   { return r.name }
func (r *region) Sync() error    { return nil }
func (r *region) Close() error   { return nil }

func unsupported(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("shared memory on %s: %w", runtime.GOOS, ErrUnsupported)}
}

func checkNameOS(string) error { return nil }

func openNamed(op, name string, _ how, _ int64, _ *config) (*region, error) {
	return nil, unsupported(op, name)
}

func createAnon(op string, _ int64, _ *config) (*region, error) {
	return nil, unsupported(op, anonName)
}

func fromFile(op string, f *os.File, _ *config) (*region, error) {
	return nil, unsupported(op, f.Name())
}

func unlinkName(_, name string) error { return unsupported("unlink", name) }

func (r *region) unlink() error             { return unsupported("unlink", r.name) }
func (r *region) dup() (*os.File, error)    { return nil, unsupported("file", r.name) }
func (r *region) stat() (Info, error)       { return Info{}, unsupported("stat", r.name) }
func listDir(string) ([]Info, error)        { return nil, unsupported("list", "") }
func inUse(string) (map[string]bool, error) { return nil, unsupported("list", "") }
