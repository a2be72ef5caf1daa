package mmfile

import (
	"errors"
	"os"
)

// remap unmaps the view and maps the new length: a view cannot reach past
// the end of the file, so the capacity always equals the size here.
func remap(f *os.File, b []byte, length int, writable bool) ([]byte, error) {
	if err := unmap(b); err != nil {
		return nil, err
	}
	return mapFile(f, 0, length, writable, false, false)
}

// errSplitMapping is never returned here: remap maps afresh anyway.
var errSplitMapping = errors.New("split mapping")

// directWrites is off: Windows does not promise that WriteFile is
// coherent with a mapped view of the same file.
const directWrites = false
