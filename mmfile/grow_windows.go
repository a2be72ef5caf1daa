package mmfile

import (
	"errors"
	"os"

	"github.com/mmapkit/mmapkit/internal/errs"
)

// remap maps the new length and unmaps the old view: a view cannot reach
// past the end of the file, so the capacity always equals the size here.
func remap(f *os.File, b []byte, length int, writable bool) ([]byte, error) {
	// The new view first: if it cannot be made, the old one stays, and
	// the mapping never points at memory that is gone.
	nb, err := mapFile(f, 0, length, writable, false, false)
	if err != nil {
		return nil, err
	}
	if err := unmap(b); err != nil {
		return nil, errs.Rollback(err, unmap(nb))
	}
	return nb, nil
}

// errSplitMapping is never returned here: remap maps afresh anyway.
var errSplitMapping = errors.New("split mapping")

// directWrites is off: Windows does not promise that WriteFile is
// coherent with a mapped view of the same file.
const directWrites = false
