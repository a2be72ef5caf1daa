//go:build unix || windows

package ioadapt_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"

	"github.com/mmapkit/mmapkit/ioadapt"
)

// wantEveryCallFaults touches the pages of c from byte 2*page on, which
// fault (what, such as "a truncated range"), with every call that reaches
// the memory: each must return ErrFault in an *fs.PathError naming name.
func wantEveryCallFaults(t *testing.T, c *ioadapt.IO, page int, name, what string) {
	t.Helper()
	p := make([]byte, 100)
	checks := map[string]error{}
	_, checks["ReadAt"] = c.ReadAt(p, int64(2*page))
	_, checks["WriteAt"] = c.WriteAt(p, int64(3*page))
	_, checks["WriteTo"] = c.WriteTo(new(bytes.Buffer)) // a Go writer copies from the mapping
	checks["Access"] = c.Access(func(b []byte) error {
		b[len(b)-1] = 1
		return nil
	})
	if _, err := c.Seek(int64(2*page), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	_, checks["Read"] = c.Read(p)
	for call, err := range checks {
		if !errors.Is(err, ioadapt.ErrFault) {
			t.Errorf("%s of %s = %v; want ErrFault", call, what, err)
			continue
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != name {
			t.Errorf("%s: error %q does not name %s", call, err, name)
		}
	}
	t.Logf("error reads: %v", checks["ReadAt"])
}
