package mmfile_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
	"github.com/mmapkit/mmapkit/mmfile"
)

// TestDontNeedOnPrivateRefused advises DontNeed on a Private mapping,
// which would drop its private pages and so its writes: Advise refuses,
// and the writes are still there. On a shared mapping the writes are the
// file's, and DontNeed loses nothing.
func TestDontNeedOnPrivateRefused(t *testing.T) {
	path := writeFile(t, "private", []byte("original contents"))
	f, err := mmfile.Open(path, mmfile.Private())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("CHANGED"), 0); err != nil {
		t.Fatal(err)
	}
	err = f.Advise(mmfile.DontNeed)
	if !errors.Is(err, ioadapt.ErrUnsupported) || !strings.Contains(err.Error(), "Private") {
		t.Errorf("Advise(DontNeed) on a Private mapping = %v; want it refused", err)
	}
	got := make([]byte, 17)
	if _, err := f.ReadAt(got, 0); err != nil || string(got) != "CHANGEDl contents" {
		t.Errorf("after Advise(DontNeed) the private mapping reads %q, %v; want its write kept", got, err)
	}
	if g, err := mmfile.Open(path, mmfile.Private(), mmfile.WithAdvice(mmfile.DontNeed)); !errors.Is(err, ioadapt.ErrUnsupported) {
		if g != nil {
			g.Close()
		}
		t.Errorf("Open(Private, WithAdvice(DontNeed)) = %v; want it refused", err)
	}

	shared, err := mmfile.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	if _, err := shared.WriteAt([]byte("SHARED"), 0); err != nil {
		t.Fatal(err)
	}
	if err := shared.Advise(mmfile.DontNeed); err != nil && !errors.Is(err, ioadapt.ErrUnsupported) {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "SHAREDal contents" {
		t.Errorf("file holds %q after DontNeed on a shared mapping", b)
	}
}
