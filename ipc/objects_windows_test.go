package ipc

import (
	"errors"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// TestObjectsUnsupported: on Windows pipes work, but every constructor of
// a Mutex, Semaphore or Event says that they are not supported there, and
// writes nothing.
func TestObjectsUnsupported(t *testing.T) {
	mem := ioadapt.NewMemory(make([]byte, 64<<10))
	for name, fn := range map[string]func() error{
		"CreateMutex":          func() error { _, err := CreateMutex(mem, 0); return err },
		"OpenMutex":            func() error { _, err := OpenMutex(mem, 0); return err },
		"CreateNamedMutex":     func() error { _, err := CreateNamedMutex("mmapkit-ipc-unsupported"); return err },
		"OpenNamedMutex":       func() error { _, err := OpenNamedMutex("mmapkit-ipc-unsupported"); return err },
		"CreateSemaphore":      func() error { _, err := CreateSemaphore(mem, 0, 1, 1); return err },
		"OpenSemaphore":        func() error { _, err := OpenSemaphore(mem, 0); return err },
		"CreateNamedSemaphore": func() error { _, err := CreateNamedSemaphore("mmapkit-ipc-unsupported", 1, 1); return err },
		"OpenNamedSemaphore":   func() error { _, err := OpenNamedSemaphore("mmapkit-ipc-unsupported"); return err },
		"CreateEvent":          func() error { _, err := CreateEvent(mem, 0, false); return err },
		"OpenEvent":            func() error { _, err := OpenEvent(mem, 0); return err },
		"CreateNamedEvent":     func() error { _, err := CreateNamedEvent("mmapkit-ipc-unsupported", true); return err },
		"OpenNamedEvent":       func() error { _, err := OpenNamedEvent("mmapkit-ipc-unsupported"); return err },
	} {
		if err := fn(); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want an error wrapping ErrUnsupported", name, err)
		}
	}
	for i, v := range mem.Bytes() {
		if v != 0 {
			t.Fatalf("a constructor wrote to the region: byte %d is %#x", i, v)
		}
	}
}
