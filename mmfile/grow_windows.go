package mmfile

import "errors"

// remap cannot grow a view: a view cannot reach past the end of the file,
// so the capacity always equals the size here, and the caller maps the
// new length before it unmaps the old view.
func remap([]byte, int, bool) ([]byte, error) { return nil, errors.ErrUnsupported }

// directWrites is off: Windows does not promise that WriteFile is
// coherent with a mapped view of the same file.
const directWrites = false
