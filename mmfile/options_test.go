package mmfile_test

import (
	"testing"

	"github.com/mmapkit/mmapkit/mmfile"
)

// TestNilOption gives the opens a nil Option among real ones: it is
// ignored, as the segment packages ignore one, rather than a nil
// dereference, and the other options still apply.
func TestNilOption(t *testing.T) {
	path := writeFile(t, "nil-option", []byte("0123456789"))
	f, err := mmfile.Open(path, nil, mmfile.Range(2, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := string(f.Bytes()); got != "234" {
		t.Errorf("Open with nil Options around Range(2, 3) maps %q; want %q", got, "234")
	}
}
