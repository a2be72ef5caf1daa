package ioadapt_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// embedsIO stands for the types of packages mmfile, shm and sysv: a
// Region because it embeds an IO.
type embedsIO struct{ *ioadapt.IO }

// TestNewOfAnIO gives New an IO, and a type that embeds one: New returns
// that IO itself, so a resize of it is seen, Close happens once, and the
// position is the one it has, as bufio.NewReader returns a Reader it is
// given.
func TestNewOfAnIO(t *testing.T) {
	g := ioadapt.New(&growable{b: []byte("0123")})
	if _, err := g.Seek(2, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]ioadapt.Region{"IO": g, "embedding": embedsIO{g}} {
		if c := ioadapt.New(r); c != g {
			t.Errorf("New(%s) = a new IO; want the IO itself", name)
		}
	}
	again := ioadapt.New(g)
	if _, err := again.WriteAt([]byte("grown past the old end"), 4); err != nil {
		t.Fatal(err)
	}
	want := "0123grown past the old end"
	if got := g.Bytes(); !bytes.Equal(got, []byte(want)) {
		t.Errorf("after a growth through New(g), g holds %q; want %q", got, want)
	}
	var b [2]byte
	if n, err := again.Read(b[:]); n != 2 || err != nil || string(b[:]) != "23" {
		t.Errorf("Read through New(g) = %d, %v, %q; want g's position kept", n, err, b[:n])
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Close of g after Close of New(g) = %v; want fs.ErrClosed, the one IO closed once", err)
	}
}

// TestInvalidSizes checks the one sentinel of each bad size: negative
// sizes are ErrInvalidSize, sizes beyond the address space ErrTooLarge.
func TestInvalidSizes(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want error
	}{{-1, ioadapt.ErrInvalidSize}, {math.MinInt64, ioadapt.ErrInvalidSize}} {
		if _, err := ioadapt.NewAnonymous(tc.size); !errors.Is(err, tc.want) {
			t.Errorf("NewAnonymous(%d) = %v; want %v", tc.size, err, tc.want)
		}
	}
	if math.MaxInt < math.MaxInt64 {
		if _, err := ioadapt.NewAnonymous(math.MaxInt64); !errors.Is(err, ioadapt.ErrTooLarge) {
			t.Errorf("NewAnonymous(MaxInt64) on a 32-bit build = %v; want ErrTooLarge", err)
		}
	}
	g := ioadapt.New(&growable{b: []byte("abc")})
	defer g.Close()
	if err := g.Truncate(-1); !errors.Is(err, ioadapt.ErrInvalidSize) || g.Size() != 3 {
		t.Errorf("Truncate(-1) = %v, size %d; want ErrInvalidSize and the size kept", err, g.Size())
	}
}
