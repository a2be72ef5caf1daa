package ioadapt_test

import (
	"bytes"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/mmapkit/mmapkit/internal/testkit"
	"github.com/mmapkit/mmapkit/ioadapt"
)

// virtualRegion is memory from VirtualAlloc whose pages past the first
// keep can be made inaccessible, to test the core's fault handling on
// Windows: touching them raises EXCEPTION_ACCESS_VIOLATION, which the Go
// runtime handles as it does EXCEPTION_IN_PAGE_ERROR, the exception of a
// view whose file cannot be read.
type virtualRegion struct {
	b    []byte
	name string
}

func newVirtualRegion(t *testing.T, name string, size int) *virtualRegion {
	t.Helper()
	addr, err := windows.VirtualAlloc(0, uintptr(size), windows.MEM_RESERVE|windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if err != nil {
		t.Fatal(err)
	}
	b := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), size)
	copy(b, testkit.Pattern(size))
	return &virtualRegion{b: b, name: name}
}

// revoke makes the pages from byte off on inaccessible.
func (r *virtualRegion) revoke(t *testing.T, off int) {
	t.Helper()
	var old uint32
	if err := windows.VirtualProtect(uintptr(unsafe.Pointer(&r.b[off])), uintptr(len(r.b)-off), windows.PAGE_NOACCESS, &old); err != nil {
		t.Fatal(err)
	}
}

func (r *virtualRegion) Bytes() []byte  { return r.b }
func (r *virtualRegion) Size() int64    { return int64(len(r.b)) }
func (r *virtualRegion) Writable() bool { return true }
func (r *virtualRegion) Name() string   { return r.name }
func (r *virtualRegion) Sync() error    { return nil }
func (r *virtualRegion) Close() error {
	return windows.VirtualFree(uintptr(unsafe.Pointer(unsafe.SliceData(r.b))), 0, windows.MEM_RELEASE)
}

// TestFaultInRegionWindows touches pages of a Region that fault: every
// call returns ErrFault naming the Region, and the process lives on.
func TestFaultInRegionWindows(t *testing.T) {
	page := os.Getpagesize()
	r := newVirtualRegion(t, "faulty", 4*page)
	r.revoke(t, 2*page)
	c := ioadapt.New(r)
	defer c.Close()

	p := make([]byte, 100)
	if _, err := c.ReadAt(p, 0); err != nil || !bytes.Equal(p, testkit.Pattern(100)) {
		t.Fatalf("read of the pages that remain: %v", err)
	}
	wantEveryCallFaults(t, c, page, "faulty", "an inaccessible page")
}

// TestForeignFaultStillPanicsWindows checks that a fault outside the
// Region is not swallowed: Access re-raises it.
func TestForeignFaultStillPanicsWindows(t *testing.T) {
	page := os.Getpagesize()
	c := ioadapt.New(newVirtualRegion(t, "mine", 2*page))
	defer c.Close()
	foreign := newVirtualRegion(t, "other", 2*page)
	defer foreign.Close()
	foreign.revoke(t, page)
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("a fault outside the Region was swallowed")
		}
	}()
	_ = c.Access(func(b []byte) error {
		copy(b, foreign.b[page:])
		return nil
	})
}
