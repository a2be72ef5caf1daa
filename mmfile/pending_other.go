//go:build !unix && !windows

package mmfile

import "io/fs"

// Without mappings there is no Pending here, and no leftover of one.

func newTempFile(path string) (tempFile, error) {
	return nil, &fs.PathError{Op: "replace", Path: path, Err: ErrUnsupported}
}

func removeLeftover(string) (bool, error) { return false, nil }
