//go:build !linux && !windows

package ipc

import (
	"errors"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestUnsupported: on this system every entry point says that pipes need
// Linux, and nothing else happens.
func TestUnsupported(t *testing.T) {
	mem := ioadapt.NewMemory(make([]byte, PipeSize(4096)))
	for name, fn := range map[string]func() error{
		"CreatePipe":      func() error { _, err := CreatePipe(mem); return err },
		"OpenPipe":        func() error { _, err := OpenPipe(mem); return err },
		"CreateNamedPipe": func() error { _, err := CreateNamedPipe("mmapkit-ipc-unsupported", 4096); return err },
		"OpenNamedPipe":   func() error { _, err := OpenNamedPipe("mmapkit-ipc-unsupported"); return err },
	} {
		if err := fn(); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want an error wrapping ErrUnsupported", name, err)
		}
	}
	if b := mem.Bytes(); b[0] != 0 {
		t.Errorf("CreatePipe wrote to the region")
	}
}
