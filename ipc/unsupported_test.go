//go:build !linux && !windows

package ipc

import (
	"errors"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestUnsupported: on this system every entry point says that pipes and
// locks need Linux, and nothing else happens.
func TestUnsupported(t *testing.T) {
	mem := ioadapt.NewMemory(make([]byte, PipeSize(4096)))
	for name, fn := range map[string]func() error{
		"CreatePipe":       func() error { _, err := CreatePipe(mem); return err },
		"OpenPipe":         func() error { _, err := OpenPipe(mem); return err },
		"CreateNamedPipe":  func() error { _, err := CreateNamedPipe("mmapkit-ipc-unsupported", 4096); return err },
		"OpenNamedPipe":    func() error { _, err := OpenNamedPipe("mmapkit-ipc-unsupported"); return err },
		"CreateMutex":      func() error { _, err := CreateMutex(mem, 0); return err },
		"OpenMutex":        func() error { _, err := OpenMutex(mem, 0); return err },
		"CreateNamedMutex": func() error { _, err := CreateNamedMutex("mmapkit-ipc-unsupported"); return err },
		"OpenNamedMutex":   func() error { _, err := OpenNamedMutex("mmapkit-ipc-unsupported"); return err },
		"CreateSemaphore":  func() error { _, err := CreateSemaphore(mem, 0, 1, 1); return err },
		"OpenSemaphore":    func() error { _, err := OpenSemaphore(mem, 0); return err },
		"CreateNamedSemaphore": func() error {
			_, err := CreateNamedSemaphore("mmapkit-ipc-unsupported", 1, 1)
			return err
		},
		"OpenNamedSemaphore": func() error { _, err := OpenNamedSemaphore("mmapkit-ipc-unsupported"); return err },
		"CreateEvent":        func() error { _, err := CreateEvent(mem, 0, false); return err },
		"OpenEvent":          func() error { _, err := OpenEvent(mem, 0); return err },
		"CreateNamedEvent":   func() error { _, err := CreateNamedEvent("mmapkit-ipc-unsupported", true); return err },
		"OpenNamedEvent":     func() error { _, err := OpenNamedEvent("mmapkit-ipc-unsupported"); return err },
	} {
		if err := fn(); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want an error wrapping ErrUnsupported", name, err)
		}
	}
	if b := mem.Bytes(); b[0] != 0 {
		t.Errorf("a constructor wrote to the region")
	}
}
